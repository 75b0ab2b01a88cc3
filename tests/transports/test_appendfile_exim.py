"""appendfile against real exim: each tests/data/appendfile/*.conf is a
transport; both deliver the same spooled message and the files they leave
(or the defer they report) must be the same, times and unique names aside."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_site import compare_with_exim, needs_exim_root

from pexim.transports import appendfile

DATA = Path(__file__).resolve().parents[1] / "data" / "appendfile"
CASES = sorted(p.stem for p in DATA.glob("*.conf"))

MSG = (b"Subject: appendfile test\nFrom: Someone <someone@else.example>\n"
       b"To: user@test.example\n\n"
       b"First line\nFrom the start of a line\n.a dot line\n>From quoted\n\nlast\n")

@needs_exim_root
@pytest.mark.parametrize("case", CASES)
def test_appendfile_delivers_as_exim(case):
    compare_with_exim(DATA / f"{case}.conf", MSG, appendfile.deliver)
