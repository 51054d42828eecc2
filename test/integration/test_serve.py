# SPDX-License-Identifier: ISC
"""`wren serve`: start-up, signals, reload, privileges, data_dir."""
import os
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import SLOW, run_wren, wren_cmd


def test_sigterm_stops_cleanly_with_status_0(wren):
    w = wren().start()
    assert w.alive()
    assert w.stop(signal.SIGTERM) == 0
    assert "stopping: no new connections" in w.log()
    assert "wren stopped" in w.log()


def test_sigterm_with_nobody_connected_takes_no_grace(wren):
    """shutdown_timeout = 60 is never waited for when no work is in
    flight, and the stop line says the bound."""
    w = wren(shutdown_timeout="60").start()
    w.send(signal.SIGTERM)
    assert w.wait(10) == 0      # generous, and scaled still under 60 s
    assert w.stop() == 0
    assert "0 in progress, at most 60 s" in w.log()


def test_shutdown_timeout_is_taken_on_reload(wren):
    """A stalled SMTP DATA holds the stop for shutdown_timeout as the
    last reload set it (60 -> 1)."""
    from conftest import SMTPClient, free_port
    port = free_port()
    w = wren(shutdown_timeout="60", smtp_listen=f"127.0.0.1:{port}",
             mynetworks="127.0.0.1/32").start()
    w.write_config(w.conf.read_text().replace("shutdown_timeout = 60",
                                              "shutdown_timeout = 1"))
    mark = len(w.log())
    w.send(signal.SIGHUP)
    w.wait_log("reload done", start=mark)
    c = SMTPClient(port)
    c.expect(220)
    c.cmd("EHLO client.example", 250)
    c.cmd("MAIL FROM:<>", 250)
    c.cmd("RCPT TO:<someone@remote.example>", 250)   # relayed
    c.cmd("DATA", 354)
    w.send(signal.SIGTERM)
    assert w.wait(5) == 0
    assert w.stop() == 0
    assert "at most 1 s" in w.log()
    assert "shutdown_timeout over: closing 1 connection" in w.log()


def test_shutdown_timeout_bounds(wren):
    for bad in ("61", "2m", "-1"):
        w = wren(shutdown_timeout=bad)
        p = run_wren("check", "-c", str(w.conf))
        assert p.returncode != 0 and "shutdown_timeout" in p.stderr, bad


def test_sigint_stops_cleanly_with_status_0(wren):
    w = wren().start()
    assert w.stop(signal.SIGINT) == 0
    assert "wren stopped" in w.log()


def test_sighup_with_broken_config_keeps_old_one(wren):
    w = wren().start()
    good = w.conf.read_text()
    w.write_config(good + "max_connections = lots\n")
    mark = len(w.log())
    w.send(signal.SIGHUP)
    w.wait_log("reload refused", start=mark)
    assert "max_connections: expected a number, got 'lots'" in w.log()
    assert w.alive()
    # A good file is taken on the next SIGHUP: debug lines appear.
    w.write_config(good.replace("log_level = info", "log_level = debug"))
    mark = len(w.log())
    w.send(signal.SIGHUP)
    w.wait_log("reload done", start=mark)
    assert w.alive()
    assert w.stop() == 0


def test_sighup_reports_keys_that_need_a_restart(wren):
    w = wren(max_connections="16").start()
    w.write_config(w.conf.read_text().replace("max_connections = 16",
                                              "max_connections = 32"))
    mark = len(w.log())
    w.send(signal.SIGHUP)
    w.wait_log("reload done", start=mark)
    assert ("max_connections changed; the new value takes effect after "
            "a restart") in w.log()
    assert w.stop() == 0


def test_repeated_reloads_do_not_disturb_the_server(wren):
    w = wren().start()
    for i in range(20):
        mark = len(w.log())
        w.send(signal.SIGHUP)
        w.wait_log("reload done", start=mark)
    assert w.stop() == 0


