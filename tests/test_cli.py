"""The command line: Exim's flags, its usage errors, and the embedded configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from pexim.cli import UsageError, parse_args

EXIM = shutil.which("exim") or "/usr/sbin/exim"
needs_exim = pytest.mark.skipif(not os.path.exists(EXIM), reason="real exim is not installed")


def pexim(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pexim", *args], capture_output=True,
                          text=True, **kw)


def test_modes_and_values():
    inv = parse_args(["-C", "/x.conf", "-DFOO=bar", "-DBAR", "-bP", "routers"])
    assert (inv.mode, inv.config, inv.args) == ("-bP", "/x.conf", ["routers"])
    assert inv.defines == {"FOO": "bar", "BAR": ""}


def test_attached_and_separate_values():
    inv = parse_args(["-oMa", "127.0.0.1", "-fsender@example.com", "-odi", "-t"])
    assert inv.values == {"-oMa": "127.0.0.1", "-f": "sender@example.com"}
    assert {"-odi", "-t"} <= inv.flags


def test_mode_arguments():
    inv = parse_args(["-bh", "192.0.2.1"])
    assert (inv.mode, inv.mode_arg) == ("-bh", "192.0.2.1")
    inv = parse_args(["-qff30m"])
    assert (inv.mode, inv.queue_spec) == ("-q", "-qff30m")


def test_daemon_with_queue_interval():
    for argv in (["-bdf", "-q30m"], ["-q30m", "-bd"]):
        inv = parse_args(argv)
        assert inv.mode in ("-bd", "-bdf") and inv.queue_spec == "-q30m"


def test_debug_selectors_accepted():
    assert parse_args(["-d+all-memory", "-bV"]).debug == "+all-memory"
    assert parse_args(["-d", "-bV"]).debug == "+all"


@pytest.mark.parametrize("argv, message", [
    (["-bZ"], "exim abandoned: unknown, malformed, or incomplete option -bZ"),
    (["-C"], "exim abandoned: unknown, malformed, or incomplete option -C"),
    (["-Dfoo=x"], "exim: macro name set by -D must start with an upper case letter"),
])
def test_usage_errors(argv, message):
    with pytest.raises(UsageError, match=message):
        parse_args(argv)


@needs_exim
@pytest.mark.parametrize("argv", [["-bZ"], ["-C"], ["-Dfoo=x", "-bV"], []])
def test_usage_errors_match_exim(argv):
    ours = pexim(*argv)
    theirs = subprocess.run([EXIM, *argv], capture_output=True, text=True)
    assert ours.returncode == theirs.returncode
    assert ours.stderr == theirs.stderr


def test_embedded_configuration_validates():
    result = pexim("-bV")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Exim version 4.96 ")
    last = result.stdout.splitlines()[-1]
    assert last.startswith("Configuration file is ")
    assert last.endswith("default.conf") or last.endswith("/etc/pexim/configure")


@needs_exim
def test_embedded_configuration_is_valid_exim(tmp_path):
    from pexim.build import embedded_config_path

    conf = tmp_path / "default.conf"
    shutil.copy(embedded_config_path(), conf)
    conf.chmod(0o644)
    args = ["-C", str(conf), f"-DPEXIM_VAR_DIR={tmp_path}", "-bP"]
    ours, theirs = pexim(*args), subprocess.run([EXIM, *args], capture_output=True, text=True)
    assert theirs.returncode == 0, theirs.stderr
    strip = lambda s: [x for x in s.splitlines() if not x.startswith("exim_path")]  # noqa: E731
    assert strip(ours.stdout) == strip(theirs.stdout)
    assert f"spool_directory = {tmp_path}/spool" in ours.stdout


def test_unimplemented_mode_says_so():
    result = pexim("-bmalware", "/dev/null")
    assert result.returncode == 1
    assert "not implemented yet" in result.stderr


def test_python_dash_m_and_console_script_agree():
    script = os.path.join(os.path.dirname(sys.executable), "pexim")
    if not os.path.exists(script):
        pytest.fail("the pexim console script is not installed next to the interpreter")
    a = subprocess.run([script, "-bP", "qualify_domain"], capture_output=True, text=True)
    b = pexim("-bP", "qualify_domain")
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout)
