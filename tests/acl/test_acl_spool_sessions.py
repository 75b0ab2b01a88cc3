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
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from session_cases import EXIM, normalise, parse_case, usable

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests/data/acl"
CASES = sorted((DATA / "spool").glob("*.case"))



def run_side(cmd, config, spool, tmp, name, ip, data, env):
    work = tmp / name
    work.mkdir(exist_ok=True)
    conf = work / "case.conf"
    conf.write_text(config.replace("@SPOOL@", str(spool)).replace("@DATA@", str(DATA)))
    os.chmod(conf, 0o644)
    p = subprocess.run(cmd + ["-C", "case.conf", "-bh", ip], input=data, cwd=work,
                       capture_output=True, env=env, timeout=60)
    return normalise(p.stdout), normalise(p.stderr), p.returncode


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
