"""Helpers for the lookup suites: run expansion cases through real exim and
pexim (-be), each in one process, and build lookup files with real tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

EXIM = "/usr/sbin/exim"
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "lookups"
SEP = "@@@case-separator@@@"
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "HOME": "/root",
       "TZ": "UTC", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(REPO / "src")}

needs_exim = pytest.mark.skipif(not os.path.exists(EXIM) or os.geteuid() != 0,
                                reason="needs real exim, run as root (it honours -C only then)")


def needs_tool(name: str):
    return pytest.mark.skipif(shutil.which(name) is None, reason=f"{name} is not installed")


def python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def cases(name: str) -> list[str]:
    """The expansion lines of tests/data/lookups/<name> (no blanks, no # comments)."""
    text = (DATA / name).read_text(encoding="latin-1")
    return [line for line in text.split("\n") if line.strip() and not line.startswith("#")]


def table(name: str) -> list[tuple[str, str]]:
    """(expansion, expected) pairs: lines "expansion<TAB>expected"; in the expected
    text <NL>, <TAB> and <SOH> stand for a newline, a tab and a \\x01."""
    out = []
    for line in cases(name):
        expr, _, want = line.partition("\t")
        want = want.replace("<NL>", "\n").replace("<TAB>", "\t").replace("<SOH>", "\x01")
        out.append((expr, want))
    return out


def datadir(prefix: str) -> Path:
    """A fresh world-readable directory (exim reads files as its own user too)."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(d, 0o755)
    return d


def write_config(d: Path, text: str) -> Path:
    conf = d / "test.conf"
    conf.write_text("keep_environment =\n" + text)
    os.chmod(conf, 0o644)
    return conf


def run_be(program: str, conf: Path, exprs: list[str], cwd: Path) -> list[str]:
    """The result (stdout) of each expansion, in order, from one -be process."""
    argv = []
    for e in exprs:
        argv += [e, SEP]
    if program == "exim":
        cmd = [EXIM]
    else:
        cmd = [python(), "-m", "pexim"]
    proc = subprocess.run(cmd + ["-C", str(conf), "-be"] + argv, cwd=str(cwd), env=ENV,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    out = proc.stdout.decode("latin-1")
    parts = out.split(SEP + "\n")
    assert len(parts) == len(exprs) + 1, f"{program} output:\n{out}\n{proc.stderr!r}"
    return [p[:-1] if p.endswith("\n") else p for p in parts[:-1]]


def compare(exprs: list[str], exim_dir: Path, pexim_dir: Path, conf_text: str = ""):
    """Run the cases (with @D@ replaced) in each program's own data directory;
    results with the directory put back as @D@."""
    results = []
    for program, d in (("exim", exim_dir), ("pexim", pexim_dir)):
        conf = write_config(d, conf_text.replace("@D@", str(d)))
        got = run_be(program, conf, [e.replace("@D@", str(d)) for e in exprs], d)
        results.append([g.replace(str(d), "@D@") for g in got])
    return results
