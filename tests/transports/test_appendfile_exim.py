"""appendfile against real exim: each tests/data/appendfile/*.conf is a
transport; both deliver the same spooled message and the files they leave
(or the defer they report) must be the same, times and unique names aside."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from local_site import LocalSite, needs_exim_root, normalise

from pexim.log_lines import Delivery, deferred
from pexim.transports import appendfile

DATA = Path(__file__).resolve().parents[1] / "data" / "appendfile"
CASES = sorted(p.stem for p in DATA.glob("*.conf"))

MSG = (b"Subject: appendfile test\nFrom: Someone <someone@else.example>\n"
       b"To: user@test.example\n\n"
       b"First line\nFrom the start of a line\n.a dot line\n>From quoted\n\nlast\n")

# Parts of names and bytes that legitimately differ between two deliveries.
_SUBS = [
    (re.compile(rb"\b\d{9,10}\.M\d+P\d+\.test\.example"), b"<MAILDIR-NAME>"),
    (re.compile(rb"(-[0-9A-Za-z]{6}-[0-9A-Za-z]{2})-[0-9A-Za-z]{6}\.(env|msg)"), rb"\1-<PID>.\2"),
    (re.compile(rb"\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d [-+]\d{4},"), b"<MBX-DATE>,"),
    (re.compile(rb"\*mbx\*\r\n[0-9a-f]{8}"), b"*mbx*\r\n<UIDVALIDITY>"),
]


def _norm(data: bytes) -> bytes:
    data = normalise(data)
    for rx, rep in _SUBS:
        data = rx.sub(rep, data)
    return data


def _tree(root: Path) -> dict[str, tuple[str, bytes]]:
    """Every file and directory below ``root``: normalised name -> (mode, content)."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = _norm(str(p.relative_to(root)).encode()).decode()
            st = p.lstat()
            content = b"" if p.is_dir() else _norm(p.read_bytes())
            out[rel] = (oct(st.st_mode), content)
    return out


def _exim_outcome(log: str) -> str | None:
    """Exim's "==" log line for the first recipient, from "==" on."""
    m = re.search(r" (== .*)", log)
    return m.group(1) if m else None


def _our_outcome(a) -> str:
    """The same line as the orchestrator writes it for our result."""
    return deferred(Delivery(a.address, router="r", transport="t", errno=a.basic_errno,
                             message=a.message), set())


@needs_exim_root
@pytest.mark.parametrize("case", CASES)
def test_appendfile_delivers_as_exim(case):
    text = (DATA / f"{case}.conf").read_text()
    batch = "# test-batch: yes" in text
    transport = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    site = LocalSite(transport + "\n", name=f"af-{case}")
    try:
        mid = site.submit(MSG, rcpts=("user@test.example", "other@test.example")
                          if batch else ("user@test.example",))
        log = site.exim_deliver(mid)
        theirs = _tree(site.out)
        expected_error = _exim_outcome(log)
        shutil.rmtree(site.out)
        site.out.mkdir()
        os.chmod(site.out, 0o777)

        message = site.message(mid)
        addrs = site.addrs(message)
        appendfile.deliver(site.transport(), message, addrs, site.tctx())
        a = addrs[0]
        if expected_error is not None:
            assert a.status == "defer"
            assert _our_outcome(a) == expected_error
        else:
            assert "=> " in log, log
            assert a.status == "ok", (a.message, log)
        ours = _tree(site.out)
        assert sorted(ours) == sorted(theirs)
        for name in theirs:
            assert ours[name][1] == theirs[name][1], name
            assert ours[name][0] == theirs[name][0], name
    finally:
        site.cleanup()
