"""pipe against real exim: each tests/data/pipe/*.conf is a transport; the
files the command leaves in {out} and the defer/fail text must match."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_site import compare_with_exim, needs_exim_root

from pexim.transports import pipe

DATA = Path(__file__).resolve().parents[1] / "data" / "pipe"
CASES = sorted(p.stem for p in DATA.glob("*.conf"))

MSG = (b"Subject: pipe test\nFrom: someone@else.example\n\n"
       b"First line\nFrom the start of a line\n.a dot line\n")


@needs_exim_root
@pytest.mark.parametrize("case", CASES)
def test_pipe_delivers_as_exim(case):
    compare_with_exim(DATA / f"{case}.conf", MSG, pipe.deliver)


@needs_exim_root
def test_returned_output_is_kept_for_the_bounce():
    addrs = compare_with_exim(DATA / "return_output.conf", MSG, pipe.deliver)
    assert addrs[0].return_output == b"some output\n"
    assert addrs[0].user_message == "local delivery failed"
