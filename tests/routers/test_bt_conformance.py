"""`pexim -bt/-bv/-bvs ADDRESS` must print what `exim` prints, with its exit code.

Cases are lines `# test-bt: ARGS` (or test-bv, test-bvs) in the configurations
under tests/data/route/; `@DATA@` in a configuration stands for that directory
(lookup and alias files live in files/, where `@DATA@` is replaced too; both
are copied to a temporary directory). Expected output always comes from
running real exim on the same configuration.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mode_cases import EXIM, TIMESTAMP, needs_exim_root

DATA = Path(__file__).resolve().parents[1] / "data" / "route"


def _cases():
    for conf in sorted(DATA.glob("*.conf")):
        for line in conf.read_text().splitlines():
            for mode in ("bt", "bv", "bvs"):
                tag = f"# test-{mode}:"
                if line.startswith(tag):
                    args = line[len(tag):].strip()
                    yield pytest.param(conf, mode, args, id=f"{conf.stem}:{mode}:{args}")


def _run(cmd, conf: Path, mode: str, args: str):
    proc = subprocess.run([*cmd, "-C", str(conf), f"-{mode}", *shlex.split(args)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60)
    return proc.returncode, proc.stdout, TIMESTAMP.sub("", proc.stderr)


@pytest.fixture(scope="module")
def confs():
    # -bv runs as exim's user: the files must be readable by it.
    out = {}
    tmp = Path(tempfile.mkdtemp(prefix="pexim-route-", dir="/tmp"))
    tmp.chmod(0o755)
    (tmp / "files").mkdir()
    for f in (DATA / "files").iterdir():
        (tmp / "files" / f.name).write_text(f.read_text().replace("@DATA@", str(tmp)))
        (tmp / "files" / f.name).chmod(0o644)
    for conf in DATA.glob("*.conf"):
        copy = tmp / conf.name
        copy.write_text(conf.read_text().replace("@DATA@", str(tmp)))
        copy.chmod(0o644)
        out[conf.name] = copy
    yield out
    shutil.rmtree(tmp, ignore_errors=True)


@needs_exim_root
@pytest.mark.parametrize("conf,mode,args", list(_cases()))
def test_address_mode_matches_exim(conf, mode, args, confs):
    copy = confs[conf.name]
    exim = _run([EXIM], copy, mode, args)
    assert "configuration error" not in exim[2], exim[2]    # a broken case proves nothing
    pexim = _run([sys.executable, "-m", "pexim"], copy, mode, args)
    assert pexim[1] == exim[1]
    assert pexim[2] == exim[2]
    assert pexim[0] == exim[0]
