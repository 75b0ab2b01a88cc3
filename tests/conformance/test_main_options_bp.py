"""Main options against real Exim: `exim -C <case> -bP` versus pexim's rendering.

Cases are data under tests/data/options/: settings.txt and errors.txt hold one
configuration line per case; fragments/*.conf are whole small configurations.
pexim's side is loaded in-process with the configuration loader and rendered
with bp_lines, so this checks options.py, main_options.py and the main-section
rules of loader.py without the CLI. The one allowed
difference is exim_path (pexim reports its own executable).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from pexim.config.errors import ConfigError
from pexim.config.loader import load

EXIM = "/usr/sbin/exim"
DATA = Path(__file__).resolve().parent.parent / "data" / "options"

pytestmark = pytest.mark.skipif(not os.path.exists(EXIM),
                                reason=f"real Exim ({EXIM}) is not installed")


def _line_cases(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _fragment_cases() -> list[Path]:
    return sorted((DATA / "fragments").glob("*.conf"))


def _without_exim_path(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("exim_path = ")]


def run_exim(text: str, tmp_path: Path) -> tuple[int, list[str], tuple[int, str] | None]:
    """Exit code, -bP lines, and (line, message) of a configuration error."""
    conf = tmp_path / "case.conf"
    conf.write_bytes(text.encode("utf-8", "surrogateescape"))
    conf.chmod(0o600)
    proc = subprocess.run([EXIM, "-C", str(conf), "-bP"], capture_output=True, timeout=30)
    out = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    err = proc.stderr.decode("utf-8", "surrogateescape").splitlines()
    for i, line in enumerate(err):
        m = re.search(r"Exim configuration error in line (\d+) of ", line)
        if m and i + 1 < len(err):
            return proc.returncode, out, (int(m.group(1)), err[i + 1].strip())
    return proc.returncode, _without_exim_path(out), None


def run_pexim(text: str, tmp_path: Path) -> tuple[int, list[str], tuple[int, str] | None]:
    conf = tmp_path / "case.conf"
    conf.write_bytes(text.encode("utf-8", "surrogateescape"))
    try:
        config = load(str(conf))
    except ConfigError as err:
        return 1, [], (err.line, err.message)
    return 0, _without_exim_path(list(config.main.bp_lines(admin=True))), None


def _compare(text: str, tmp_path: Path) -> tuple[int, list[str], tuple[int, str] | None]:
    want = run_exim(text, tmp_path)
    got = run_pexim(text, tmp_path)
    if want[2] is not None:
        assert got[2] == want[2]
        assert got[0] == want[0]
    else:
        assert want[0] == 0, f"exim failed without a configuration error: {want}"
        assert got == want
    return want


@pytest.mark.parametrize("line", _line_cases("settings.txt"))
def test_setting_matches_exim(line: str, tmp_path: Path) -> None:
    rc, _, error = _compare(line + "\n", tmp_path)
    assert error is None, f"exim rejected a settings case: {error}"


@pytest.mark.parametrize("line", _line_cases("errors.txt"))
def test_error_matches_exim(line: str, tmp_path: Path) -> None:
    rc, _, error = _compare(line + "\n", tmp_path)
    assert error is not None and rc == 1, "exim accepted an errors case"


@pytest.mark.parametrize("path", _fragment_cases(), ids=lambda p: p.stem)
def test_fragment_matches_exim(path: Path, tmp_path: Path) -> None:
    _compare(path.read_text(encoding="utf-8"), tmp_path)


def test_empty_config_lists_every_visible_option(tmp_path: Path) -> None:
    rc, lines, error = _compare("", tmp_path)
    assert rc == 0 and error is None
    assert len(lines) == 270          # 271 visible options less exim_path
