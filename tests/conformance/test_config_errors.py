"""Broken configurations: pexim must fail (or not) exactly as Exim 4.96 does.

Each `*.conf` directly under tests/data/bad_configs/ is one case (fragments it
`.include`s live in subfolders). A few are accepted by Exim and are there to
pin the boundary (their names end in `_accepted` or they only warn). A case
may carry `# test-args: ...` comment lines: extra command-line arguments
(`-D` macros) given to both programs.

For `-C FILE -bV` the exit code must match, stderr must match once the
leading `YYYY-MM-DD HH:MM:SS ` timestamps are removed and the temporary
directory is normalised, and stdout must match from "Configuration file is"
on (the version banner before it legitimately differs).

`-bP` reports errors differently (a `LOG: PANIC DIE` block instead of a
timestamped line), so every case is also run with `-bP`, comparing exit code,
stderr and stdout (apart from the `exim_path` line).
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
from exim_oracle import (
    DATA,
    directives,
    drop_exim_path,
    first_difference,
    fix_modes,
    from_config_line,
    needs_exim,
    needs_root,
    normalise_paths,
    run_exim,
    run_pexim,
    strip_timestamps,
    world_readable_tmpdir,
)

BAD_DIR = DATA / "bad_configs"
CASES = sorted(p.name for p in BAD_DIR.glob("*.conf"))


@pytest.fixture(scope="session")
def bad_copy():
    dst = world_readable_tmpdir("pexim-bad-")
    shutil.copytree(BAD_DIR, dst, dirs_exist_ok=True)
    fix_modes(dst)
    yield dst
    shutil.rmtree(dst, ignore_errors=True)


def _args(name: str, mode: str, where: Path) -> list[str]:
    extra = [a for line in directives(BAD_DIR / name, "args") for a in shlex.split(line)]
    return ["-C", str(where / name)] + extra + [mode]


def _norm_err(text: str, where: Path) -> str:
    return normalise_paths(strip_timestamps(text), where)


@needs_exim
@needs_root
@pytest.mark.parametrize("name", CASES)
def test_bV_error_matches_exim(bad_copy: Path, name: str) -> None:
    args = _args(name, "-bV", bad_copy)
    exim = run_exim(args, cwd=str(bad_copy))
    pexim = run_pexim(args, cwd=str(bad_copy))
    want = (exim.rc, _norm_err(exim.stderr, bad_copy), from_config_line(exim.stdout))
    got = (pexim.rc, _norm_err(pexim.stderr, bad_copy), from_config_line(pexim.stdout))
    assert got == want, (
        f"stderr: {first_difference(want[1], got[1])}\n\n"
        f"=== exim\n{exim.describe()}\n=== pexim\n{pexim.describe()}")


@needs_exim
@needs_root
@pytest.mark.parametrize("name", CASES)
def test_bP_error_matches_exim(bad_copy: Path, name: str) -> None:
    args = _args(name, "-bP", bad_copy)
    exim = run_exim(args, cwd=str(bad_copy))
    pexim = run_pexim(args, cwd=str(bad_copy))
    want = (exim.rc, _norm_err(exim.stderr, bad_copy), drop_exim_path(exim.stdout))
    got = (pexim.rc, _norm_err(pexim.stderr, bad_copy), drop_exim_path(pexim.stdout))
    assert got == want, (
        f"stderr: {first_difference(want[1], got[1])}\n"
        f"stdout: {first_difference(want[2], got[2])}\n\n"
        f"=== exim\n{exim.describe()}\n=== pexim\n{pexim.describe()}")


@needs_exim
@needs_root
def test_most_cases_are_errors(bad_copy: Path) -> None:
    """The data set is what it says: at least 30 configurations exim rejects."""
    rejected = [n for n in CASES if run_exim(_args(n, "-bV", bad_copy)).rc != 0]
    assert len(rejected) >= 30, rejected
