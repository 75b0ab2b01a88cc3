"""Parse expansion text into an AST, reporting syntax errors as Exim does.

The scanning mirrors expand.c's expand_string_internal(): the same
characters end names and arguments, so the same text is accepted, and the
errors found while scanning carry the same messages.  Checks that Exim only
makes while evaluating stay in the nodes.
"""

from __future__ import annotations

from pexim.bytestr import interpret_escape, isalnum, isalpha, isdigit, isgraph

from . import conditions as C
from . import items as I
from . import operators as O
from . import variables
from .errors import CurlyError, ExpansionError
from .nodes import EMPTY, Header, NumVar, Seq, Var

SPACE = " \t\n\r\v\f"
NAME_MAX = 255


class Parser:
    __slots__ = ("s", "n", "malformed_header")

    def __init__(self, text: str):
        self.s = text
        self.n = len(text)
        self.malformed_header = False

    # --- low level -------------------------------------------------------

    def ch(self, i: int) -> str:
        return self.s[i] if i < self.n else ""

    def skip_ws(self, i: int) -> int:
        s, n = self.s, self.n
        while i < n and s[i] in SPACE:
            i += 1
        return i

    def read_name(self, i: int, extras: str) -> tuple[str, int]:
        s, n = self.s, self.n
        j = i
        while j < n and (isalnum(s[j]) or s[j] in extras):
            j += 1
        return s[i:j][:NAME_MAX], j

    def fail(self, msg: str):
        raise ExpansionError(msg)

    def curly(self, msg: str = ""):
        if self.malformed_header:
            msg = "missing or misplaced { or } - could be header name not terminated by colon"
        elif not msg:
            msg = "missing or misplaced { or }"
        raise CurlyError(msg)

    def header_name(self, name: str, i: int) -> tuple[str, int]:
        """read_header_name(): the rest of a $h_ name, ending with ':'."""
        s, n = self.s, self.n
        rest = name[name.index("_") + 1:]
        j = i
        while j < n and isgraph(s[j]) and s[j] != ":":
            j += 1
        rest = (rest + s[i:j])[:NAME_MAX - 1]
        if j < n and s[j] == ":":
            j += 1
        return rest + ":", j

    @staticmethod
    def header_kind(name: str) -> str | None:
        """'' / 'r' / 'l' / 'b' if ``name`` introduces a header reference."""
        k = ""
        t = name
        if t[:1] in ("r", "l", "b") and t[1:2] == "h":
            k, t = t[0], t[1:]
        if t[:1] == "h" and (t[1:2] == "_" or t[1:7] == "eader_"):
            return k
        return None

    # --- sequences -------------------------------------------------------

    def seq(self, i: int, brace_ends: bool, dollar: bool = True) -> tuple[Seq, int]:
        s, n = self.s, self.n
        parts: list = []
        text: list[str] = []
        while i < n:
            c = s[i]
            if c == "\\":
                if i + 1 >= n:
                    self.fail("\\ at end of string")
                if s[i + 1] == "N":
                    j = s.find("\\N", i + 2)
                    if j < 0:
                        text.append(s[i + 2:])
                        i = n
                    else:
                        text.append(s[i + 2:j])
                        i = j + 2
                else:
                    ch, i = interpret_escape(s, i)
                    text.append(ch)
                continue
            if brace_ends and c == "}":
                break
            if c != "$" or not dollar:
                j = i + 1
                while j < n and s[j] not in "$}\\":
                    j += 1
                text.append(s[i:j])
                i = j
                continue
            node, i = self.dollar(i + 1)
            if node is not None:
                if text:
                    parts.append("".join(text))
                    text = []
                parts.append(node)
        if brace_ends and i >= n:
            if self.malformed_header:
                self.fail("missing } at end of string - could be header name not "
                          "terminated by colon")
            self.fail("missing } at end of string")
        if text:
            parts.append("".join(text))
        return (Seq(parts) if parts else EMPTY), i

    def arg(self, i: int, dollar: bool = True) -> tuple[Seq, int]:
        """A braced argument; ``i`` is just after the '{'; returns after the '}'."""
        node, i = self.seq(i, True, dollar)
        return node, i + 1

    def dollar(self, i: int):
        s = self.s
        c = self.ch(i)
        if isalpha(c):
            name, i = self.read_name(i, "_")
            kind = self.header_kind(name)
            if kind is not None:
                hname, i = self.header_name(name, i)
                if "}" in hname:
                    self.malformed_header = True
                return Header(kind, hname), i
            return self.variable(name, False), i
        if isdigit(c):
            j = i
            while j < self.n and isdigit(s[j]):
                j += 1
            return NumVar(int(s[i:j])), j
        if c != "{":
            self.fail("$ not followed by letter, digit, or {")
        i += 1
        c = self.ch(i)
        if isdigit(c):
            j = i
            while j < self.n and isdigit(s[j]):
                j += 1
            if self.ch(j) != "}":
                self.fail("} expected after number")
            return NumVar(int(s[i:j])), j + 1
        if not isalpha(c):
            self.fail("letter or digit expected after ${")
        name, i = self.read_name(i, "_-")
        parse_item = I.ITEMS.get(name)
        if parse_item is not None:
            return parse_item(self, name, i)
        if self.ch(i) == ":":
            return O.parse_operator(self, name, i)
        if self.ch(i) == "}":
            return self.variable(name, True), i + 1
        self.fail('"${%s" is not a known operator (or a } is missing in a variable '
                  "reference)" % name)

    def variable(self, name: str, braced: bool) -> Var:
        getter = variables.find(name)
        if getter is None:
            if braced:
                msg = 'unknown variable in "${%s}"' % name
            else:
                msg = 'unknown variable name "%s"' % name
            self.fail(msg + variables.unknown_suffix(name))
        return Var(name, getter, braced)

    # --- shared argument forms ------------------------------------------

    def subs(self, i: int, n: int, m: int, check_end: bool, name: str):
        """read_subs(): up to n braced args, at least m; returns (args, i)."""
        args: list[Seq] = []
        i = self.skip_ws(i)
        for k in range(n):
            if self.ch(i) != "{":
                if k < m:
                    self.curly("Not enough arguments for '%s' (min is %d)" % (name, m))
                break
            node, i = self.arg(i + 1)
            args.append(node)
            i = self.skip_ws(i)
        if check_end:
            if self.ch(i) != "}":
                if self.ch(i) == "{":
                    self.fail("Too many arguments for '%s' (max is %d)" % (name, n))
                self.curly("missing '}' after '%s'" % name)
            i += 1
        return args, i

    def yesno(self, i: int, kind: str):
        """process_yesno() syntax: ({yes})?({no}|fail)?} -> (YesNo, i)."""
        s = self.s
        i = self.skip_ws(i)
        if self.ch(i) == "}":
            return I.YesNo(kind, None, None, False, True), i + 1
        if self.ch(i) != "{":
            self._yesno_curly("'yes' part did not start with '{'", i)
        yes, i = self.seq(i + 1, True)
        i += 1
        no = None
        fail = False
        i = self.skip_ws(i)
        if self.ch(i) == "{":
            no, i = self.seq(i + 1, True)
            i += 1
        elif self.ch(i) != "}":
            word, i = self.read_name(i, "_")
            if word != "fail":
                self.fail('syntax error in "%s" item - "fail" expected' % kind)
            fail = True
            i = self.skip_ws(i)
            if self.ch(i) != "}":
                self._yesno_curly("did not close with '}' after forcedfail", i)
        i = self.skip_ws(i)
        if self.ch(i) != "}":
            self._yesno_curly("did not close with '}'", i)
        del s
        return I.YesNo(kind, yes, no, fail, False), i + 1

    def _yesno_curly(self, where: str, i: int):
        self.curly("curly-bracket problem in conditional yes/no parsing: %s\n"
                   " remaining string is '%s'" % (where, self.s[i:]))

    # --- conditions -------------------------------------------------------

    def condition(self, i: int):
        return C.parse_condition(self, i)


def parse(text: str) -> Seq:
    p = Parser(text)
    node, _ = p.seq(0, False)
    return node
