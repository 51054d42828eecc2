# SPDX-License-Identifier: ISC
"""`make ARCH=mipsel` alone: when packages are missing and make does
not run as root, it prints the exact commands to run and stops before
compiling anything (as root, board/deps.sh installs them; not run here:
it would change this machine)."""
import os
import shutil
import subprocess
import tempfile

import pytest
from pathlib import Path

from conftest import ROOT


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to become another user")
def test_cross_build_without_packages_prints_the_commands():
    # pytest's tmp_path is root's alone: a directory the other user
    # can reach.
    with tempfile.TemporaryDirectory(prefix="wren-cross-deps-") as d:
        os.chmod(d, 0o755)
        run_as_nobody(Path(d))


def run_as_nobody(tmp_path):
    # dpkg-query that knows no package, dpkg with no foreign arch.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
    (fake / "dpkg").write_text("#!/bin/sh\nexit 0\n")
    for f in fake.iterdir():
        f.chmod(0o755)
    build = tmp_path / "build"
    build.mkdir()
    os.chown(build, 65534, 65534)
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = f"{fake}:{env['PATH']}"
    p = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         "make", "--no-print-directory", "-C", str(ROOT), "ARCH=mipsel",
         f"B={build}", "all"], env=env, capture_output=True, text=True,
        timeout=120)
    assert p.returncode != 0
    err = p.stderr
    assert "run as root:" in err, err
    assert "dpkg --add-architecture mipsel" in err
    assert "install -y" in err and "musl-dev:mipsel" in err \
        and "gcc-mipsel-linux-gnu" in err
    # Nothing compiled, no sysroot download tried.
    assert "CC" not in p.stdout
    assert "sysroot" not in err
    assert not list(build.rglob("*.o"))
