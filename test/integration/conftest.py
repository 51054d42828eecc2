# SPDX-License-Identifier: ISC
"""Fixtures that run the real wren binary.

The binary is $WREN_BIN (default build/host/wren), run under $WREN_RUN
(e.g. "qemu-arm-static") for cross builds. Each server gets its own
config in the test's tmp_path, free loopback ports, logs to a file, and
is stopped by PID at teardown; its log is printed when a test fails.
"""
import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WREN_BIN = os.environ.get("WREN_BIN", str(ROOT / "build/host/wren"))
WREN_RUN = shlex.split(os.environ.get("WREN_RUN", ""))
# QEMU user-mode emulation is several times slower: scale the waits.
SLOW = 5 if WREN_RUN else 1
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer")


def wren_cmd(*args):
    return WREN_RUN + [WREN_BIN, *args]


def run_wren(*args, timeout=30, **kw):
    """Runs a short wren command (check, --help); returns CompletedProcess."""
    return subprocess.run(wren_cmd(*args), capture_output=True, text=True,
                          timeout=timeout * SLOW, **kw)


_PORTS_GIVEN = set()


def free_port():
    """A loopback port nothing listens on now, never one given before in
    this run: the kernel may hand a just-closed port out again, and two
    listeners of one server then get the same port (a CI failure)."""
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port
    raise RuntimeError("no loopback port left that was not given out")


class Wren:
    """One `wren serve` process with its config, data dir and log."""

    def __init__(self, workdir, **keys):
        self.dir = Path(workdir)
        self.conf = self.dir / "wren.conf"
        self.logfile = self.dir / "wren.log"
        self.keys = {
            "hostname": "mail.example.test",
            "domains": "example.test",
            "data_dir": str(self.dir / "data"),
            "mail_home": str(self.dir / "mail/%d/%n"),
            "users": str(self.dir / "users"),
            "aliases": str(self.dir / "aliases"),
            "virtual": str(self.dir / "virtual"),
            "sender_logins": str(self.dir / "senders"),
            "smtp_listen": "", "submission_listen": "",
            "submissions_listen": "", "imap_listen": "",
            "imaps_listen": "", "pop3_listen": "", "pop3s_listen": "",
            "user": "", "log": "stderr", "log_level": "info",
            # No test reaches a real resolver: mail for other domains
            # stays queued (deferred) unless a test brings its own DNS.
            "dns_servers": "127.0.0.1:9",
            # The greeting is not held for clients outside mynetworks
            # (INBOUND_CHECKS): tests of the delay set it themselves.
            "greet_delay": "0",
        }
        self.keys.update(keys)
        self.proc = None
        self.write_config()

    def write_config(self, text=None):
        if text is None:
            text = "".join(f"{k} = {v}\n" for k, v in self.keys.items())
        tmp = self.conf.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.conf)

    def start(self, ready="wren started", timeout=10):
        self.log_fd = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            wren_cmd("serve", "-c", str(self.conf)),
            stdin=subprocess.DEVNULL, stdout=self.log_fd,
            stderr=subprocess.STDOUT)
        if ready:
            self.wait_log(ready, timeout)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=10, start=0):
        """Waits until `text` appears in the log after offset `start`."""
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            if text in self.log()[start:]:
                return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"wren exited ({self.proc.returncode}) before "
                    f"logging {text!r}:\n{self.log()}")
            time.sleep(0.02)
        raise AssertionError(f"no {text!r} in the log:\n{self.log()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10):
        return self.proc.wait(timeout=timeout * SLOW)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops by signal, returns the exit status; fails on any
        sanitizer report in the log."""
        if self.alive():
            self.proc.send_signal(sig)
        rc = self.wait(timeout)
        self.log_fd.close()
        log = self.log()
        for mark in SANITIZER_MARKS:
            assert mark not in log, log
        return rc

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10 * SLOW)
        if self.proc is not None and not self.log_fd.closed:
            self.log_fd.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def wren(tmp_path, request):
    """Factory: wren(**keys) -> a Wren (not started)."""
    made = []

    def make(**keys):
        d = tmp_path / f"w{len(made)}"
        d.mkdir()
        w = Wren(d, **keys)
        made.append(w)
        return w

    yield make
    failed = getattr(request.node, "rep_call", None)
    for w in made:
        if failed is not None and failed.failed:
            print(f"--- log of wren in {w.dir} ---\n{w.log()}")
        w.kill()


# --- a private Dovecot instance, for interoperability tests ----------


def dovecot_available():
    """Dovecot's binaries are there and we may start it (as root)."""
    import shutil
    return bool(shutil.which("dovecot") and shutil.which("doveadm")) \
        and os.geteuid() == 0


class PrivateDovecot:
    """`dovecot -c CONF` in dir (which Dovecot's unprivileged processes
    must be able to reach: a world-traversable directory under /tmp, not
    pytest's tmp_path). No listeners: doveadm talks to it over its own
    sockets in dir/run."""

    def __init__(self, dir, passdb_file, home, mail_location=""):
        self.dir = Path(dir)
        self.run = self.dir / "run"
        self.conf = self.dir / "dovecot.conf"
        (self.dir / "state").mkdir(exist_ok=True)
        self.conf.write_text(f"""
base_dir = {self.run}
state_dir = {self.dir}/state
instance_name = wren-{self.dir.name}
protocols =
log_path = {self.dir}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
auth_mechanisms = plain
ssl = no
{f"mail_location = {mail_location}" if mail_location else ""}
passdb {{
  driver = passwd-file
  args = {passdb_file}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={home}
}}
""")

    def __enter__(self):
        subprocess.run(["dovecot", "-c", str(self.conf)], check=True,
                       timeout=30)
        deadline = time.monotonic() + 10 * SLOW
        while not (self.run / "master.pid").exists():
            assert time.monotonic() < deadline, "dovecot did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        try:
            pid = int((self.run / "master.pid").read_text())
        except (FileNotFoundError, ValueError):
            return
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)

    def doveadm(self, *args, done=None):
        """Runs doveadm; retried while the auth service is starting
        (until done(output) is true, or a zero exit without done)."""
        for _ in range(50):
            p = subprocess.run(["doveadm", "-c", str(self.conf), *args],
                               capture_output=True, text=True, timeout=30)
            out = p.stdout + p.stderr
            if (done(out) if done else p.returncode == 0):
                return p
            time.sleep(0.1)
        raise AssertionError(out)


# --- a raw SMTP client, for exact replies and hostile input --------


class SMTPClient:
    """A raw SMTP connection: send bytes, read and check replies."""

    def __init__(self, port, source=None, timeout=10):
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout * SLOW,
            source_address=(source, 0) if source else None)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """(code, text): a whole reply, multi-line ones joined by \\n."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        return int(lines[-1][:3]), "\n".join(x[4:] for x in lines)

    def expect(self, code, text=None):
        got, msg = self.reply()
        assert got == code, f"expected {code} {text or ''}, got {got} {msg}"
        if text is not None:
            assert text in msg, f"{text!r} not in {got} {msg!r}"
        return msg

    def cmd(self, line, code, text=None):
        self.send(line + "\r\n")
        return self.expect(code, text)

    def closed(self):
        """True when the server has closed with nothing more to say."""
        try:
            data = self.sock.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            return True
        return data == b"" and self.buf == b""

    def close(self):
        self.sock.close()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_runner: needs the queue runner in wren serve "
        "(never skipped)")
