# SPDX-License-Identifier: ISC
"""The fail2ban filter shipped in conf/fail2ban matches the failed-login
lines of a real wren log (fail2ban-regex, Debian's fail2ban), and
nothing else in it: not the successful logins, not a password."""
import shutil
import smtplib
import subprocess

import pytest

from conftest import ROOT, SLOW, free_port, run_wren

FILTER = ROOT / "conf/fail2ban/filter.d/wren.conf"


@pytest.mark.skipif(shutil.which("fail2ban-regex") is None,
                    reason="fail2ban not installed")
def test_filter_matches_real_failures(wren, tmp_path):
    port = free_port()
    w = wren(smtp_listen=f"127.0.0.1:{port}", auth_fail_delay="0",
             auth_fail_limit="100")
    (w.dir / "users").write_text("alice@example.test:{PLAIN}right-pw\n")
    assert run_wren("map", "-t", "users", str(w.dir / "users")) \
        .returncode == 0
    w.start()
    for user, pw in [("alice@example.test", "wrong-pw-1"),
                     ("nobody@example.test", "wrong-pw-2"),
                     ("alice@example.test", "wrong-pw-3"),
                     ("alice@example.test", "right-pw")]:
        with smtplib.SMTP("127.0.0.1", port, timeout=10 * SLOW) as s:
            s.ehlo("client.example")
            s.user, s.password = user, pw
            try:
                s.auth("PLAIN", s.auth_plain)   # one attempt each
            except smtplib.SMTPAuthenticationError:
                pass
    assert w.stop() == 0
    log = w.log()
    for secret in ("wrong-pw", "right-pw"):
        assert secret not in log
    p = subprocess.run(["fail2ban-regex", "--print-all-matched",
                        str(w.logfile), str(FILTER)], capture_output=True,
                       text=True, timeout=120)
    print(p.stdout)
    assert p.returncode == 0, p.stderr
    assert "Failregex: 3 total" in p.stdout
    matched = [l for l in p.stdout.splitlines()
               if "auth failed" in l and "wren[" in l and "^" not in l]
    assert len(matched) == 3, matched
    assert all("ip=127.0.0.1" in l for l in matched)
