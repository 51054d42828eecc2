# SPDX-License-Identifier: ISC
"""`make run`: two demos side by side with PORT_BASE, each answering on
its own ports and stopped by its PID; an interrupted set-up leaves no
half-written file and the next run starts."""
import os
import random
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import ROOT

ARCH = os.environ.get("WREN_ARCH", "host")
pytestmark = pytest.mark.skipif(ARCH != "host", reason="make run is host only")
OFFSETS = (25, 587, 465, 143, 993, 110, 995)


def clean_env():
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base(taken=()):
    """A PORT_BASE whose seven ports are free here now."""
    for _ in range(200):
        base = random.randrange(20000, 60000, 100)
        if base not in taken and all(port_free(base + o) for o in OFFSETS):
            return base
    pytest.fail("no free PORT_BASE")


def greeting(port, deadline):
    """The first line the server sends on port, or None by deadline."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 2) as s:
                s.settimeout(5)
                return s.recv(512).decode(errors="replace")
        except OSError:
            time.sleep(0.2)
    return None


def stop(p, log):
    """SIGTERM to the wren serve of this run, by the PID its start line
    logs; it stops within shutdown_timeout, then the script and make
    exit with its status. Whatever is left of the run's process group
    is killed."""
    deadline = time.monotonic() + 10
    while True:
        m = re.search(r"wren started: .* pid (\d+)", log.read_text())
        if m or p.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    try:
        if m and p.poll() is None:
            os.kill(int(m.group(1)), signal.SIGTERM)
        return p.wait(timeout=30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


@pytest.fixture(scope="module", autouse=True)
def built():
    # One build first: two makes building the same tree would race.
    p = subprocess.run(["make", "-s", "--no-print-directory", "ARCH=host",
                        "SAN=0", "all"], cwd=ROOT, env=clean_env(),
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr


def start_run(base, run_dir, log):
    return subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT_BASE={base}",
         f"RUN_DIR={run_dir}"], cwd=ROOT, env=clean_env(),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def test_two_demos_side_by_side(tmp_path):
    bases = []
    bases.append(free_base())
    bases.append(free_base(bases))
    procs = []
    try:
        for i, base in enumerate(bases):
            log = open(tmp_path / f"run{i}.log", "wb")
            procs.append(start_run(base, tmp_path / f"d{i}", log))
        deadline = time.monotonic() + 120
        for i, base in enumerate(bases):
            g = greeting(base + 25, deadline)
            assert g and g.startswith("220 "), \
                (tmp_path / f"run{i}.log").read_text()
            g = greeting(base + 143, deadline)
            assert g and g.startswith("* OK"), g
            out = (tmp_path / f"run{i}.log").read_text()
            # What it chose is printed, and the files are its own.
            assert f"ports: smtp {base + 25}, submission {base + 587}" \
                in out
            assert f"swaks --server 127.0.0.1:{base + 25} " in out
            conf = (tmp_path / f"d{i}" / "demo.conf").read_text()
            assert f"smtp_listen = 127.0.0.1:{base + 25} " in conf
            assert f"data_dir = {tmp_path / f'd{i}'}\n" in conf
        for p in procs:
            assert p.poll() is None
    finally:
        rcs = [stop(p, tmp_path / f"run{i}.log")
               for i, p in enumerate(procs)]
    assert rcs == [0, 0]
    for i in range(2):
        assert not list((tmp_path / f"d{i}").glob("*.tmp.*"))


def test_a_taken_port_says_how_to_pick_others(tmp_path):
    base = free_base()
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", base + 25))
        s.listen(1)
        p = subprocess.run(["board/demo.sh", "build/host/wren",
                            str(tmp_path / "d"), str(base)], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "make run PORT_BASE=" in p.stderr


@pytest.mark.parametrize("base", ["80", "64541", "abc", "-1"])
def test_port_base_out_of_range_is_refused(tmp_path, base):
    p = subprocess.run(["board/demo.sh", "build/host/wren",
                        str(tmp_path / "d"), base], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "PORT_BASE must be a number" in p.stderr
    assert not (tmp_path / "d").exists()


def test_interrupted_setup_leaves_no_half_file(tmp_path):
    """openssl dies half-way (as under Ctrl-C, or missing): neither
    certificate file is left, the users file is whole, and the next
    run starts the server."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "openssl").write_text(
        "#!/bin/sh\n"
        "# writes half a key and a certificate, then dies\n"
        "while [ $# -gt 0 ]; do case $1 in\n"
        "-keyout|-out) printf '%s\\n' '-----BEGIN' > \"$2\"; shift;;\n"
        "esac; shift; done\nkill -9 $$\n")
    (fake / "openssl").chmod(0o755)
    d = tmp_path / "d"
    base = free_base()
    env = dict(clean_env(), PATH=f"{fake}:{os.environ['PATH']}")
    p = subprocess.run(["board/demo.sh", "build/host/wren", str(d),
                        str(base)], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0
    assert not (d / "demo-cert.pem").exists()
    assert not (d / "demo-key.pem").exists()
    assert not list(d.glob("*.tmp.*"))
    users = (d / "users").read_text()
    assert re.fullmatch(r"demo@example\.test:\{SHA512-CRYPT\}\$6\$\S+\n",
                        users)
    assert (d / "users").stat().st_mode & 0o777 == 0o600

    log = open(tmp_path / "run.log", "wb")
    p = subprocess.Popen(["board/demo.sh", "build/host/wren", str(d),
                          str(base)], cwd=ROOT, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        g = greeting(base + 25, time.monotonic() + 60)
        assert g and g.startswith("220 "), (tmp_path / "run.log").read_text()
    finally:
        assert stop(p, tmp_path / "run.log") == 0
    assert (d / "demo-cert.pem").read_text().startswith(
        "-----BEGIN CERTIFICATE-----")