def test_bad_config_refuses_to_start(wren):
    w = wren()
    w.write_config(w.conf.read_text() + "smtp_timeout = 5x\n")
    w.start(ready=None)
    assert w.wait() == 1
    assert f"{w.conf}:" in w.log()
    assert "smtp_timeout: expected a duration" in w.log()


def test_missing_config_refuses_to_start(tmp_path):
    p = subprocess.run(wren_cmd("serve", "-c", str(tmp_path / "nope")),
                       capture_output=True, text=True, timeout=10 * SLOW)
    assert p.returncode == 1
    assert "nope: No such file or directory" in p.stderr


def test_data_dir_is_created_owner_only(wren, tmp_path):
    d = tmp_path / "deep" / "er" / "data"
    w = wren(data_dir=str(d)).start()
    st = os.stat(d)
    assert stat.S_ISDIR(st.st_mode)
    # 0700, or 0711 where the maildrop pickup (outbound delivery) lets
    # local users pass through to data_dir/maildrop: never readable.
    served = run_wren("--help").stdout + run_wren("--help").stderr
    kconfig = served.split("selected (Kconfig):")[1].split("\n")[0].split()
    want = 0o711 if "outbound" in kconfig else 0o700
    assert stat.S_IMODE(st.st_mode) == want, oct(st.st_mode)
    assert w.stop() == 0


LISTEN_KEYS = ("smtp_listen", "submission_listen", "submissions_listen",
               "imap_listen", "imaps_listen", "pop3_listen", "pop3s_listen")


def test_listener_of_a_protocol_not_served_yet_is_reported(wren):
    """A *_listen key whose protocol this build does not serve (not
    written yet, or left out in Kconfig) is logged, not bound."""
    served = run_wren("--help").stdout + run_wren("--help").stderr
    served = served.split("listeners served:")[1].split("\n")[0].split()
    missing = [k for k in LISTEN_KEYS if k not in served]
    if not missing:
        pytest.skip("this build serves every listener kind")
    w = wren(**{missing[0]: "127.0.0.1:1"}).start()
    assert (f"{missing[0]}: this version of wren does not serve it yet; "
            "not listening") in w.log()
    assert w.stop() == 0


def proc_ids(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return [int(x) for x in line.split()[1:]]
    raise AssertionError(field)


@pytest.fixture
def public_dir():
    """A directory the unprivileged user can reach (pytest's tmp_path
    is below a root-only directory)."""
    d = Path(tempfile.mkdtemp(prefix="wren-privs-", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch user")
def test_drops_root_to_the_configured_user(wren, public_dir):
    data = public_dir / "spool"
    w = wren(user="nobody", data_dir=str(data))
    w.start()
    uids = proc_ids(w.pid, "Uid")
    gids = proc_ids(w.pid, "Gid")
    nobody = [l for l in open("/etc/passwd") if l.startswith("nobody:")]
    uid, gid = (int(x) for x in nobody[0].split(":")[2:4])
    assert uids == [uid] * 4
    assert gids == [gid] * 4
    st = os.stat(data)
    assert (st.st_uid, st.st_gid) == (uid, gid)
    assert w.stop() == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch user")
def test_numeric_user_and_group(wren, public_dir):
    w = wren(user="4321:4322", data_dir=str(public_dir / "data"))
    w.start()
    assert proc_ids(w.pid, "Uid") == [4321] * 4
    assert proc_ids(w.pid, "Gid") == [4322] * 4
    assert w.stop() == 0


@pytest.mark.parametrize("user", ["root", "0", "0:0"])
def test_refuses_to_run_as_root(wren, user):
    w = wren(user=user).start(ready=None)
    assert w.wait() == 1
    assert "refusing to run the server as root" in w.log()


def test_unknown_user_is_an_error(wren):
    w = wren(user="no-such-user-here").start(ready=None)
    assert w.wait() == 1
    assert "user 'no-such-user-here' not found in /etc/passwd" in w.log()


def test_two_servers_do_not_share_state(wren):
    a = wren().start()
    b = wren().start()
    assert a.pid != b.pid
    assert a.stop() == 0
    assert b.alive()
    assert b.stop() == 0
