"""`-brw`: address rewriting in every place, against real exim (cases are data:
`# test-brw: ADDRESS` lines in tests/data/rewrite/*.conf)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pexim.config.model import RewriteRule
from pexim.message.rewrite import ENV_FROM, FROM, SMTP, TO, Rewriter, applies

EXIM = "/usr/sbin/exim"
DATA = Path(__file__).resolve().parent.parent / "data" / "rewrite"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", re.M)


def cases():
    for conf in sorted(DATA.glob("*.conf")):
        for line in conf.read_text().splitlines():
            if line.startswith("# test-brw:"):
                address = line[len("# test-brw:"):].strip()
                yield pytest.param(conf, address, id=f"{conf.stem}:{address}")


def run(cmd, conf, address):
    proc = subprocess.run([*cmd, "-C", str(conf), "-brw", address], capture_output=True,
                          text=True)
    return proc.returncode, proc.stdout, TIMESTAMP.sub("", proc.stderr)


@pytest.mark.skipif(not os.path.exists(EXIM) or os.geteuid() != 0,
                    reason="needs real exim, run as root")
@pytest.mark.parametrize("conf,address", list(cases()))
def test_brw_matches_exim(conf, address, tmp_path):
    copy = tmp_path / conf.name
    shutil.copy(conf, copy)
    copy.chmod(0o644)
    assert run([sys.executable, "-m", "pexim"], copy, address) == run([EXIM], copy, address)


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
