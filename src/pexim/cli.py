"""Exim-compatible command line: parse argv, load the configuration, dispatch a mode.

Every flag documented in the spec's "The Exim command line" chapter is accepted
here; a mode whose behaviour pexim does not have yet says so and exits 1.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

from pexim import build
from pexim.config.errors import ConfigError

# Flags that take no value. Anything that starts a mode is listed in _MODES.
_PLAIN_FLAGS = {
    "-Ac", "-Am", "-bnq", "-dropcr", "-E", "-G", "-i", "-m", "-N", "-n", "-oee", "-oem",
    "-oep", "-oeq", "-oew", "-oi", "-oitrue", "-om", "-oo", "-ov", "-oY", "-pd", "-ps",
    "-t", "-ti", "-tls-on-connect", "-U", "-v", "-x", "-odb", "-odf", "-odi", "-odq",
    "-odqs", "-oMT", "--", "-Mset",
}
# Flags whose value is attached or in the next argument.
_VALUE_FLAGS = {
    "-C", "-F", "-f", "-r", "-h", "-L", "-oA", "-oB", "-oMa", "-oMaa", "-oMai", "-oMas",
    "-oMi", "-oMm", "-oMr", "-oMs", "-oMt", "-oP", "-oPX", "-oX", "-p", "-bh", "-bhc",
    "-bem", "-bF", "-bf", "-bmalware", "-O", "-X", "-z",
}
# Mode flags: the mode name is the flag without its dash.
_MODES = {
    "-bd", "-bdf", "-be", "-bi", "-bI:help", "-bI:dscp", "-bI:sieve", "-bm", "-bP", "-bp",
    "-bpa", "-bpc", "-bpr", "-bpra", "-bpru", "-bpu", "-brt", "-brw", "-bS", "-bs", "-bt",
    "-bV", "-bv", "-bvs", "-bw", "-bh", "-bhc", "-bem", "-bF", "-bf", "-bmalware",
    "-Mar", "-Mc", "-Meb", "-Mes", "-Mf", "-Mg", "-Mmad", "-Mmd", "-Mrm", "-Mt", "-Mvb",
    "-Mvc", "-Mvh", "-Mvl", "-M", "-R", "-S", "-q", "--help", "--version",
}
_MC_FLAGS = {"-MCA", "-MCD", "-MCd", "-MCG", "-MCK", "-MCL", "-MCP", "-MCp", "-MCQ",
             "-MCS", "-MCT", "-MCt", "-MC"}


class UsageError(Exception):
    """A bad command line; the text is what Exim prints."""


@dataclass
class Invocation:
    mode: str | None = None
    mode_arg: str | None = None
    config: str | None = None
    defines: dict[str, str] = field(default_factory=dict)
    debug: str | None = None
    flags: set[str] = field(default_factory=set)
    values: dict[str, str] = field(default_factory=dict)
    queue_spec: str | None = None
    args: list[str] = field(default_factory=list)


def parse_args(argv: list[str]) -> Invocation:
    inv = Invocation()
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            inv.args = argv[i - 1:]
            break
        if arg == "--":
            inv.args = argv[i:]
            break
        if arg.startswith("-D"):
            _define(inv, arg[2:])
            continue
        if arg.startswith("-d") and arg not in ("-dropcr",):
            inv.debug = arg[2:] or "+all"
            continue
        if arg.startswith("-q") or (arg.startswith("-R") or arg.startswith("-S")) and arg not in _VALUE_FLAGS:
            _set_mode(inv, arg[:2], arg)
            if arg[:2] in ("-R", "-S") and len(arg) <= 3 and i < len(argv):
                inv.mode_arg = argv[i]
                i += 1
            inv.queue_spec = arg
            continue
        if arg in _MC_FLAGS:
            _set_mode(inv, "-MC", arg)
            inv.args = argv[i:]
            break
        if arg in _MODES:
            _set_mode(inv, arg, None)
            if arg in ("-bh", "-bhc", "-bem", "-bF", "-bf", "-bmalware"):
                if i >= len(argv):
                    raise UsageError(f"exim abandoned: unknown, malformed, or incomplete option {arg}")
                inv.mode_arg = argv[i]
                i += 1
            continue
        if arg in _PLAIN_FLAGS:
            inv.flags.add(arg)
            continue
        name, value = _split_value_flag(arg)
        if name is None:
            raise UsageError(f"exim abandoned: unknown, malformed, or incomplete option {arg}")
        if value == "":
            if i >= len(argv):
                raise UsageError(f"exim abandoned: unknown, malformed, or incomplete option {arg}")
            value = argv[i]
            i += 1
        if name == "-C":
            inv.config = value
        else:
            inv.values[name] = value
    return inv


def _split_value_flag(arg: str) -> tuple[str | None, str]:
    """Longest value flag that prefixes `arg`, and the attached value ("" if none)."""
    for n in range(len(arg), 1, -1):
        if arg[:n] in _VALUE_FLAGS:
            return arg[:n], arg[n:]
    if arg[:3] == "-oB" or arg[:3] == "-oA":
        return arg[:3], arg[3:]
    return None, ""


def _set_mode(inv: Invocation, mode: str, spec: str | None) -> None:
    if inv.mode is None or inv.mode == mode:
        inv.mode = mode
    elif mode == "-q" and inv.mode in ("-bd", "-bdf"):
        return      # -bd -q30m: a daemon that also starts queue runners
    elif mode == "-q" and (inv.mode.startswith("-bp") or inv.mode.startswith("-M")):
        return      # -bp -qGname: list (or act on) a named queue
    elif inv.mode == "-q" and mode in ("-bd", "-bdf"):
        inv.mode = mode
    elif mode.startswith("-b") and inv.mode.startswith("-b"):
        raise UsageError(f"exim abandoned: unknown, malformed, or incomplete option {mode}")
    else:
        inv.mode = mode


def _define(inv: Invocation, text: str) -> None:
    name, _, value = text.partition("=")
    name = name.strip()
    if not name[:1].isupper():
        raise UsageError("exim: macro name set by -D must start with an upper case letter")
    if not all(c.isalnum() or c == "_" for c in name):
        raise UsageError("exim: bad -D option")
    inv.defines[name] = value.strip() if "=" in text else ""


def timestamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def report_config_error(err: ConfigError, mode: str | None) -> None:
    """Write a configuration error to stderr the way Exim does for this mode."""
    text = err.render()
    if mode == "-bP":
        sys.stderr.write(f"LOG: {err.log_flags}\n  {text}\n")
    elif mode in ("-bh", "-bhc"):       # host checking writes log lines as "LOG: "
        sys.stderr.write(f"LOG: {text}\n")
    else:
        sys.stderr.write(f"{timestamp()} {text}\n")


def find_config_file(inv: Invocation) -> str:
    """-C, else the first existing file of the compiled-in list, else the embedded one."""
    if inv.config is not None:
        return inv.config
    for path in build.CONFIGURE_FILE_LIST:
        if os.path.exists(path):
            return path
    return build.embedded_config_path()


# Exim's names for itself (exim.c): called by one of these, the flags are implied.
_CALLED_AS = {"mailq": ["-bp"], "rsmtp": ["-bS"], "rmail": ["-i", "-oee"], "runq": ["-q"],
              "newaliases": ["-bi"]}


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = _CALLED_AS.get(os.path.basename(sys.argv[0]), []) + sys.argv[1:]
    try:
        inv = parse_args(argv)
    except UsageError as err:
        sys.stderr.write(f"{err}\n")
        return 1
    if inv.mode is None:
        if "-t" in inv.flags or inv.args or "-i" in inv.flags:
            inv.mode = "-bm"
        else:
            sys.stderr.write(
                "Exim is a Mail Transfer Agent. It is normally called by Mail User Agents,\n"
                "not directly from a shell command line. Options and/or arguments control\n"
                "what it does when called. For a list of options, see the Exim documentation.\n")
            return 1
    if inv.mode == "--help":
        from pexim.commands.info import print_help
        return print_help()
    from pexim.commands import dispatch
    return dispatch(inv)
