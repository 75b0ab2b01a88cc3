"""keep_environment / add_environment: `-bP environment` and the -bV warning, as exim."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

EXIM = "/usr/sbin/exim"
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "HOME": "/root", "XX": "1"}

CASES = {
    "unset": "",
    "empty": "keep_environment =\n",
    "names_and_regex": "keep_environment = PATH : ^L.* : H*\n"
                       "add_environment = FOO=bar : <; X=1\n",
    "add_only": "keep_environment =\nadd_environment = A=1 : B=2 : NOEQUALS\n",
}


def run(cmd, conf, *args):
    env = dict(ENV, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([*cmd, "-C", str(conf), *args], capture_output=True, text=True,
                          env=env)


@pytest.mark.skipif(not os.path.exists(EXIM), reason="real exim is not installed")
@pytest.mark.parametrize("case", sorted(CASES))
def test_environment_matches_exim(case, tmp_path):
    conf = tmp_path / "env.conf"
    conf.write_text(CASES[case])
    ours = run([sys.executable, "-m", "pexim"], conf, "-bP", "environment")
    theirs = run([EXIM], conf, "-bP", "environment")
    # PYTHONPATH is ours alone: it is how this interpreter finds pexim.
    ours_lines = [x for x in ours.stdout.splitlines() if not x.startswith("PYTHONPATH=")]
    assert (ours.returncode, ours_lines) == (theirs.returncode, theirs.stdout.splitlines())
    strip = lambda s: [x[20:] if x[:2] == "20" else x for x in s.splitlines()]  # noqa: E731
    ours_v, theirs_v = run([sys.executable, "-m", "pexim"], conf, "-bV"), run([EXIM], conf, "-bV")
    assert strip(ours_v.stderr) == strip(theirs_v.stderr)
