# SPDX-License-Identifier: ISC
"""Fault injection (issue 17, `make faults`): kill -9, a full disk and
failing writes/fsyncs, checking that no message that got a 250 is lost.

This reuses test/integration's fixtures: its conftest.py is loaded here
under another name and everything in it re-exported, so outbound.py
(which does `from conftest import ...`) finds it through this module.

Environment:
  WREN_BIN        the wren under test (default build/host/wren)
  WREN_FAULT_BIN  the same objects linked with test/faults/shim.c
                  (default: WREN_BIN's directory/wren-faults); the EIO
                  tests skip without it
  WREN_RUN        runner for cross builds (qemu-...-static)
  WREN_QEMU       set (or WREN_RUN set): every wait scaled by 5

Run: `make faults` (builds both binaries), or by hand

    make B=build/host all build/host/wren-faults
    WREN_BIN=$PWD/build/host/wren /usr/bin/python3 -m pytest -q test/faults

The ENOSPC test mounts a tmpfs and so needs root (skipped otherwise);
the rest runs as any user. Files: faultlib.py (helpers), shim.c (the
fault injector linked into wren-faults), test_kill9.py, test_enospc.py,
test_eio.py.
"""
import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INTEGRATION = HERE.parent / "integration"

_spec = importlib.util.spec_from_file_location(
    "wren_integration_conftest", INTEGRATION / "conftest.py")
_it = importlib.util.module_from_spec(_spec)
sys.modules["wren_integration_conftest"] = _it
_spec.loader.exec_module(_it)

# Under QEMU (either variable) every wait is scaled.
if os.environ.get("WREN_QEMU") or os.environ.get("WREN_RUN"):
    _it.SLOW = 5

for _name in dir(_it):
    if not _name.startswith("__"):
        globals()[_name] = getattr(_it, _name)

if str(INTEGRATION) not in sys.path:
    sys.path.insert(0, str(INTEGRATION))

WREN_FAULT_BIN = os.environ.get(
    "WREN_FAULT_BIN", str(Path(_it.WREN_BIN).parent / "wren-faults"))


import pytest  # noqa: E402


@pytest.fixture(params=["io_uring", "syncfs"])
def commit_path(request, monkeypatch):
    """Runs a test with both commit paths of store/txn.c: the normal
    build (io_uring where the kernel allows it) and the shim build,
    which has no io_uring and commits with syncfs in the loop."""
    if request.param == "syncfs":
        if not os.access(WREN_FAULT_BIN, os.X_OK):
            pytest.skip(f"no {WREN_FAULT_BIN} (make faults builds it)")
        monkeypatch.setattr(_it, "WREN_BIN", WREN_FAULT_BIN)
    return request.param


def check_commit_path(w, path):
    """The log says which commit path ran (syncfs: it must be that)."""
    log = w.log()
    if path == "syncfs":
        assert "committing with syncfs in the loop" in log, log
    return "committing with io_uring" in log


# Every test is bounded: past TEST_LIMIT seconds (scaled) SIGALRM fails
# it in the main thread (no pytest-timeout needed); fixtures then stop
# what it started.
TEST_LIMIT = 150


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout(f"test ran over {TEST_LIMIT * _it.SLOW} s")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    import signal
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(TEST_LIMIT * _it.SLOW))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
