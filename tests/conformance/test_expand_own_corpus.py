"""pexim's own -be/-bem conformance corpus (tests/data/expand/): every case's
expected output was produced by real Exim 4.96 (tests/data/expand/regen.py);
pexim must print exactly the same.  One pexim process per topic file."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import pytest
from exim_oracle import DATA, pexim_command

CORPUS = DATA / "expand"

_spec = importlib.util.spec_from_file_location("expand_regen", CORPUS / "regen.py")
regen = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("expand_regen", regen)
_spec.loader.exec_module(regen)

TOPICS = regen.topics()


@pytest.fixture(scope="module")
def workdir():
    wd = regen.make_workdir()
    yield wd
    shutil.rmtree(wd, ignore_errors=True)


def test_corpus_is_big_enough():
    total = sum(len(regen.read_expected(t)) for t in TOPICS)
    assert total >= 600, total


@pytest.mark.parametrize("topic", TOPICS)
def test_expected_matches_inputs(topic):
    """The .expected file was generated from the current .txt (run regen.py)."""
    inputs, _ = regen.read_cases(topic)
    assert [e["in"] for e in regen.read_expected(topic)] == inputs


@pytest.mark.skipif(os.geteuid() != 0, reason="the corpus's -C file must be root-owned")
@pytest.mark.parametrize("topic", TOPICS)
def test_topic(topic, workdir):
    expected = regen.read_expected(topic)
    got = regen.run_topic(pexim_command(), topic, workdir)
    bad = [(e["in"], e["out"], g) for e, g in zip(expected, got, strict=True) if e["out"] != g]
    report = "\n".join("  in:    %r\n  exim:  %r\n  pexim: %r" % b for b in bad[:20])
    assert not bad, "%d of %d cases differ:\n%s" % (len(bad), len(expected), report)
