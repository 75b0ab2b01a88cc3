"""Test modes (-brt, -brw, ...) compared with real exim, cases as data: a
`# test-MODE: ARGS` line in a configuration file is one case."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXIM = "/usr/sbin/exim"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", re.M)
needs_exim_root = pytest.mark.skipif(not os.path.exists(EXIM) or os.geteuid() != 0,
                                     reason="needs real exim, run as root")


def cases(data: Path, mode: str):
    """(conf, args) for each `# test-<mode>:` line of data/*.conf."""
    tag = f"# test-{mode}:"
    for conf in sorted(data.glob("*.conf")):
        for line in conf.read_text().splitlines():
            if line.startswith(tag):
                args = line[len(tag):].strip()
                yield pytest.param(conf, args, id=f"{conf.stem}:{args}")


def run_both(conf: Path, tmp_path: Path, flag: str, args: list[str]):
    """(exit code, stdout, stderr without timestamps) from pexim and from exim."""
    copy = tmp_path / conf.name
    shutil.copy(conf, copy)
    copy.chmod(0o644)

    def run(cmd):
        proc = subprocess.run([*cmd, "-C", str(copy), flag, *args], capture_output=True,
                              text=True)
        return proc.returncode, proc.stdout, TIMESTAMP.sub("", proc.stderr)

    return run([sys.executable, "-m", "pexim"]), run([EXIM])


def split(args: str) -> list[str]:
    return shlex.split(args)
