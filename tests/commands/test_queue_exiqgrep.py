"""pexim-exiqgrep against Exim's exiqgrep (driving real exim) on the same queue."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from exim_oracle import _ENV, EXIM, HAVE_EXIM  # noqa: E402
from queue_spool import REPO_SRC, build, load_case  # noqa: E402

from pexim.commands import exiqgrep  # noqa: E402

EXIQGREP = "/usr/sbin/exiqgrep"
pytestmark = pytest.mark.skipif(not (HAVE_EXIM and os.path.exists(EXIQGREP))
                                or os.geteuid() != 0, reason="needs exim and exiqgrep, as root")
CASE = load_case("exiqgrep.json")


@pytest.fixture(scope="module")
def queue():
    q = build(CASE)
    yield q
    q.cleanup()


@pytest.mark.parametrize("argv", CASE["exiqgrep"], ids=" ".join)
def test_exiqgrep_matches(queue, argv):
    conf = ["-C", str(queue.conf)]
    theirs = subprocess.run([EXIQGREP, "-E", EXIM] + conf + argv, env=_ENV,
                            capture_output=True, text=True, timeout=60)
    ours = subprocess.run([sys.executable, "-m", "pexim.commands.exiqgrep"] + conf + argv,
                          env=dict(_ENV, PYTHONPATH=REPO_SRC), capture_output=True, text=True,
                          timeout=60)
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), ours.stderr


def test_selection_really_selects(queue):
    out = io.StringIO()
    exiqgrep.run({"-C": str(queue.conf), "-r": "other", "-i": ""}, out)
    assert out.getvalue().split() == [queue.ids["nodata"], queue.ids["partly"]]
