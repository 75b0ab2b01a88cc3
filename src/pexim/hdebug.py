"""Exim's `-bh` trace: the `>>> ` lines HDEBUG() writes while host checking.

Exim prints these whenever host_checking is set, whatever the debug selector,
so `pexim -bh` must produce the same lines from the same places (list matches,
ACL processing, SMTP session checks).  The writer is a per-session object kept
in ``ExpandContext.extra`` so lower layers (lists, ACL conditions) can reach it
without module-level state.
"""

from __future__ import annotations

from typing import Callable


class HDebug:
    """Writes `>>> ` lines; `indent` follows Exim's acl_level (one space each)."""

    __slots__ = ("_write", "indent")

    def __init__(self, write: Callable[[str], None]):
        self._write = write
        self.indent = 0

    def line(self, text: str) -> None:
        """debug_printf_indent(): prefix, nesting indent, text."""
        self._write(">>> " + " " * self.indent + text + "\n")

    def plain(self, text: str) -> None:
        """debug_printf() at the start of a line: prefix without the indent."""
        self._write(">>> " + text + "\n")


def attach(ctx, hdebug: HDebug | None) -> None:
    """Make `hdebug` the trace of everything evaluated with `ctx`."""
    if hdebug is None:
        ctx.extra.pop("hdebug", None)
        ctx.extra.pop("list_trace", None)
    else:
        ctx.extra["hdebug"] = hdebug
        ctx.extra["list_trace"] = hdebug.line


def of(ctx) -> HDebug | None:
    return ctx.extra.get("hdebug") if ctx is not None else None
