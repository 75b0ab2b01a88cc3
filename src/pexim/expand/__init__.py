"""Exim's string expansion language: compile once, evaluate many times.

    exp = compile("${lc:$local_part}@$domain")   # parse once (syntax errors here)
    exp.evaluate(ctx)                           # cheap, repeatable

Strings are byte strings held in str (one char per byte, latin-1); values
from outside are ``Tainted``.  Failures raise ``ExpansionError`` (with
Exim's message) or its subclass ``ForcedFail``.
"""

from __future__ import annotations

from functools import lru_cache

from pexim.bytestr import to_bytestr

from .context import ExpandContext
from .errors import ExpansionError, ForcedFail
from .parser import parse
from .taint import Tainted, is_tainted

__all__ = [
    "Expansion", "ExpandContext", "ExpansionError", "ForcedFail", "Tainted", "compile",
    "compile_cached", "expand_string", "is_tainted",
]


class Expansion:
    """A compiled expansion string."""

    __slots__ = ("text", "root", "constant")

    def __init__(self, text: str):
        text = to_bytestr(text)
        self.text = text
        if "$" not in text and "\\" not in text:
            self.root = None
            self.constant = text
        else:
            self.root = parse(text)
            self.constant = self.root.literal()

    def evaluate(self, ctx: ExpandContext) -> str:
        if self.constant is not None:
            return self.constant
        return self.root.ev(ctx)

    def __repr__(self) -> str:
        return "Expansion(%r)" % self.text


def compile(text: str) -> Expansion:  # noqa: A001 - the natural name for this API
    """Parse ``text``; raises ExpansionError with Exim's message on bad syntax."""
    return Expansion(text)


@lru_cache(maxsize=4096)
def compile_cached(text: str) -> Expansion:
    """compile() for strings built at run time (${expand:}, ${sg} replacements)."""
    return Expansion(text)


def expand_string(text: str, ctx: ExpandContext | None = None) -> str:
    """Compile (cached) and evaluate in one step."""
    return compile_cached(text).evaluate(ctx if ctx is not None else ExpandContext())
