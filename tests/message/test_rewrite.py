"""`-brw`: address rewriting in every place, against real exim (cases are data:
`# test-brw: ADDRESS` lines in tests/data/rewrite/*.conf)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mode_cases import cases, needs_exim_root, run_both
from pexim.config.model import RewriteRule
from pexim.message.rewrite import ENV_FROM, FROM, SMTP, TO, Rewriter, applies

DATA = Path(__file__).resolve().parent.parent / "data" / "rewrite"


@needs_exim_root
@pytest.mark.parametrize("conf,address", list(cases(DATA, "brw")))
def test_brw_matches_exim(conf, address, tmp_path):
    ours, theirs = run_both(conf, tmp_path, "-brw", [address])
    assert ours == theirs


def test_flags_choose_places():
    headers_only = RewriteRule("*@a", "$1@b", "h")
    assert applies(headers_only, FROM) and not applies(headers_only, ENV_FROM)
    envelope = RewriteRule("*@a", "$1@b", "E")
    assert applies(envelope, ENV_FROM) and not applies(envelope, TO)
    assert not applies(RewriteRule("^x", "y", "S"), FROM)


def test_rewriter_in_process():
    panics = []
    r = Rewriter([RewriteRule("*@old.ex", "$1@new.ex", "hE"),
                  RewriteRule("*@loop.ex", "${if eq{1}{2}{x}fail}", "hE"),
                  RewriteRule(r"\N^(.*)@smtp\.ex$\N", "$1@ok.ex", "S")], "q.ex",
                 panic=panics.append)
    assert r.rewrite("bob@old.ex", ENV_FROM) == ("bob@new.ex", False)
    assert r.rewrite("bob@loop.ex", TO) == ("bob@loop.ex", False)
    assert r.rewrite("x@smtp.ex", SMTP) == ("x@ok.ex", False)
    assert panics == []
