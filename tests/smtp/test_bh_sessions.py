"""`pexim -bh` transcripts must equal `exim -bh` ones (stdout, stderr, exit code).

Cases are data files, one session each: tests/data/smtp/*.case and
tests/data/acl/*.case. A case holds `ip: ADDRESS`, then `=== config` and
`=== input` sections; each input line is sent with CRLF (`<EOF>` ends the input
without QUIT). A line `raw: TEXT` sends TEXT exactly, after Python escapes
(`\\r`, `\\n`, `\\x00`) and `{N*C}` (C repeated N times) are expanded, with no
line ending added: bare LFs, NULs and overlong lines. Expected output always
comes from running real exim.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from session_cases import EXIM, normalise, parse_case, usable

ROOT = Path(__file__).resolve().parents[2]



def run_both(path: Path, tmp: Path):
    head, config, data = parse_case(path)
    ip = head["ip"]
    conf = tmp / "case.conf"
    conf.write_text(config)
    os.chmod(conf, 0o644)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"}
    exim = subprocess.run([EXIM, "-C", "case.conf", "-bh", ip], input=data, cwd=tmp,
                          capture_output=True, env=env, timeout=60)
    penv = dict(env, PYTHONPATH=str(ROOT / "src"))
    pexim = subprocess.run([sys.executable, "-m", "pexim", "-C", "case.conf", "-bh", ip],
                           input=data, cwd=tmp, capture_output=True, env=penv, timeout=60)
    return ((normalise(exim.stdout), normalise(exim.stderr), exim.returncode),
            (normalise(pexim.stdout), normalise(pexim.stderr), pexim.returncode))


CASES = sorted((ROOT / "tests/data/smtp").glob("*.case")) + \
    sorted((ROOT / "tests/data/acl").glob("*.case"))


@pytest.mark.skipif(not usable(), reason="needs real exim and root (for -C)")
@pytest.mark.parametrize("path", CASES, ids=lambda p: "%s/%s" % (p.parent.name, p.stem))
def test_bh_session(path, tmp_path):
    exim, pexim = run_both(path, tmp_path)
    assert pexim[0].decode("latin-1") == exim[0].decode("latin-1")
    assert pexim[1].decode("latin-1") == exim[1].decode("latin-1")
    assert pexim[2] == exim[2]
