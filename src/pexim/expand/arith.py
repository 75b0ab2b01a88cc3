"""Integer handling as Exim does it: ${eval}, numeric comparisons, times.

Exim's arithmetic is C int64 with wrap-around; Python ints are wrapped to
match so that results (and overflow errors) are identical.
"""

from __future__ import annotations

import re

from .errors import ExpansionError

MAX = (1 << 63) - 1
MIN = -(1 << 63)
_SPACE = " \t\n\r\v\f"


def wrap(x: int) -> int:
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >> 63 else x


class _Eval:
    """Recursive-descent evaluator mirroring expand.c's eval_* functions."""

    __slots__ = ("s", "i", "decimal", "error")

    def __init__(self, s: str, decimal: bool):
        self.s, self.i, self.decimal, self.error = s, 0, decimal, None

    def ws(self) -> str:
        s, i = self.s, self.i
        while i < len(s) and s[i] in _SPACE:
            i += 1
        self.i = i
        return s[i] if i < len(s) else ""

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def expr(self, endket: bool) -> int:
        x = self.op_or()
        if self.error is None:
            if endket:
                if self.peek() != ")":
                    self.error = "expecting closing parenthesis"
                else:
                    self.i += 1
                    self.ws()
            elif self.i < len(self.s):
                self.error = "expecting operator"
        return x

    def number(self) -> int:
        c = self.ws()
        if c.isdigit() and c.isascii():
            s, i = self.s, self.i
            if not self.decimal and s[i] == "0" and s[i + 1:i + 2] in ("x", "X"):
                m = re.compile(r"[0-9a-fA-F]*").match(s, i + 2)
                n = int(m.group(0) or "0", 16)
            elif not self.decimal and s[i] == "0":
                m = re.compile(r"[0-7]*").match(s, i)
                n = int(m.group(0) or "0", 8)
            else:
                m = re.compile(r"[0-9]+").match(s, i)
                n = int(m.group(0))
            n = min(n, MAX)
            self.i = m.end()
            k = self.peek().lower()
            if k in ("k", "m", "g"):
                n = wrap(n * {"k": 1024, "m": 1 << 20, "g": 1 << 30}[k])
                self.i += 1
            self.ws()
            return n
        if c == "(":
            self.i += 1
            return self.expr(True)
        self.error = "expecting number or opening parenthesis"
        return 0

    def unary(self) -> int:
        c = self.ws()
        if c in ("+", "-", "~") and c:
            self.i += 1
            x = self.unary()
            if c == "-":
                x = wrap(-x)
            elif c == "~":
                x = ~x
            return x
        return self.number()

    def mult(self) -> int:
        x = self.unary()
        while self.error is None and self.peek() in ("*", "/", "%") and self.peek():
            op = self.peek()
            self.i += 1
            y = self.unary()
            if self.error is not None:
                break
            if y == -1 and x == MIN and op != "*":
                x = MAX
                continue
            if op == "*":
                x = wrap(x * y)
            elif y == 0:
                self.error = "divide by zero" if op == "/" else "modulo by zero"
                x = 0
                break
            else:
                q = abs(x) // abs(y)
                q = q if (x >= 0) == (y >= 0) else -q
                x = q if op == "/" else x - q * y
        return x

    def sum(self) -> int:
        x = self.mult()
        while self.error is None and self.peek() in ("+", "-") and self.peek():
            op = self.peek()
            self.i += 1
            y = self.mult()
            if self.error is not None:
                break
            if x >= MAX // 2 or (x <= -(MAX // 2) and y <= -(MAX // 2)):
                self.error = "overflow in sum" if op == "+" else "overflow in difference"
                break
            x = wrap(x + y if op == "+" else x - y)
        return x

    def shift(self) -> int:
        x = self.sum()
        while self.error is None and self.peek() in ("<", ">") and self.peek() \
                and self.peek(1) == self.peek():
            op = self.peek()
            self.i += 2
            y = self.sum()
            if self.error is not None:
                break
            y &= 63
            x = wrap(x << y) if op == "<" else x >> y
        return x

    def _chain(self, sub, ch: str, fn) -> int:
        x = sub()
        while self.error is None and self.peek() == ch:
            self.i += 1
            y = sub()
            if self.error is not None:
                break
            x = fn(x, y)
        return x

    def op_and(self) -> int:
        return self._chain(self.shift, "&", lambda a, b: a & b)

    def op_xor(self) -> int:
        return self._chain(self.op_and, "^", lambda a, b: a ^ b)

    def op_or(self) -> int:
        return self._chain(self.op_xor, "|", lambda a, b: a | b)


def eval_expr(s: str, decimal: bool) -> int:
    """${eval:...} / ${eval10:...}; raises with Exim's message."""
    e = _Eval(s, decimal)
    n = e.expr(False)
    if e.error is not None:
        raise ExpansionError('error in expression evaluation: %s (after processing "%s")'
                             % (e.error, s[:e.i]))
    return n


_STRTOLL = re.compile(r"[ \t\n\r\v\f]*([+-]?)([0-9]+)")


def to_integer(s: str, isplus: bool = False) -> int:
    """expanded_string_integer(): text to int64 with K/M/G, as for conditions."""
    if s[:1] and s[0] in _SPACE:
        s = s.lstrip(_SPACE)
        if not s:
            return 0
    m = _STRTOLL.match(s)
    if not m:
        raise ExpansionError('integer expected but "%s" found' % s)
    value = int(m.group(1) + m.group(2))
    overflow = value > MAX or value < MIN
    if overflow:
        value = MAX if value > 0 else MIN
    if value < 0 and isplus:
        raise ExpansionError('non-negative integer expected but "%s" found' % s)
    end = m.end()
    k = s[end:end + 1].lower()
    if k in ("k", "m", "g"):
        mult = {"k": 1024, "m": 1 << 20, "g": 1 << 30}[k]
        if value > MAX // mult or value < -(MAX // mult) - 1:
            overflow = True
        else:
            value *= mult
        end += 1
    if overflow:
        raise ExpansionError('absolute value of integer "%s" is too large (overflow)' % s)
    if s[end:].strip(_SPACE):
        raise ExpansionError('invalid integer "%s"' % s)
    return value
