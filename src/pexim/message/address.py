"""RFC 2822 / RFC 2821 address extraction: Exim's parse_extract_address()
(parse.c) with its exact error texts, used by SMTP MAIL/RCPT/VRFY, the
${address}-family expansions, header checks and -brw.

The scanner follows the C code step by step, on a string that ends at its
first NUL as a C string does.  Offsets (start, end, domain) are Exim's: start
and end delimit the operative address inside the mailbox (what a rewrite
replaces), domain is the offset of the domain in the result (0 when the address
has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

ADDRESS_MAXLENGTH = 255
_SPECIALS = " ()<>@,;:\\\".[]\x7f"
_SPACE = " \t\n\v\f\r"


def _cntrl_or_special(c: str) -> bool:
    """mac_iscntrl_or_special(); "" is the terminating NUL."""
    return c == "" or c < " " or c in _SPECIALS


def _isalnum(c: str) -> bool:
    return c != "" and c.isascii() and c.isalnum()


@dataclass
class Options:
    """The main options parse_extract_address() reads."""

    allow_domain_literals: bool = False
    allow_utf8_domains: bool = False
    strip_trailing_dot: bool = False
    strip_excess_angle_brackets: bool = False


@dataclass
class GroupState:
    """parse_allow_group / parse_found_group (header scanning with groups)."""

    allow: bool = False
    found: bool = False


_DEFAULT = Options()


class _Fail(Exception):
    pass


class _Parser:
    def __init__(self, mailbox: str, opts: Options):
        nul = mailbox.find("\0")
        self.s = mailbox if nul < 0 else mailbox[:nul]
        self.n = len(self.s)
        self.o = opts
        self.last_comment = 0
        self.error: str | None = None

    def ch(self, i: int) -> str:
        return self.s[i] if i < self.n else ""

    def skip_comment(self, i: int) -> int:
        self.last_comment = i
        s, n = self.s, self.n
        while i < n:
            while i < n and s[i] in _SPACE:
                i += 1
            if i >= n or s[i] != "(":
                break
            level = 1
            i += 1
            while i < n:
                c = s[i]
                if c == "(":
                    level += 1
                elif c == ")":
                    level -= 1
                    if level <= 0:
                        i += 1
                        break
                elif c == "\\" and i + 1 < n:
                    i += 1
                i += 1
        return i

    def read_domain(self, i: int) -> tuple[int, str]:
        """(new index, domain); "" and self.error set on a syntax error."""
        i = self.skip_comment(i)
        s = self.s
        if self.ch(i) == "[":
            t = ["["]
            i += 1
            if s[i:i + 5].lower() in ("ipv6:", "ipv4:"):
                t.append(s[i:i + 5])
                i += 5
            while self.ch(i) and (self.ch(i) in ".:" or self.ch(i) in "0123456789abcdefABCDEF"):
                t.append(s[i])
                i += 1
            out = ""
            if self.ch(i) == "]":
                t.append("]")
                i += 1
                out = "".join(t)
            else:
                self.error = "malformed domain literal"
            if not self.o.allow_domain_literals:
                # Only the error is set: a bare local@[literal], which checks
                # just for an empty domain, gets through (exim 4.96 does this).
                self.error = "domain literals not allowed"
            return self.skip_comment(i), out
        t: list[str] = []
        while True:
            tsave = len(t)
            if self.ch(i) != "-":
                if not self.o.allow_utf8_domains:
                    while _isalnum(self.ch(i)) or self.ch(i) == "-":
                        t.append(s[i])
                        i += 1
                else:
                    while True:
                        c = self.ch(i)
                        if _isalnum(c) or c == "-":
                            t.append(c)
                            i += 1
                            continue
                        if not c or ord(c) < 0x80:
                            break
                        t.append(c)       # a decoded non-ASCII character
                        i += 1
            i = self.skip_comment(i)
            if len(t) == tsave:
                if self.o.strip_trailing_dot and t and self.ch(i) != ".":
                    t.pop()
                    return i, "".join(t)
                self.error = "domain missing or malformed"
                return i, ""
            if self.ch(i) != ".":
                break
            t.append(".")
            i = self.skip_comment(i + 1)
        return i, "".join(t)

    def read_local_part(self, i: int, allow_null: bool) -> tuple[int, str]:
        self.error = None
        s, t = self.s, []
        while True:
            tsave = len(t)
            i = self.skip_comment(i)
            if self.ch(i) == '"':
                t.append('"')
                i += 1
                while i < self.n and s[i] != '"':
                    t.append(s[i])
                    if s[i] == "\\" and i + 1 < self.n:
                        i += 1
                        t.append(s[i])
                    i += 1
                if i < self.n:
                    i += 1
                    t.append('"')
                else:
                    self.error = "unmatched doublequote in local part"
                    return i, "".join(t)
            else:
                while not _cntrl_or_special(self.ch(i)) or self.ch(i) == "\\":
                    c = s[i]
                    t.append(c)
                    i += 1
                    if c == "\\" and i < self.n:
                        t.append(s[i])
                        i += 1
            i = self.skip_comment(i)
            if len(t) == tsave and self.ch(i) != ".":
                if not t and not allow_null:
                    self.error = "missing or malformed local part"
                return i, "".join(t)
            if self.ch(i) != ".":
                break
            while self.ch(i) == ".":
                t.append(".")
                i += 1
        return i, "".join(t)

    def read_route(self, i: int) -> int:
        commas = False
        self.error = None
        while self.ch(i) == "@":
            i, dom = self.read_domain(i + 1)
            if not dom:
                return i
            if self.ch(i) != ",":
                break
            i = self.skip_comment(i + 1)
            commas = True
        if self.ch(i) == ":":
            i += 1
        else:
            self.error = "colon expected after route list" if commas else "no local part"
        return self.skip_comment(i)

    def read_addr_spec(self, i: int, term: str) -> tuple[int, str, int]:
        """(index, addr-spec, domain offset in it or 0)."""
        i, local = self.read_local_part(i, False)
        if self.error is None and self.ch(i) != term:
            if self.ch(i) != "@":
                self.error = '"@" or "." expected after "%s"' % local
            else:
                i, dom = self.read_domain(i + 1)
                return i, local + "@" + dom, len(local) + 1
        return i, local, 0

    def fail(self, error: str | None = None):
        if error is not None:
            self.error = error
        raise _Fail

    def extract(self, allow_null: bool, group: GroupState):
        s = self.s
        domain = 0
        i = 0
        while True:                                 # RESTART
            i = self.skip_comment(i)
            startptr = i
            i, t = self.read_local_part(i, True)
            if self.error is not None:
                return None, i, 0, 0, 0
            c = self.ch(i)
            if c not in "@<" or c == "":
                if c == "" or c == ";":
                    if not t:
                        self.error = "empty address"
                        return None, i, 0, 0, 0
                    return self._succeed(t, i, startptr, self.last_comment, 0, group)
                while self.ch(i) != "<" and (not group.allow or self.ch(i) != ":"):
                    i, _ = self.read_local_part(i, False)
                    if self.error is not None:
                        self.error = '%s (expected word or "<")' % self.error
                        return None, i, 0, 0, 0
                if self.ch(i) == ":":
                    group.found = True
                    group.allow = False
                    i += 1
                    continue
            break
        if self.ch(i) == "<":
            source_routed = False
            bracket_count = 1
            i += 1
            if self.o.strip_excess_angle_brackets:
                while self.ch(i) == "<":
                    bracket_count += 1
                    i += 1
            startptr = i
            i = self.skip_comment(i)
            if self.ch(i) == "@":
                i = self.read_route(i)
                if self.error is not None:
                    return None, i, 0, 0, 0
                source_routed = True
            if allow_null and not source_routed and self.ch(i) == ">":
                t = ""
                self.error = None
            else:
                i, t, domain = self.read_addr_spec(i, ">")
                if self.error is not None:
                    return None, i, 0, 0, 0
                if source_routed and domain == 0:
                    self.error = "domain missing in source-routed address"
                    return None, i, 0, 0, 0
            endptr = i
            while bracket_count > 0:
                bracket_count -= 1
                c = self.ch(i)
                i += 1
                if c != ">":
                    if c == "":
                        self.error = "'>' missing at end of address"
                    else:
                        self.error = "malformed address: %s may not follow %s" % (
                            s[i - 1:i - 1 + 32], s[:i - 1])
                    return None, i, 0, 0, 0
            i = self.skip_comment(i)
        elif not t:
            i = self.read_route(i)
            if self.error is not None:
                return None, i, 0, 0, 0
            i, t, domain = self.read_addr_spec(i, "")
            if self.error is not None:
                return None, i, 0, 0, 0
            endptr = self.last_comment
            if domain == 0:
                self.error = "domain missing in source-routed address"
                return None, i, 0, 0, 0
        else:
            domain = len(t) + 1
            i, dom = self.read_domain(i + 1)
            if not dom:
                return None, i, 0, 0, 0
            self.error = None
            t = t + "@" + dom
            endptr = self.last_comment
        return self._succeed(t, i, startptr, endptr, domain, group)

    def _succeed(self, t, i, startptr, endptr, domain, group):
        s = self.s
        if i < self.n:
            if group.found and s[i] == ";":
                group.found = False
                group.allow = True
            else:
                self.error = "malformed address: %s may not follow %s" % (s[i:i + 32], s[:i])
                return None, i, 0, 0, 0
        while endptr > 0 and s[endptr - 1] in _SPACE:
            endptr -= 1
        if endptr - startptr > ADDRESS_MAXLENGTH:
            self.error = "address is ridiculously long: %s..." % t[:64]
            return None, i, 0, 0, 0
        return t, i, startptr, endptr, domain


def parse_extract_address(mailbox: str, allow_null: bool = False,
                          opts: Options | None = None, group: GroupState | None = None
                          ) -> tuple[str | None, str, int, int, int]:
    """(address or None, error, start, end, domain offset) as Exim computes them.

    `group` carries parse_allow_group/parse_found_group between calls when
    scanning a header's address list."""
    if group is None:
        group = GroupState()
    p = _Parser(str(mailbox), opts or _DEFAULT)
    addr, i, start, end, domain = p.extract(allow_null, group)
    if addr is None:
        if group.found and p.ch(i) == ";":
            group.found = False
            group.allow = True
        return None, p.error or "", 0, 0, 0
    return addr, "", start, end, domain


def find_at(s: str) -> int:
    """parse_find_at(): index of the last unescaped "@" not inside a trailing
    quoted string, or -1."""
    t = len(s) - 1
    while t >= 0:
        if s[t] == "@":
            count, k = 0, t - 1
            while k > 0 and s[k] == "\\":
                count += 1
                k -= 1
            if count % 2 == 0:
                return t
        elif s[t] == '"':
            return -1
        t -= 1
    return -1


@lru_cache(maxsize=4096)
def extract_cached(mailbox: str, allow_null: bool = False) -> tuple[str | None, str, int, int, int]:
    """parse_extract_address() with default options and no groups, cached (plain
    str in and out; callers re-apply taint)."""
    return parse_extract_address(mailbox, allow_null)
