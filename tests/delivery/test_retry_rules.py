"""`-brt`: the retry rule that applies, against real exim (cases are data:
`# test-brt: ARGS` lines in tests/data/retry/*.conf)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pexim.config.model import RetryRule
from pexim.delivery.retry_rules import error_code, error_matches

EXIM = "/usr/sbin/exim"
DATA = Path(__file__).resolve().parent.parent / "data" / "retry"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", re.M)


def cases():
    for conf in sorted(DATA.glob("*.conf")):
        for line in conf.read_text().splitlines():
            if line.startswith("# test-brt:"):
                args = line[len("# test-brt:"):].strip()
                yield pytest.param(conf, args, id=f"{conf.stem}:{args}")


def run(cmd, conf, args):
    proc = subprocess.run([*cmd, "-C", str(conf), "-brt", *shlex.split(args)],
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout, TIMESTAMP.sub("", proc.stderr)


@pytest.mark.skipif(not os.path.exists(EXIM) or os.geteuid() != 0,
                    reason="needs real exim, run as root")
@pytest.mark.parametrize("conf,args", list(cases()))
def test_brt_matches_exim(conf, args, tmp_path):
    copy = tmp_path / conf.name
    shutil.copy(conf, copy)
    copy.chmod(0o644)
    assert run([sys.executable, "-m", "pexim"], copy, args) == run([EXIM], copy, args)


def rule(errno, more=None):
    return RetryRule("*", errno, errno, more, None, ())


def test_error_codes():
    assert (error_code("4xx"), error_code("45x"), error_code("451")) == (421, 454, 451)
    assert error_matches(rule("rcpt_4xx", "45x"), "rcpt_4xx", "459")
    assert not error_matches(rule("rcpt_4xx", "45x"), "rcpt_4xx", "4xx")
    assert not error_matches(rule("rcpt_4xx", "4xx"), "mail_4xx", "451")
    assert error_matches(rule("quota", 3 * 86400), "quota", 4 * 86400)
    assert not error_matches(rule("quota", 3 * 86400), "quota", 86400)
