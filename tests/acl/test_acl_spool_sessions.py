"""`-bh` sessions that need their own spool (hints databases), compared with real exim.

Cases: tests/data/acl/spool/*.case, the format of tests/data/smtp (see
tests/smtp/test_bh_sessions.py) plus:

    runs: N        run the same input N times against the same spool (state
                   that survives the process: the ratelimit hints database)
    compare: log   compare stdout and only the LOG: lines of stderr (for
                   configurations whose trace pexim does not match yet: named
                   list results are not cached and traced as "- cached")

`@SPOOL@` in the config becomes a fresh spool directory, one for exim and
one for pexim; `@DATA@` becomes tests/data/acl (lookup files under files/).
Every run's stdout, stderr and exit code must be equal.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

EXIM = shutil.which("exim") or "/usr/sbin/exim"
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests/data/acl"
CASES = sorted((DATA / "spool").glob("*.case"))

_MSGID = re.compile(rb"\b[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}\b")
_DATE = re.compile(rb"(Sun|Mon|Tue|Wed|Thu|Fri|Sat), \d+ [A-Z][a-z]+ \d+ [\d:]+ [+-]\d{4}")


def parse_case(path: Path):
    head: dict[str, str] = {"ip": "10.0.0.1", "runs": "1"}
    section = None
    config: list[str] = []
    lines: list[str] = []
    for raw in path.read_text().split("\n"):
        if raw.startswith("=== "):
            section = raw[4:].strip()
            continue
        if section is None:
            if ":" in raw:
                k, _, val = raw.partition(":")
                head[k.strip()] = val.strip()
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
        data += line.encode("latin-1") + b"\r\n"
    return head, "\n".join(config).rstrip("\n") + "\n", data


def normalise(b: bytes) -> bytes:
    return _DATE.sub(b"DATE", _MSGID.sub(b"MSGID", b))


def run_side(cmd, config, spool, tmp, name, ip, data, env):
    work = tmp / name
    work.mkdir(exist_ok=True)
    conf = work / "case.conf"
    conf.write_text(config.replace("@SPOOL@", str(spool)).replace("@DATA@", str(DATA)))
    os.chmod(conf, 0o644)
    p = subprocess.run(cmd + ["-C", "case.conf", "-bh", ip], input=data, cwd=work,
                       capture_output=True, env=env, timeout=60)
    return normalise(p.stdout), normalise(p.stderr), p.returncode


def usable() -> bool:
    return os.path.exists(EXIM) and os.geteuid() == 0


@pytest.mark.skipif(not usable(), reason="needs real exim and root (for -C)")
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_spool_session(path, tmp_path):
    head, config, data = parse_case(path)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"}
    penv = dict(env, PYTHONPATH=str(ROOT / "src"))
    # exim writes its hints as its own user: the spool must be reachable and its own
    base = Path(tempfile.mkdtemp(prefix="pexim-acl-"))
    try:
        os.chmod(base, 0o755)
        espool, pspool = base / "espool", base / "pspool"
        espool.mkdir()
        pspool.mkdir()
        try:
            import pwd
            ent = pwd.getpwnam("Debian-exim")
            os.chown(espool, ent.pw_uid, ent.pw_gid)
        except (KeyError, ImportError):
            pass
        for run in range(int(head["runs"])):
            exim = run_side([EXIM], config, espool, tmp_path, "e", head["ip"], data, env)
            pexim = run_side([sys.executable, "-m", "pexim"], config, pspool, tmp_path, "p",
                             head["ip"], data, penv)
            assert pexim[0].decode("latin-1") == exim[0].decode("latin-1"), "run %d" % run
            perr, eerr = pexim[1].decode("latin-1"), exim[1].decode("latin-1")
            if head.get("compare") == "log":
                perr = "\n".join(x for x in perr.splitlines() if x.startswith("LOG:"))
                eerr = "\n".join(x for x in eerr.splitlines() if x.startswith("LOG:"))
            assert perr == eerr, "run %d" % run
            assert pexim[2] == exim[2], "run %d" % run
    finally:
        shutil.rmtree(base, ignore_errors=True)
