"""`python -m pexim.hints.dumpdb` lists pexim's hints as exim_dumpdb lists
exim's, after the same -bh session in both (times masked, lines as sets)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXIM = shutil.which("exim") or "/usr/sbin/exim"
DUMPDB = shutil.which("exim_dumpdb") or "/usr/sbin/exim_dumpdb"

CONFIG = """\
keep_environment =
spool_directory = %s
acl_smtp_mail = m
begin acl
m:
  warn ratelimit = 2 / 1h / strict
  warn ratelimit = 5 / 1d / per_conn / unique=$sender_address
  warn ratelimit = 100 / 1h / per_mail / unique=$sender_address / count=3 / k$sender_address
  warn seen = 1h
  warn seen = -1d / key=key_$sender_address
  accept
"""
SESSION = b"HELO x\r\nMAIL FROM:<a@b.c>\r\nRSET\r\nMAIL FROM:<d@e.f>\r\nQUIT\r\n"
_TIME = re.compile(r"\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d(\.\d{6})?")
_RATE = re.compile(r"rate: +([\d.]+)")


def mask(text: str) -> set[str]:
    out = set()
    for line in text.splitlines():
        line = _TIME.sub("TIME", line)
        line = _RATE.sub(lambda m: "rate: %.1f" % float(m.group(1)), line)
        out.add(line)
    return out


def usable() -> bool:
    return os.path.exists(EXIM) and os.path.exists(DUMPDB) and os.geteuid() == 0


def run(cmd, spool: Path, work: Path, env):
    work.mkdir()
    conf = work / "c.conf"
    conf.write_text(CONFIG % spool)
    os.chmod(conf, 0o644)
    subprocess.run(cmd + ["-C", str(conf), "-bh", "10.0.0.1"], input=SESSION,
                   capture_output=True, env=env, timeout=60, check=False)


@pytest.mark.skipif(not usable(), reason="needs real exim, exim_dumpdb and root")
def test_dumpdb_like_exim():
    base = Path(tempfile.mkdtemp(prefix="pexim-dump-"))
    try:
        os.chmod(base, 0o755)
        espool, pspool = base / "es", base / "ps"
        espool.mkdir()
        import pwd
        ent = pwd.getpwnam("Debian-exim")
        os.chown(espool, ent.pw_uid, ent.pw_gid)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"}
        run([EXIM], espool, base / "ew", env)
        run([sys.executable, "-m", "pexim"], pspool, base / "pw",
            dict(env, PYTHONPATH=str(ROOT / "src")))
        for name in ("ratelimit", "seen"):
            e = subprocess.run([DUMPDB, str(espool), name], capture_output=True, text=True)
            p = subprocess.run([sys.executable, "-m", "pexim.hints.dumpdb", str(pspool), name],
                               capture_output=True, text=True,
                               env=dict(env, PYTHONPATH=str(ROOT / "src")))
            assert e.returncode == p.returncode == 0, (e.stderr, p.stderr)
            assert mask(p.stdout) == mask(e.stdout), name
            assert len(mask(p.stdout)) >= 2
        missing = subprocess.run([sys.executable, "-m", "pexim.hints.dumpdb", str(pspool),
                                  "callout"], capture_output=True, text=True,
                                 env=dict(env, PYTHONPATH=str(ROOT / "src")))
        assert missing.returncode == 1
        assert "Failed to open database lock file" in missing.stdout
    finally:
        shutil.rmtree(base, ignore_errors=True)
