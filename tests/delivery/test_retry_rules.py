"""`-brt`: the retry rule that applies, against real exim (cases are data:
`# test-brt: ARGS` lines in tests/data/retry/*.conf)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mode_cases import cases, needs_exim_root, run_both, split
from pexim.config.model import RetryRule
from pexim.delivery.retry_rules import error_code, error_matches

DATA = Path(__file__).resolve().parent.parent / "data" / "retry"


@needs_exim_root
@pytest.mark.parametrize("conf,args", list(cases(DATA, "brt")))
def test_brt_matches_exim(conf, args, tmp_path):
    ours, theirs = run_both(conf, tmp_path, "-brt", split(args))
    assert ours == theirs


def rule(errno, more=None):
    return RetryRule("*", errno, errno, more, None, ())


def test_error_codes():
    assert (error_code("4xx"), error_code("45x"), error_code("451")) == (421, 454, 451)
    assert error_matches(rule("rcpt_4xx", "45x"), "rcpt_4xx", "459")
    assert not error_matches(rule("rcpt_4xx", "45x"), "rcpt_4xx", "4xx")
    assert not error_matches(rule("rcpt_4xx", "4xx"), "mail_4xx", "451")
    assert error_matches(rule("quota", 3 * 86400), "quota", 4 * 86400)
    assert not error_matches(rule("quota", 3 * 86400), "quota", 86400)
