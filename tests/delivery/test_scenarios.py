"""Delivery scenarios (tests/data/deliver/*.case): pexim must log, deliver and
leave the spool exactly as real exim does for the same configuration and steps."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from delivery.scenarios import DATA, EXIM, load, run

pytestmark = pytest.mark.skipif(not os.path.exists(EXIM) or os.geteuid() != 0,
                                reason="needs real exim, run as root")

@pytest.fixture
def world_tmp():
    """A directory exim's user can reach (pytest's tmp_path is private to root):
    exim gives up root when run with -C and writes spool and log as Debian-exim."""
    d = Path(tempfile.mkdtemp(prefix="pexim-scenario-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


CASES = sorted(DATA.glob("*.case"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_scenario(path, world_tmp):
    case = load(path)
    theirs = run(case, world_tmp / "exim", "exim")
    ours = run(case, world_tmp / "pexim", "pexim")
    assert ours.outputs == theirs.outputs
    assert ours.mainlog == theirs.mainlog
    assert ours.files == theirs.files
    assert ours.spool == theirs.spool
