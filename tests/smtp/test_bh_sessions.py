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
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXIM = shutil.which("exim") or "/usr/sbin/exim"
ROOT = Path(__file__).resolve().parents[2]

_MSGID = re.compile(rb"\b[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}\b")
_REPEAT = re.compile(r"\{(\d+)\*(.)\}")
_DATE = re.compile(rb"(Sun|Mon|Tue|Wed|Thu|Fri|Sat), \d+ [A-Z][a-z]+ \d+ [\d:]+ [+-]\d{4}")


def parse_case(path: Path):
    ip, section = "10.0.0.1", None
    config: list[str] = []
    lines: list[str] = []
    for raw in path.read_text().split("\n"):
        if raw.startswith("=== "):
            section = raw[4:].strip()
            continue
        if section is None:
            if raw.startswith("ip:"):
                ip = raw[3:].strip()
        elif section == "config":
            config.append(raw)
        elif section == "input":
            lines.append(raw)
    while lines and lines[-1] == "":
        lines.pop()
    data = b""
    for line in lines:
        if line == "<EOF>":
            break
        if line.startswith("raw:"):
            text = _REPEAT.sub(lambda m: m.group(2) * int(m.group(1)), line[4:].lstrip(" "))
            data += text.encode("latin-1").decode("unicode_escape").encode("latin-1")
            continue
        data += line.encode("latin-1") + b"\r\n"
    return ip, "\n".join(config).rstrip("\n") + "\n", data


def normalise(b: bytes) -> bytes:
    return _DATE.sub(b"DATE", _MSGID.sub(b"MSGID", b))


def run_both(path: Path, tmp: Path):
    ip, config, data = parse_case(path)
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


def usable() -> bool:
    return os.path.exists(EXIM) and os.geteuid() == 0


CASES = sorted((ROOT / "tests/data/smtp").glob("*.case")) + \
    sorted((ROOT / "tests/data/acl").glob("*.case"))


@pytest.mark.skipif(not usable(), reason="needs real exim and root (for -C)")
@pytest.mark.parametrize("path", CASES, ids=lambda p: "%s/%s" % (p.parent.name, p.stem))
def test_bh_session(path, tmp_path):
    exim, pexim = run_both(path, tmp_path)
    assert pexim[0].decode("latin-1") == exim[0].decode("latin-1")
    assert pexim[1].decode("latin-1") == exim[1].decode("latin-1")
    assert pexim[2] == exim[2]
