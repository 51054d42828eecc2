# SPDX-License-Identifier: ISC
"""Packaging: the Debian package (make deb, lintian, an install into a
throw-away root with dpkg --root, the systemd unit), sd_notify from the
real binary, and the OpenWrt package (the procd init script against
stub procd/UCI functions, the package Makefile in a dry run).

Every part is skipped when its tool (dpkg-deb, lintian, systemd-analyze,
make) is missing. Nothing is installed on this machine: dpkg works on a
root in tmp_path and runs the maintainer scripts chrootless, with
DPKG_ROOT set, as the scripts support.

Run with: /usr/bin/python3 -m pytest -q test/integration/test_packaging.py
"""
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, SLOW, WREN_BIN, free_port

DEBIAN = ROOT / "board" / "debian"
OPENWRT = ROOT / "board" / "openwrt" / "package" / "wren"
TIMEOUT = 120
HOST = os.environ.get("WREN_ARCH", "host") == "host"


def run(cmd, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def need(*tools):
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip(f"{t} not installed")


# --- the Debian package -------------------------------------------------

@pytest.fixture(scope="module")
def deb():
    """`make deb` for the host: the path of the .deb it prints."""
    if not HOST:
        pytest.skip("the host package is built in host runs only")
    if Path(WREN_BIN).parent.name.endswith("-san"):
        # `make SAN=1 integration` passes SAN=1 down to this make: the
        # package would hold the dynamic ASan binary (lintian: no libc
        # dependency). The host run packages the static one.
        pytest.skip("packaged in the host run, not the sanitizer one")
    need("dpkg-deb", "make")
    res = run(["make", "--no-print-directory", "deb"], cwd=ROOT,
              timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    path = ROOT / res.stdout.strip().splitlines()[-1]
    assert path.suffix == ".deb" and path.is_file(), res.stdout
    return path


def deb_field(deb, field):
    return run(["dpkg-deb", "-f", str(deb), field]).stdout.strip()


def test_deb_control(deb):
    assert deb_field(deb, "Package") == "wren"
    assert deb_field(deb, "Architecture") == run(
        ["dpkg", "--print-architecture"]).stdout.strip()
    provides = {p.strip() for p in deb_field(deb, "Provides").split(",")}
    assert provides == {"mail-transport-agent", "imap-server",
                        "pop3-server"}
    # As Debian's postfix: one MTA at a time.
    assert "mail-transport-agent" in deb_field(deb, "Conflicts")
    assert "mail-transport-agent" in deb_field(deb, "Replaces")
    version = deb_field(deb, "Version")
    assert version[0].isdigit() and "-" not in version, version


def test_deb_files(deb, tmp_path):
    res = run(["dpkg-deb", "-c", str(deb)])
    listing = {}
    for line in res.stdout.splitlines():
        mode, owner, *_, name = line.split(None, 5)[:6]
        path = line.split(" ./", 1)[1]
        listing["/" + path.split(" -> ")[0].rstrip("/")] = (
            mode, owner, path.partition(" -> ")[2])
    assert listing["/usr/sbin/wren"][0] == "-rwxr-xr-x"
    assert listing["/usr/sbin/wren"][1] == "root/root"
    # The MTA names as postfix ships them.
    assert listing["/usr/sbin/sendmail"][2] == "wren"
    for link in ("/usr/bin/mailq", "/usr/bin/newaliases",
                 "/usr/lib/sendmail"):
        assert listing[link][2] == "../sbin/sendmail", link
    for f in ("/lib/systemd/system/wren.service",
              "/usr/lib/sysusers.d/wren.conf",
              "/usr/share/doc/wren/copyright",
              "/usr/share/doc/wren/changelog.gz"):
        assert f in listing, f
    run(["dpkg-deb", "-e", str(deb), str(tmp_path / "DEBIAN")])
    conffiles = (tmp_path / "DEBIAN" / "conffiles").read_text().split()
    assert sorted(conffiles) == sorted(
        "/etc/wren/" + n for n in ("wren.conf", "users", "aliases",
                                   "virtual", "senders"))


def test_lintian_no_errors(deb):
    need("lintian")
    res = run(["lintian", "--no-tag-display-limit", str(deb)])
    errors = [ln for ln in res.stdout.splitlines() if ln.startswith("E:")]
    assert errors == [], res.stdout + res.stderr


def make_root(tmp_path):
    """An empty dpkg database and the accounts a base system has."""
    root = tmp_path / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"):
        (root / d).mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text("")
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    (root / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")
    return root


def dpkg(root, *args):
    # adduser is not in the empty root: systemd-sysusers makes the user.
    return run(["dpkg", "--root=" + str(root), "--force-not-root",
                "--force-script-chrootless", "--force-depends",
                "--log=/dev/null", *args])


def passwd_entry(root, name):
    for line in (root / "etc/passwd").read_text().splitlines():
        f = line.split(":")
        if f[0] == name:
            return f
    return None


def test_dpkg_install_purge(deb, tmp_path):
    need("dpkg", "systemd-sysusers")
    if os.geteuid() != 0:
        pytest.skip("the postinst sets owners: root needed")
    root = make_root(tmp_path)
    res = dpkg(root, "-i", str(deb))
    assert res.returncode == 0, res.stdout + res.stderr
    # The service user from sysusers.d, home /var/lib/wren.
    ent = passwd_entry(root, "wren")
    assert ent is not None and ent[5] == "/var/lib/wren", ent
    uid, gid = int(ent[2]), int(ent[3])
    st = (root / "var/lib/wren").stat()
    assert (st.st_uid, st.st_gid) == (uid, gid)
    assert stat.S_IMODE(st.st_mode) == 0o700
    conf = (root / "etc/wren/wren.conf").read_text()
    assert "\ndata_dir = /var/lib/wren\n" in conf
    assert "\nuser = wren\n" in conf
    # Tables compiled; the accounts readable by root and wren only.
    for t in ("users", "aliases", "virtual", "senders"):
        assert (root / f"etc/wren/{t}.cdb").is_file(), t
    for f in ("users", "users.cdb"):
        st = (root / "etc/wren" / f).stat()
        assert stat.S_IMODE(st.st_mode) == 0o640, f
        assert (st.st_uid, st.st_gid) == (0, gid), f
    # The packaged configuration is valid as shipped (wren check reads
    # this machine's /etc/passwd, which has no wren).
    tmp_conf = tmp_path / "check.conf"
    tmp_conf.write_text(conf.replace("\nuser = wren\n", "\nuser =\n"))
    check = run([str(root / "usr/sbin/wren"), "check", "-c",
                 str(tmp_conf)])
    assert check.returncode == 0, check.stdout + check.stderr

    # Configure again (as an upgrade would): the same state.
    res = dpkg(root, "-i", str(deb))
    assert res.returncode == 0, res.stdout + res.stderr
    assert passwd_entry(root, "wren")[2] == str(uid)

    # remove keeps the mail and the configuration, purge does not.
    (root / "var/lib/wren/kept").write_text("mail")
    res = dpkg(root, "-r", "wren")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not (root / "usr/sbin/wren").exists()
    assert (root / "var/lib/wren/kept").exists()
    assert (root / "etc/wren/wren.conf").exists()
    res = dpkg(root, "-P", "wren")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not (root / "var/lib/wren").exists()
    assert not (root / "etc/wren").exists()


def unit_settings(text):
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if line and line[0] not in "#;[" and "=" in line:
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_deb_unit(deb, tmp_path):
    need("systemd-analyze")
    root = tmp_path / "x"
    run(["dpkg-deb", "-x", str(deb), str(root)])
    text = (root / "lib/systemd/system/wren.service").read_text()
    s = unit_settings(text)
    assert s["Type"] == ["notify"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s["ProtectHome"] == ["read-only"]
    assert s["ReadWritePaths"] == ["/var/lib/wren"]
    # The extracted binary stands in for /usr/sbin/wren.
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    (unit_dir / "wren.service").write_text(
        text.replace("/usr/sbin/wren", str(root / "usr/sbin/wren")))
    res = run(["systemd-analyze", "verify", "--man=no",
               str(unit_dir / "wren.service")], cwd=unit_dir)
    ours = [ln for ln in (res.stdout + res.stderr).splitlines()
            if "wren.service" in ln]
    assert ours == [] and res.returncode == 0, res.stdout + res.stderr


# --- sd_notify from the real binary -------------------------------------

class Manager:
    """The service manager's side: a datagram socket the server is told
    about in NOTIFY_SOCKET (a path, or an abstract name)."""

    def __init__(self, tmp_path, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"wren-test-notify-{os.getpid()}-{id(self)}"
            self.sock.bind("\0" + name)
            self.addr = "@" + name
        else:
            self.addr = str(tmp_path / "notify")
            self.sock.bind(self.addr)

    def next(self, timeout=10):
        self.sock.settimeout(timeout * SLOW)
        return self.sock.recv(4096).decode()

    def quiet(self):
        self.sock.settimeout(0)
        try:
            return self.sock.recv(4096).decode()
        except BlockingIOError:
            return None

    def close(self):
        self.sock.close()


def banner(port):
    with socket.create_connection(("127.0.0.1", port),
                                  timeout=5 * SLOW) as c:
        return c.recv(512)


@pytest.mark.parametrize("abstract", [False, True],
                         ids=["path", "abstract"])
def test_sd_notify(wren, tmp_path, monkeypatch, abstract):
    mgr = Manager(tmp_path, abstract)
    port = free_port()
    w = wren(smtp_listen=f"127.0.0.1:{port}")
    monkeypatch.setenv("NOTIFY_SOCKET", mgr.addr)
    w.start(ready=None)
    try:
        assert mgr.next() == "READY=1"
        # READY means serving: the port answers at once.
        assert banner(port).startswith(b"220 ")
        assert "wren started" in w.log()
        w.send(signal.SIGHUP)
        assert mgr.next() == "RELOADING=1"
        assert mgr.next() == "READY=1"
        assert "reload done" in w.log()
        w.send(signal.SIGTERM)
        assert mgr.next() == "STOPPING=1"
        assert w.stop() == 0
        assert mgr.quiet() is None
    finally:
        mgr.close()


def test_sd_notify_refused_reload(wren, tmp_path, monkeypatch):
    """A bad config on SIGHUP: the old one stays and so does READY."""
    mgr = Manager(tmp_path)
    port = free_port()
    w = wren(smtp_listen=f"127.0.0.1:{port}")
    monkeypatch.setenv("NOTIFY_SOCKET", mgr.addr)
    w.start(ready=None)
    try:
        assert mgr.next() == "READY=1"
        w.write_config("no_such_key = 1\n")
        w.send(signal.SIGHUP)
        assert mgr.next() == "RELOADING=1"
        assert mgr.next() == "READY=1"
        assert "reload refused" in w.log()
        assert banner(port).startswith(b"220 ")
        w.stop()
    finally:
        mgr.close()


def test_sd_notify_failed_bind(wren, tmp_path, monkeypatch):
    """A port already taken: exit 1 and never READY, so that systemd
    sees a failed start (Type=simple would have called it started)."""
    mgr = Manager(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        w = wren(smtp_listen=f"127.0.0.1:{port}")
        monkeypatch.setenv("NOTIFY_SOCKET", mgr.addr)
        w.start(ready=None)
        assert w.wait() == 1
    assert mgr.quiet() is None
    w.log_fd.close()
    mgr.close()


def test_sd_notify_stop_time(wren, tmp_path, monkeypatch):
    """Stop with an idle client connected: STOPPING=1, then the exit,
    within the OpenWrt init script's term_timeout (5 s). Printed, not
    asserted against the clock beyond that bound."""
    mgr = Manager(tmp_path)
    port = free_port()
    w = wren(smtp_listen=f"127.0.0.1:{port}")
    monkeypatch.setenv("NOTIFY_SOCKET", mgr.addr)
    w.start(ready=None)
    try:
        assert mgr.next() == "READY=1"
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.recv(512)
            t0 = time.monotonic()
            w.send(signal.SIGTERM)
            assert mgr.next() == "STOPPING=1"
            assert w.stop(timeout=5) == 0
            print(f"stop with an idle client: "
                  f"{time.monotonic() - t0:.3f} s")
    finally:
        mgr.close()


# --- OpenWrt: the init script against stub procd and UCI ---------------

# /lib/functions.sh: the UCI part, as OpenWrt's: config files are shell
# (config/option/list) read into CONFIG_<section>_<option>.
FUNCTIONS_SH = r"""
config() {
	CONFIG_SECTION="${2:-cfg$$}"
	eval "CONFIG_${CONFIG_SECTION}_TYPE=\$1"
	CONFIG_SECTIONS="$CONFIG_SECTIONS $CONFIG_SECTION"
}
option() {
	eval "CONFIG_${CONFIG_SECTION}_$1=\$2"
}
list() {
	eval "_old=\${CONFIG_${CONFIG_SECTION}_$1:-}"
	if [ -n "$_old" ]; then
		eval "CONFIG_${CONFIG_SECTION}_$1=\"\$_old \$2\""
	else
		eval "CONFIG_${CONFIG_SECTION}_$1=\$2"
	fi
}
config_load() {
	CONFIG_SECTIONS=""
	. "$UCI_CONFIG_DIR/$1"
}
config_get() {
	eval "$1=\${CONFIG_$2_$3:-\$4}"
}
logger() {
	echo "logger $*" >> "$PROCD_LOG"
}
"""

# /lib/functions/procd.sh: records every call; uci_validate_section
# does what validate_data does for the types the script uses.
PROCD_SH = r"""
_procd() { echo "$*" >> "$PROCD_LOG"; }
procd_open_instance() { _procd open_instance "$@"; }
procd_close_instance() { _procd close_instance; }
procd_set_param() { _procd set_param "$@"; }
procd_add_jail() { _procd add_jail "$@"; }
procd_add_jail_mount() { _procd add_jail_mount "$@"; }
procd_add_jail_mount_rw() { _procd add_jail_mount_rw "$@"; }
procd_add_reload_trigger() { _procd add_reload_trigger "$@"; }
procd_add_validation() { _procd add_validation "$@"; }
procd_add_restart_mount_trigger() { _procd add_mount_trigger "$@"; }
procd_send_signal() { _procd send_signal "$@"; }
uci_validate_section() {
	_pkg=$1 _sec=$3
	shift 3
	_bad=0
	for _spec in "$@"; do
		_name=${_spec%%:*}
		_rest=${_spec#*:}
		_type=${_rest%%:*}
		_def=
		[ "$_rest" != "$_type" ] && _def=${_rest#*:}
		config_get "$_name" "$_sec" "$_name" "$_def"
		eval "_val=\$$_name"
		case "$_type:$_val" in
		bool:|bool:0|bool:1|uinteger:) ;;
		bool:*) _bad=1 ;;
		uinteger:*[!0-9]*) _bad=1 ;;
		esac
	done
	[ "$_bad" = 0 ]
}
"""

UCI = """\
config wren 'main'
	option enabled '1'
	option hostname 'mx.example.net'
	list domains 'example.net'
	list domains 'example.org'
	option data_dir '{data}'
	option mail_home '{data}/%d/%n'
	list smtp_listen '127.0.0.1:{port}'
	list smtp_listen '[::1]:{port}'
	option submission_listen ''
	option relayhost '[smtp.example.com]:587'
	option open_firewall '0'
"""


@pytest.fixture
def openwrt(tmp_path):
    """Runs `/etc/init.d/wren FUNCTION...` against the stubs; returns
    (call(*functions) -> CompletedProcess, conf path, procd log path,
    the UCI file)."""
    need("sh", "awk")
    lib = tmp_path / "lib"
    (lib / "functions").mkdir(parents=True)
    (lib / "functions.sh").write_text(FUNCTIONS_SH)
    (lib / "functions" / "procd.sh").write_text(PROCD_SH)
    (tmp_path / "config").mkdir()
    (tmp_path / "etc").mkdir()
    (tmp_path / "data").mkdir()
    conf = tmp_path / "etc" / "wren.conf"
    shipped = (OPENWRT / "files" / "wren.conf").read_text()
    # A stale hand-made line that UCI now owns, and one it does not.
    conf.write_text(shipped + "hostname = old.example.net\n"
                    "message_size_limit = 10m\n")
    uci = tmp_path / "config" / "wren"
    uci.write_text(UCI.format(data=tmp_path / "data", port=free_port()))
    log = tmp_path / "procd.log"
    # Paths in the shipped example that do not exist here.
    env = dict(os.environ, UCI_CONFIG_DIR=str(tmp_path / "config"),
               PROCD_LOG=str(log), WREN_CONF=str(conf),
               WREN_PROG=WREN_BIN if HOST else "true")

    def call(*functions):
        script = (f". {lib}/functions.sh; . {lib}/functions/procd.sh; "
                  f". {OPENWRT}/files/wren.init; "
                  + "; ".join(functions))
        return run(["sh", "-c", script], env=env, timeout=30 * SLOW)

    return call, conf, log, uci


def block(text):
    begin = text.index("# --- from /etc/config/wren")
    end = text.index("# --- end of /etc/config/wren")
    return text[begin:end].splitlines()[1:]


def test_openwrt_init_renders(openwrt, tmp_path):
    call, conf, log, _ = openwrt
    res = call("start_service", "service_triggers")
    assert res.returncode == 0, res.stdout + res.stderr
    text = conf.read_text()
    port = int(text.split("smtp_listen = 127.0.0.1:")[1].split()[0])
    data = tmp_path / "data"
    assert block(text) == [
        "hostname = mx.example.net",
        "domains = example.net example.org",
        f"data_dir = {data}",
        f"mail_home = {data}/%d/%n",
        f"smtp_listen = 127.0.0.1:{port} [::1]:{port}",
        "relayhost = [smtp.example.com]:587",
    ]
    # UCI wins over the file's own line; other keys are left alone.
    assert "old.example.net" not in text
    assert "\nmessage_size_limit = 10m\n" in text
    assert text.startswith((OPENWRT / "files" / "wren.conf").read_text())
    calls = log.read_text().splitlines()
    assert calls[0] == "open_instance"
    assert f"set_param command {WREN_BIN if HOST else 'true'} serve " \
        f"-c {conf}" in calls
    assert "set_param term_timeout 5" in calls
    assert "close_instance" in calls
    assert "add_reload_trigger wren" in calls
    assert "add_validation validate_wren_section" in calls
    assert f"add_mount_trigger {data}" in calls


def test_openwrt_init_idempotent(openwrt):
    call, conf, _, uci = openwrt
    assert call("start_service").returncode == 0
    first = conf.read_text()
    mtime = conf.stat().st_mtime_ns
    time.sleep(0.01)
    assert call("start_service").returncode == 0
    # Unchanged content is not rewritten (the file is on flash).
    assert conf.read_text() == first and conf.stat().st_mtime_ns == mtime
    # An option taken out of UCI leaves the block.
    uci.write_text(uci.read_text().replace(
        "\toption relayhost '[smtp.example.com]:587'\n", ""))
    res = call("reload_service")
    assert res.returncode == 0, res.stdout + res.stderr
    text = conf.read_text()
    assert "relayhost = [smtp" not in text
    assert text.count("# --- from /etc/config/wren") == 1


def test_openwrt_init_reload_signals(openwrt):
    call, _, log, _ = openwrt
    res = call("reload_service")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "send_signal wren * HUP" in log.read_text().splitlines()


def test_openwrt_init_invalid(openwrt):
    call, conf, log, uci = openwrt
    before = conf.read_text()
    uci.write_text(uci.read_text().replace("option enabled '1'",
                                           "option enabled 'maybe'"))
    res = call("start_service")
    assert res.returncode != 0
    assert "invalid" in res.stderr
    assert conf.read_text() == before
    assert "open_instance" not in log.read_text()


def test_openwrt_init_disabled(openwrt):
    call, _, log, uci = openwrt
    uci.write_text(uci.read_text().replace("option enabled '1'",
                                           "option enabled '0'"))
    res = call("start_service")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not log.exists() or "open_instance" not in log.read_text()


def test_openwrt_init_bad_wren_conf(openwrt):
    """wren check refuses the result: no instance, the reason logged."""
    if not HOST:
        pytest.skip("runs wren check on the host")
    call, conf, log, uci = openwrt
    uci.write_text(uci.read_text().replace(
        "list smtp_listen '[::1]", "list smtp_listen 'nonsense[::1]"))
    res = call("start_service")
    assert res.returncode != 0
    calls = log.read_text()
    assert "open_instance" not in calls
    assert "logger -t wren -p mail.err not (re)loaded" in calls


# --- OpenWrt: the firewall uci-defaults against a stub uci ------------

UCI_STUB = r"""#!/bin/sh
# uci stub: `get` from $UCI_STATE (lines key=value), the rest logged.
echo "$*" >> "$UCI_LOG"
[ "$1" = -q ] && shift
case "$1" in
get) grep -q "^$2=" "$UCI_STATE" || exit 1
     sed -n "s/^$2=//p" "$UCI_STATE" ;;
batch) cat >> "$UCI_LOG" ;;
esac
exit 0
"""


@pytest.mark.parametrize("asked", [False, True], ids=["off", "on"])
def test_openwrt_firewall(tmp_path, asked):
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "uci").write_text(UCI_STUB)
    (stub / "uci").chmod(0o755)
    state = tmp_path / "state"
    state.write_text("wren.main.open_firewall=%d\n" % asked)
    log = tmp_path / "uci.log"
    env = dict(os.environ, PATH=f"{stub}:{os.environ['PATH']}",
               UCI_STATE=str(state), UCI_LOG=str(log))
    res = run(["sh", str(OPENWRT / "files" / "wren-firewall")], env=env)
    assert res.returncode == 0, res.stderr
    text = log.read_text() if log.exists() else ""
    if not asked:
        assert "set firewall" not in text and "commit" not in text
        return
    for port in (25, 465, 587, 993):
        assert f".dest_port='{port}'" in text, port
    assert "set firewall.wren_smtp.src='wan'" in text
    assert text.rstrip().endswith("commit firewall")
    # A second run with the rules present adds nothing.
    state.write_text(state.read_text() + "".join(
        f"firewall.wren_{n}=rule\n"
        for n in ("smtp", "submissions", "submission", "imaps")))
    log.unlink()
    res = run(["sh", str(OPENWRT / "files" / "wren-firewall")], env=env)
    assert res.returncode == 0
    assert "set firewall" not in log.read_text()


# --- OpenWrt: the package Makefile in a dry run -------------------------

RULES_MK = """\
BUILD_DIR:=$(TOPDIR)/build_dir
TARGET_CROSS:=mipsel-openwrt-linux-musl-
TARGET_CC:=$(TARGET_CROSS)gcc
TARGET_AR:=$(TARGET_CROSS)gcc-ar
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
LN:=ln -sf
"""

# Prints the metadata the feed's tools read, then one target per phase.
PACKAGE_MK = """\
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
define BuildPackage
$$(eval $$(Package/$(1)))
$$(info PKG_VERSION=$(PKG_VERSION))
$$(info PKG_LICENSE=$(PKG_LICENSE))
$$(info PKG_LICENSE_FILES=$(PKG_LICENSE_FILES))
$$(info PKG_MAINTAINER=$(PKG_MAINTAINER))
$$(info PKG_SOURCE=$(PKG_SOURCE) PKG_HASH=$(PKG_HASH))
$$(info CONFLICTS=$$(CONFLICTS))
$$(info ALTERNATIVES=$$(strip $$(ALTERNATIVES)))
$$(info CONFFILES=$$(strip $$(Package/$(1)/conffiles)))
install:
\t$$(call Package/$(1)/install,$(TOPDIR)/ipkg-$(1))
endef
"""


@pytest.fixture
def openwrt_make(tmp_path):
    need("make")
    (tmp_path / "include").mkdir()
    (tmp_path / "rules.mk").write_text(RULES_MK)
    (tmp_path / "include" / "package.mk").write_text(PACKAGE_MK)
    res = run(["make", "-n", "-f", str(OPENWRT / "Makefile"),
               "TOPDIR=" + str(tmp_path),
               "INCLUDE_DIR=" + str(tmp_path / "include"), "install"],
              cwd=OPENWRT)
    assert res.returncode == 0, res.stdout + res.stderr
    info = {}
    for line in res.stdout.splitlines():
        key, eq, value = line.partition("=")
        if eq and key.isupper():
            info.setdefault(key, value)
    return info, res.stdout


def release():
    """RELEASE in the top Makefile: the one place the version is."""
    m = re.search(r"^RELEASE := *(\S+)", (ROOT / "Makefile").read_text(),
                  re.M)
    return m.group(1)


def test_openwrt_metadata(openwrt_make):
    info, _ = openwrt_make
    assert info["PKG_LICENSE"] == "ISC"
    assert info["PKG_LICENSE_FILES"] == "LICENSE"
    assert "<" in info["PKG_MAINTAINER"] and "@" in info["PKG_MAINTAINER"]
    assert info["PKG_VERSION"] == release()
    # No download: the source is this tree (PKG_SOURCE needs PKG_HASH).
    src, _, hash_ = info["PKG_SOURCE"].partition(" PKG_HASH=")
    assert bool(src) == bool(hash_), info["PKG_SOURCE"]


def test_openwrt_alternatives(openwrt_make):
    info, out = openwrt_make
    assert info["CONFLICTS"] == ""
    alts = info["ALTERNATIVES"].split()
    links = {a.split(":")[1]: a.split(":")[2] for a in alts}
    assert links == {p: "/usr/sbin/wren" for p in (
        "/usr/sbin/sendmail", "/usr/lib/sendmail", "/usr/bin/mailq",
        "/usr/bin/newaliases")}
    assert all(a.split(":")[0].isdigit() for a in alts)
    # The links are opkg's to make, not the package's.
    assert "/usr/sbin/sendmail" not in out.split("ALTERNATIVES=")[0]
    assert "ln -sf" not in out


def test_openwrt_conffiles_and_files(openwrt_make):
    info, out = openwrt_make
    assert set(info["CONFFILES"].split()) == {"/etc/config/wren",
                                              "/etc/wren/"}
    for needle in ("files/wren.uci", "/etc/config/wren",
                   "files/wren.uci-defaults", "/etc/uci-defaults/95-wren",
                   "files/wren-firewall", "/usr/libexec/wren-firewall",
                   "files/wren.init", "/etc/init.d/wren"):
        assert needle in out, needle


def test_board_scripts_are_shellchecked():
    """test_board.py runs shellcheck on every shell script under board/;
    the packaging scripts must be among them."""
    from test_board import shell_scripts
    found = set(shell_scripts())
    for p in (DEBIAN / "postinst", DEBIAN / "prerm", DEBIAN / "postrm",
              DEBIAN / "mkdeb.sh", OPENWRT / "files" / "wren.init",
              OPENWRT / "files" / "wren-firewall",
              OPENWRT / "files" / "wren.uci-defaults"):
        assert p in found, p
