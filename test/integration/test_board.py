# SPDX-License-Identifier: ISC
"""Checks for the board support files (board/rpi, board/openwrt).

Run with: /usr/bin/python3 -m pytest -q test/integration/test_board.py
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOARD = ROOT / "board"
UNIT = BOARD / "rpi" / "wren.service"
PKG = BOARD / "openwrt" / "package" / "wren"
INIT = PKG / "files" / "wren.init"
TIMEOUT = 60


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True,
                          timeout=TIMEOUT, **kw)


def shell_scripts():
    """Every shell script under board/: *.sh or a sh/rc.common shebang."""
    found = []
    for path in sorted(BOARD.rglob("*")):
        if not path.is_file():
            continue
        with path.open("rb") as f:
            first = f.readline(200)
        shebang = re.match(rb"#!\s*(\S+)(?:\s+(\S+))?", first)
        if path.suffix == ".sh" or (shebang and (
                shebang.group(1).endswith((b"/sh", b"/ash", b"/bash"))
                or shebang.group(2) in (b"sh", b"bash"))):
            found.append(path)
    return found


# --- shellcheck -------------------------------------------------------

def test_scripts_found():
    assert INIT in shell_scripts()


@pytest.mark.parametrize("script", shell_scripts(),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_shellcheck(script):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed")
    # `#!/bin/sh /etc/rc.common` scripts are sourced by a POSIX/ash sh.
    res = run(["shellcheck", "-s", "sh", "-x", str(script)], cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


def test_init_script_procd():
    text = INIT.read_text()
    assert text.startswith("#!/bin/sh /etc/rc.common\n")
    for needle in ("START=60", "USE_PROCD=1",
                   "procd_set_param command /usr/sbin/wren serve -c",
                   "procd_set_param respawn", "procd_set_param file",
                   "reload_service()", "HUP"):
        assert needle in text.replace('"$PROG"', "/usr/sbin/wren") \
            .replace('"$CONF"', "/etc/wren/wren.conf"), needle


# --- systemd unit -----------------------------------------------------

def unit_settings():
    settings = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line and line[0] not in "#;[" and "=" in line:
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_unit_contents():
    s = unit_settings()
    assert s["ExecStart"] == ["/usr/sbin/wren serve -c /etc/wren/wren.conf"]
    assert s["ExecStartPre"] == [
        "/usr/sbin/wren check -c /etc/wren/wren.conf"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s["Type"] == ["notify"] and s["Restart"] == ["on-failure"]
    assert s["ProtectHome"] == ["read-only"]
    assert s["NoNewPrivileges"] == ["yes"]
    assert s["ProtectSystem"] == ["strict"]
    assert "/srv/mail" in s["ReadWritePaths"][0].split()
    assert "/etc/wren" not in " ".join(s["ReadWritePaths"])
    # Either wren drops root itself (no User=) or User= with the bind
    # capability; never root without a way to bind low ports.
    if "User" in s:
        assert s["User"] != ["root"]
        assert "CAP_NET_BIND_SERVICE" in " ".join(
            s.get("AmbientCapabilities", []))
    else:
        caps = " ".join(s["CapabilityBoundingSet"]).split()
        assert {"CAP_NET_BIND_SERVICE", "CAP_SETUID",
                "CAP_SETGID"} <= set(caps)


def analyze(unit_dir, name):
    return run(["systemd-analyze", "verify", "--man=no",
                str(unit_dir / name)], cwd=unit_dir)


def our_lines(res, name):
    out = (res.stdout + res.stderr).splitlines()
    return [ln for ln in out if name in ln]


def test_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not available")
    # /usr/sbin/wren is not installed here: point the unit at a binary
    # that exists; everything else is verified as written.
    true = shutil.which("true")
    text = UNIT.read_text().replace("/usr/sbin/wren", true)
    (tmp_path / "wren.service").write_text(text)
    # Control: a broken copy must be reported, or the check is void.
    (tmp_path / "broken.service").write_text(
        text.replace("Type=notify", "Type=bogus"))
    broken = analyze(tmp_path, "broken.service")
    if not our_lines(broken, "broken.service"):
        pytest.skip("systemd-analyze verify reports nothing here: "
                    + broken.stdout + broken.stderr)
    res = analyze(tmp_path, "wren.service")
    assert our_lines(res, "wren.service") == [], res.stdout + res.stderr
    assert res.returncode == 0, res.stdout + res.stderr


# --- OpenWrt package Makefile -----------------------------------------

RULES_MK = """\
BUILD_DIR:=$(TOPDIR)/build_dir
STAGING_DIR:=$(TOPDIR)/staging_dir
TARGET_CROSS:=mipsel-openwrt-linux-musl-
TARGET_CC:=$(TARGET_CROSS)gcc
TARGET_AR:=$(TARGET_CROSS)gcc-ar
TARGET_CFLAGS:=-Os -pipe
TARGET_CPPFLAGS:=-I$(STAGING_DIR)/usr/include
TARGET_LDFLAGS:=-L$(STAGING_DIR)/usr/lib
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
LN:=ln -sf
CP:=cp -fpR
"""

# Stand-in for OpenWrt's package.mk: same phases, one target each.
PACKAGE_MK = """\
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
define BuildPackage
$$(eval $$(Package/$(1)))
$$(foreach f,TITLE CATEGORY SECTION,\
$$(if $$($$(f)),,$$(error Package/$(1) is missing $$(f))))
$$(info SECTION=$$(SECTION) CATEGORY=$$(CATEGORY))
$$(info CONFFILES=$$(strip $$(Package/$(1)/conffiles)))
$$(info WREN_SRC=$$(WREN_SRC))
prepare:
\t$$(Build/Prepare)
configure: prepare
\t$$(Build/Configure)
compile: configure
\t$$(Build/Compile)
install: compile
\t$$(call Package/$(1)/install,$(TOPDIR)/ipkg-$(1))
endef
"""


@pytest.fixture
def openwrt_make(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make not installed")
    (tmp_path / "include").mkdir()
    (tmp_path / "rules.mk").write_text(RULES_MK)
    (tmp_path / "include" / "package.mk").write_text(PACKAGE_MK)
    res = run(["make", "-n", "-f", str(PKG / "Makefile"),
               "TOPDIR=" + str(tmp_path),
               "INCLUDE_DIR=" + str(tmp_path / "include"),
               "prepare", "configure", "compile", "install"],
              cwd=PKG)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_openwrt_makefile_metadata(openwrt_make):
    assert "SECTION=mail CATEGORY=Mail" in openwrt_make
    # All of /etc/wren and the UCI file (test_packaging.py has more).
    assert "CONFFILES=/etc/config/wren /etc/wren/" in openwrt_make
    assert "WREN_SRC=%s\n" % ROOT in openwrt_make


def test_openwrt_makefile_compile(openwrt_make):
    compile_line = [ln for ln in openwrt_make.replace("\\\n", " ")
                    .splitlines() if "ARCH=custom" in ln]
    assert len(compile_line) == 1, openwrt_make
    line = compile_line[0]
    assert "DEFCONFIG=board/openwrt/defconfig" in line
    assert 'CC="mipsel-openwrt-linux-musl-gcc"' in line
    assert 'STRIP="mipsel-openwrt-linux-musl-strip"' in line
    assert "bearssl" in line and "cdb" in line


def test_openwrt_makefile_install(openwrt_make):
    # sendmail, mailq and newaliases are ALTERNATIVES (opkg makes the
    # links; test_packaging.py checks them).
    for needle in ("build/custom/wren", "/usr/sbin/wren",
                   "/etc/init.d/wren", "files/wren.conf",
                   "/etc/wren/wren.conf"):
        assert needle in openwrt_make, needle


def test_openwrt_makefile_tabs():
    """Recipe lines in defines must start with a tab, never spaces."""
    text = (PKG / "Makefile").read_text()
    for block in re.findall(r"^define (Build/\S+|Package/\S+/install)\n"
                            r"(.*?)^endef", text, re.M | re.S):
        for line in block[1].splitlines():
            assert not line or line.startswith("\t"), (block[0], line)
