# SPDX-License-Identifier: ISC
"""Relay control cannot be dodged by spelling: a trailing dot, upper
case or a quoted local part still names a remote domain."""
import smtplib

import pytest

from conftest import SLOW, free_port, run_wren


@pytest.mark.parametrize("rcpt", ["x@gmail.com.", "x@GMAIL.com",
                                  '"x"@gmail.com', "x@gmail.com"])
def test_outside_mynetworks_cannot_relay(wren, rcpt):
    port = free_port()
    w = wren(smtp_listen=f"127.0.0.1:{port}", mynetworks="127.0.0.1/32")
    (w.dir / "users").write_text("alice@example.test:{PLAIN}x\n")
    assert run_wren("map", "-t", "users", str(w.dir / "users")) \
        .returncode == 0
    w.start()
    with smtplib.SMTP("127.0.0.1", port, timeout=10 * SLOW,
                      source_address=("127.0.0.2", 0)) as s:
        s.ehlo("outside.example")
        s.mail("a@remote.example")
        code, text = s.rcpt(rcpt)
        assert code == 554, text
        assert b"5.7.1" in text and b"Relay access denied" in text
        # A local recipient is still fine from outside.
        assert s.rcpt("alice@example.test")[0] == 250
    assert w.stop() == 0
