"""Run real Exim 4.96 and pexim side by side and normalise what they print.

Shared by the conformance suites: every helper takes the same argv (without the
program name) and returns a `Run` (exit code, stdout, stderr). Both programs get
the same small environment and the same working directory, so the only
legitimate differences are the ones the normalisers below remove.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

EXIM = "/usr/sbin/exim"
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"

HAVE_EXIM = os.path.exists(EXIM)
needs_exim = pytest.mark.skipif(not HAVE_EXIM, reason=f"real Exim ({EXIM}) is not installed")

# Exim insists on a -C file owned by root and not group/world writable, and it
# only honours -C/-D for root (or for trusted configs). Both programs see the
# same files, so the suites run as root; anything else would compare exim's
# "permission denied" with whatever pexim does.
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="exim only honours -C for root")

_ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C",
    "LC_ALL": "C",
    "HOME": "/root",
    "TZ": os.environ.get("TZ", "UTC"),
}

TIMEOUT = 30


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (f"$ {' '.join(self.argv)}\n--- rc={self.rc}\n--- stdout:\n{self.stdout}"
                f"--- stderr:\n{self.stderr}")


def pexim_command() -> list[str]:
    """How to start pexim: the repository's venv if present, else this interpreter."""
    venv = REPO / ".venv" / "bin" / "python"
    python = str(venv) if venv.exists() else sys.executable
    return [python, "-m", "pexim"]


def _run(cmd: list[str], args: list[str], cwd: str | None) -> Run:
    env = dict(_ENV)
    if cmd[0] != EXIM:
        env["PYTHONPATH"] = str(REPO / "src")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(cmd + list(args), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=TIMEOUT)
    return Run(tuple(["exim" if cmd[0] == EXIM else "pexim"] + list(args)), proc.returncode,
               proc.stdout.decode("utf-8", "surrogateescape"),
               proc.stderr.decode("utf-8", "surrogateescape"))


def run_exim(args: list[str], cwd: str | None = None) -> Run:
    return _run([EXIM], args, cwd)


def run_pexim(args: list[str], cwd: str | None = None) -> Run:
    return _run(pexim_command(), args, cwd)


# --- normalisers -------------------------------------------------------------

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})? ", re.M)
_PID = re.compile(r"^\[\d+\] ", re.M)


def strip_timestamps(text: str) -> str:
    """Remove the `YYYY-MM-DD HH:MM:SS ` prefix Exim puts on logged lines."""
    return _PID.sub("", _TIMESTAMP.sub("", text))


def normalise_paths(text: str, *dirs: str | os.PathLike) -> str:
    for d in dirs:
        text = text.replace(str(d), "<DIR>")
    return text


def from_config_line(stdout: str) -> str:
    """-bV output from "Configuration file is" on (the banner before it differs)."""
    lines = stdout.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("Configuration file is"):
            return "".join(lines[i:])
    return ""


_EXIM_PATH = re.compile(r"^exim_path = .*\n?", re.M)


def drop_exim_path(stdout: str) -> str:
    """`exim_path` is the one -bP line allowed to differ (each reports itself)."""
    return _EXIM_PATH.sub("", stdout)


def world_readable_tmpdir(prefix: str) -> Path:
    """A fresh directory under /tmp that exim's own user can read.

    Exim gives up root after reading the main section of a -C file (for -bV
    and -bP), so files it `.include`s later must be readable by Debian-exim;
    pytest's tmp_path lives under a 0700 directory and would not do.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(path, 0o755)
    return path


def copy_tree(src: Path, dst: Path) -> Path:
    """Copy config files to `dst` with the owner and mode exim requires of -C files."""
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return fix_modes(dst)


def fix_modes(dst: Path) -> Path:
    """Give every file under `dst` owner root and mode 0644 (dirs 0755)."""
    for root, _dirs, files in os.walk(dst):
        os.chmod(root, 0o755)
        for f in files:
            p = os.path.join(root, f)
            os.chmod(p, 0o644)
            if os.geteuid() == 0:
                os.chown(p, 0, 0)
    return dst


def first_difference(a: str, b: str) -> str:
    """A short hint at where two outputs diverge (pytest's diff can be huge)."""
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb, strict=False)):
        if x != y:
            return f"first difference at line {i + 1}:\n  exim : {x!r}\n  pexim: {y!r}"
    if len(la) != len(lb):
        n = min(len(la), len(lb))
        extra = la[n:n + 3] if len(la) > len(lb) else lb[n:n + 3]
        who = "exim" if len(la) > len(lb) else "pexim"
        return f"{who} has {abs(len(la) - len(lb))} more lines, from line {n + 1}: {extra!r}"
    return "outputs are equal"


def directives(path: Path, key: str) -> list[str]:
    """Values of `# test-KEY: value` comment lines in a data file (one per line)."""
    prefix = f"# test-{key}:"
    out = []
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            if line.startswith(prefix):
                out.append(line[len(prefix):].strip())
    return out
