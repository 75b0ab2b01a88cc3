"""Splitting and expanding a command line (Exim's transport_set_up_command()).

The pipe transport and transport_filter split the command into arguments
first and expand each argument on its own, so an expanded value with spaces
stays one argument.  ``$pipe_addresses`` alone as an argument becomes one
argument per address.
"""

from __future__ import annotations

from pexim.bytestr import SPACE, dequote
from pexim.expand import ExpansionError, expand_string
from pexim.expand.taint import Tainted, is_tainted

MAX_EXTRA_ARGS = 60


class CommandError(Exception):
    """The command could not be set up; ``str()`` is Exim's text."""


def split_command(cmd: str) -> list[str]:
    """Arguments separated by white space; "double" quotes take backslash
    escapes, 'single' quotes are verbatim."""
    argv: list[str] = []
    i, n = 0, len(cmd)
    while i < n and cmd[i] in SPACE:
        i += 1
    while i < n:
        if cmd[i] == "'":
            j = cmd.find("'", i + 1)
            j = n if j < 0 else j
            arg = cmd[i + 1:j]
            i = min(j + 1, n)
        else:
            arg, i = dequote(cmd, i)
        argv.append(Tainted(arg) if is_tainted(cmd) else arg)
        while i < n and cmd[i] in SPACE:
            i += 1
    return argv


def set_up_command(cmd: str, ctx, etext: str, addrs=None, expand: bool = True) -> list[str]:
    """The argv for ``cmd``; ``etext`` names the user in errors
    ("pipe transport", "t1 transport").  Raises CommandError."""
    argv = split_command(cmd)
    max_args = len(addrs or ()) + MAX_EXTRA_ARGS
    if len(argv) > max_args:
        raise CommandError(f'Too many arguments in command "{cmd}" in {etext}')
    if not expand:
        return argv
    out: list[str] = []
    for arg in argv:
        if addrs and arg in ("$pipe_addresses", "${pipe_addresses}"):
            out.extend(a.address for a in addrs)
            continue
        try:
            out.append(expand_string(arg, ctx))
        except ExpansionError as e:
            raise CommandError(f'Expansion of "{arg}" from command "{cmd}" in {etext} '
                               f"failed: {e}") from e
    if len(out) > max_args:
        raise CommandError(f'Too many arguments to command "{cmd}" in {etext}')
    return out
