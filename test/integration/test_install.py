# SPDX-License-Identifier: ISC
"""`make install DESTDIR=...` produces the documented tree."""
import os
import stat
import subprocess


from conftest import ROOT

ARCH = os.environ.get("WREN_ARCH", "host")


def make_install(dest):
    # Not the sanitizer build, whatever make runs this suite.
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    p = subprocess.run(["make", "-s", "--no-print-directory", f"ARCH={ARCH}",
                        "SAN=0", "install", f"DESTDIR={dest}"], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def test_install_tree(tmp_path):
    make_install(tmp_path)
    sbin = tmp_path / "usr/sbin"
    wren = sbin / "wren"
    assert stat.S_IMODE(wren.stat().st_mode) == 0o755
    for link in ("sendmail", "newaliases"):
        assert os.readlink(sbin / link) == "wren"
    # Where cron, mail(1) and old scripts look for them.
    for link in ("usr/bin/mailq", "usr/lib/sendmail"):
        assert (tmp_path / link).resolve() == wren.resolve()
    conf = tmp_path / "etc/wren/wren.conf"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o644
    assert conf.read_text() == (ROOT / "conf/wren.conf").read_text()
    # The installed binary is stripped.
    out = subprocess.run(["file", str(wren)], capture_output=True,
                         text=True, timeout=30).stdout
    assert "statically linked" in out
    assert "not stripped" not in out


def test_install_keeps_an_existing_config(tmp_path):
    make_install(tmp_path)
    conf = tmp_path / "etc/wren/wren.conf"
    conf.write_text("hostname = mine.example\n")
    p = make_install(tmp_path)
    assert conf.read_text() == "hostname = mine.example\n"
    assert "keeping" in p.stdout
