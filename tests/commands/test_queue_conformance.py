"""-bp listings and -M actions: real exim and pexim on the same queue.

Each case file (tests/data/queue/*.json) describes a queue and the
"commands" (listings: the same bytes and exit code), "unordered" listings
(-bpr: the same entries) and "actions" to run on it.  Each action runs on a
fresh copy of a queue under each program; stdout, stderr, exit code, the
mainlog lines and every spool file must then match.  -H files are compared
byte for byte except the "-frozen <time>" value (the time of the action) and
the shape of the non-recipients tree (pexim's writer balances it differently;
the set of addresses must match).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from exim_oracle import HAVE_EXIM, first_difference, run_exim, run_pexim  # noqa: E402
from queue_spool import DATA, build, load_case  # noqa: E402

from pexim.spool.reader import parse_header_file  # noqa: E402

pytestmark = pytest.mark.skipif(not HAVE_EXIM or os.geteuid() != 0,
                                reason="needs real exim, as root")

CASES = {p.name: load_case(p.name) for p in sorted(DATA.glob("*.json"))}
LISTING = CASES["listing.json"]
_QUEUES: dict[str, object] = {}


def _params(key: str):
    return [pytest.param(name, argv, id=f"{name[:-5]}: {' '.join(argv)}")
            for name, case in CASES.items() for argv in case.get(key, [])]


@pytest.fixture(scope="module")
def queues():
    """One queue per case file, built when first needed."""
    yield _QUEUES
    for queue in _QUEUES.values():
        queue.cleanup()
    _QUEUES.clear()


def _queue(queues, name):
    if name not in queues:
        queues[name] = build(CASES[name])
    return queues[name]


@pytest.fixture(scope="module")
def listing_queue(queues):
    return _queue(queues, "listing.json")


def _both(queue, argv):
    args = ["-C", str(queue.conf)] + queue.args(argv)
    return run_exim(args), run_pexim(args)


@pytest.mark.parametrize(("case", "argv"), _params("commands"))
def test_listing_matches_exim(queues, case, argv):
    exim, pexim = _both(_queue(queues, case), argv)
    assert (pexim.rc, pexim.stdout, pexim.stderr) == (exim.rc, exim.stdout, exim.stderr), \
        first_difference(exim.stdout, pexim.stdout) + "\n" + pexim.describe()


@pytest.mark.parametrize(("case", "argv"), _params("unordered"))
def test_unsorted_listing_has_the_same_entries(queues, case, argv):
    exim, pexim = _both(_queue(queues, case), argv)
    assert pexim.rc == exim.rc == 0
    assert sorted(pexim.stdout.split("\n\n")) == sorted(exim.stdout.split("\n\n"))


def test_listing_shows_every_kind_of_entry(listing_queue):
    """The queue really holds what the comparisons are about (guards the data)."""
    out = run_pexim(["-C", str(listing_queue.conf), "-bpa"]).stdout
    for text in ("*** frozen ***", "        D r1@b.example", "       +D gen1@e.example",
                 "        D r3@d.example", "(bob)", " 5d  1.9M", "72h   19M", " 2h   20K", "90m  2.9K",
                 " 1m       ", "*** spool format error: size=", "<>"):
        assert text in out, text
    assert "in@other.example" not in out


# --- actions ------------------------------------------------------------------------

_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", re.M)
_FROZEN = re.compile(rb"^-frozen \d+\n", re.M)


def _spool_state(queue) -> dict[str, bytes]:
    """Every file under spool/, -H files with the action time and tree shape masked."""
    state = {}
    spool = queue.root / "spool"
    for path in sorted(spool.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name.endswith("-H"):
            msg = parse_header_file(data)
            head, sep, rest = data.partition(b"\n%d\n" % len(msg.recipients))
            lines = head.split(b"\n")
            while lines and (lines[-1] == b"XX" or lines[-1][2:3] == b" "
                             and lines[-1][:2] in (b"YY", b"YN", b"NY", b"NN")):
                lines.pop()
            tree = repr(sorted(msg.nonrecipients)).encode()
            data = _FROZEN.sub(b"-frozen T\n", b"\n".join(lines) + b"\nTREE " + tree + sep + rest)
        state[str(path.relative_to(spool))] = data
    return state


def _log(queue) -> list[str]:
    text = _STAMP.sub("", queue.mainlog()).replace(str(queue.root), "@DIR@")
    return [ln for ln in text.splitlines() if "lost privilege" not in ln]


@pytest.mark.parametrize(("case", "argv"), _params("actions"))
def test_action_matches_exim(queues, case, argv):
    queue = _queue(queues, case)
    theirs, ours = queue.copy("exim"), queue.copy("pexim")
    try:
        exim = run_exim(["-C", str(theirs.conf)] + theirs.args(argv))
        pexim = run_pexim(["-C", str(ours.conf)] + ours.args(argv))
        assert (pexim.rc, pexim.stdout) == (exim.rc, exim.stdout), \
            first_difference(exim.stdout, pexim.stdout) + "\n" + pexim.describe()
        assert _STAMP.sub("", pexim.stderr) == _STAMP.sub("", exim.stderr)
        assert _log(ours) == _log(theirs)
        assert _spool_state(ours) == _spool_state(theirs)
    finally:
        theirs.cleanup()
        ours.cleanup()
