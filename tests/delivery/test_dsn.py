"""Pieces of the reports that the exim cases (test_bounce.py) do not reach:
the delay_warning schedule far out, the DSN_INFO build option, and the
authenticated sender of an injected bounce."""

from __future__ import annotations

from delivery import bounce_cases as bc
from pexim.delivery import dsn
from pexim.delivery.address import AddressItem, Host
from pexim.delivery.warning import warnings_due


def test_delay_warning_schedule_repeats_the_last_interval():
    assert warnings_due((3600,), 3599) == (0, 0)
    assert warnings_due((3600,), 3600) == (1, 3600)
    assert warnings_due((3600,), 7300) == (2, 7200)
    assert warnings_due((3600, 7200, 14400), 15000) == (3, 14400)
    assert warnings_due((3600, 7200, 14400), 30000) == (5, 28800)   # every 2h after 4h
    assert warnings_due((0,), 99999) == (0, 0)                      # delay_warning = 0


def test_dsn_info_fields_when_built_in(monkeypatch):
    addr = AddressItem("u@remote.example", host_used=Host("mx.remote.example", "192.0.2.1", 2525),
                       message="SMTP error from remote mail server after RCPT TO:<u@remote."
                       "example>: 550 no", pass_message=True,
                       smtp_greeting="220 mx ESMTP", helo_response="250 mx")
    assert dsn.remote_mta(addr) == ("Remote-MTA: dns; mx.remote.example\n"
                                    "Diagnostic-Code: smtp; 550 no\n")
    monkeypatch.setattr(dsn, "DSN_INFO", True)
    assert dsn.remote_mta(addr) == (
        "Remote-MTA: dns; mx.remote.example\n"
        "Remote-MTA: X-ip; [192.0.2.1]:2525\n"
        "X-Remote-MTA-smtp-greeting: X-str; 220 mx ESMTP\n"
        "X-Remote-MTA-helo-response: X-str; 250 mx\n"
        "X-Exim-Diagnostic: X-str; SMTP error from remote mail server after RCPT "
        "TO:<u@remote.example>: 550 no\n"
        "Diagnostic-Code: smtp; 550 no\n")


def test_injected_bounce_has_the_authenticated_sender(tmp_path):
    from pexim.config.loader import load
    from pexim.delivery.inject import GeneratedMessage, inject
    from pexim.log import Logger
    from pexim.spool.reader import parse_header_file

    case = bc.Case("auth", main="bounce_sender_authentication = md@test.example\n")
    (tmp_path / "configure").write_text(case.configure(tmp_path))
    config = load(str(tmp_path / "configure"))
    (tmp_path / "log").mkdir()
    gen = GeneratedMessage("", ["a@example.com"], b"To: a@example.com\nSubject: s\n\nbody\n")
    mid = inject(config, gen, Logger.from_config(config), parent_id="1xV2kl-0003YM-1W")
    spool = parse_header_file((tmp_path / "spool" / "input" / f"{mid}-H").read_bytes(), mid)
    assert spool.auth_sender == "md@test.example" and spool.auth_id is None
    assert spool.localerror and spool.sender == ""
    log = (tmp_path / "log" / "mainlog").read_text()
    assert f"{mid} <= <> R=1xV2kl-0003YM-1W U=" in log and " P=local S=" in log
