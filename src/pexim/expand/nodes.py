"""AST node basics: sequences, variables, $n and header references.

Every node has ``ev(ctx) -> str``.  Literal text is kept as plain ``str``
inside a ``Seq`` so the common case costs one join.
"""

from __future__ import annotations

from .errors import ExpansionError
from .headers import header_value
from .taint import Tainted


class Node:
    __slots__ = ()

    def ev(self, ctx) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class Seq(Node):
    """Concatenation of literal strings and nodes."""

    __slots__ = ("parts",)

    def __init__(self, parts: list):
        self.parts = parts

    def ev(self, ctx) -> str:
        parts = self.parts
        if len(parts) == 1:
            p = parts[0]
            return p if type(p) is str else p.ev(ctx)
        out = [p if type(p) is str else p.ev(ctx) for p in parts]
        s = "".join(out)
        for p in out:
            if isinstance(p, Tainted):
                return Tainted(s)
        return s

    @property
    def text_only(self) -> bool:
        return all(type(p) is str for p in self.parts)

    def literal(self) -> str | None:
        """The constant value, when the sequence holds no expansions."""
        return "".join(self.parts) if self.text_only else None


EMPTY = Seq([])


class Var(Node):
    """$name or ${name}; the getter is resolved once at compile time."""

    __slots__ = ("name", "get", "braced")

    def __init__(self, name: str, getter, braced: bool):
        self.name = name
        self.get = getter
        self.braced = braced

    def ev(self, ctx) -> str:
        v = self.get(ctx, self.name)
        if v is None:
            from .variables import unknown_suffix
            if self.braced:
                msg = 'unknown variable in "${%s}"' % self.name
            else:
                msg = 'unknown variable name "%s"' % self.name
            raise ExpansionError(msg + unknown_suffix(self.name))
        return v


class NumVar(Node):
    """$n / ${n}: a numeric variable from the last regex match."""

    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = n

    def ev(self, ctx) -> str:
        nv = ctx.nvars
        return nv[self.n] if self.n < len(nv) else ""


class Header(Node):
    """$h_name: and its raw/list/binary variants."""

    __slots__ = ("kind", "name")

    def __init__(self, kind: str, name: str):
        self.kind = kind
        self.name = name

    def ev(self, ctx) -> str:
        v = header_value(ctx, self.kind, self.name)
        return "" if v is None else v
