"""PCRE patterns on Python's ``re``: translation of the common PCRE-only
syntax, a compile cache (patterns are compiled once per process), and
Exim's mapping of match groups to $0..$n.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .errors import ExpansionError

_POSIX = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\n\r\f\v", "xdigit": "0-9A-Fa-f", "punct": r"!-/:-@\[-`{-~",
    "word": r"\w", "blank": r" \t", "cntrl": r"\x00-\x1f\x7f", "print": r" -~",
    "graph": "!-~",
}


def translate(p: str) -> str:
    """Rewrite PCRE-only constructs into Python ``re`` syntax."""
    out: list[str] = []
    i = 0
    n = len(p)
    in_class = False
    pending_close: list[int] = []  # depths at which a scoped flag group must close
    depth = 0
    while i < n:
        c = p[i]
        if c == "\\" and i + 1 < n:
            d = p[i + 1]
            if d == "Q":
                j = p.find("\\E", i + 2)
                j = n if j < 0 else j
                out.append(re.escape(p[i + 2:j]))
                i = j + 2
                continue
            if d == "E":
                i += 2
                continue
            if d == "z":
                out.append(r"\Z")
            elif d == "Z":
                out.append(r"(?=\n?\Z)")
            elif d == "h":
                out.append(r"[ \t]" if not in_class else r" \t")
            elif d == "x" and i + 2 < n and p[i + 2] == "{":
                j = p.find("}", i + 3)
                code = int(p[i + 3:j], 16)
                out.append("\\x%02x" % code if code < 256 else "\\u%04x" % code)
                i = j + 1
                continue
            else:
                out.append(p[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "[" and p.startswith("[:", i):
                j = p.find(":]", i + 2)
                if j > 0:
                    name = p[i + 2:j]
                    neg = name.startswith("^")
                    cls = _POSIX.get(name.lstrip("^"))
                    if cls is not None and not neg:
                        out.append(cls)
                        i = j + 2
                        continue
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < n and p[i] == "^":
                out.append("^")
                i += 1
            if i < n and p[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "(":
            m = re.compile(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?\)").match(p, i)
            if m and (i > 0 or m.group(2) is not None):
                on, off = m.group(1), m.group(2) or ""
                out.append("(?%s%s:" % (on, "-" + off if off else ""))
                pending_close.append(depth)
                i = m.end()
                continue
            if p.startswith("(?<", i) and i + 3 < n and p[i + 3] not in "=!":
                out.append("(?P<")
                i += 3
                depth += 1
                continue
            if p.startswith("(?P>", i) or p.startswith("(?&", i):
                raise ExpansionError("recursion is not supported")
            depth += 1
            out.append(c)
            i += 1
            continue
        if c == ")":
            while pending_close and pending_close[-1] == depth:
                pending_close.pop()
                out.append(")")
            depth -= 1
            out.append(c)
            i += 1
            continue
        if c == "|" and pending_close and pending_close[-1] == depth:
            # an inline option applies up to the end of the alternative
            while pending_close and pending_close[-1] == depth:
                pending_close.pop()
                out.append(")")
            out.append(c)
            i += 1
            continue
        out.append(c)
        i += 1
    while pending_close:
        pending_close.pop()
        out.append(")")
    return "".join(out)


@lru_cache(maxsize=2048)
def compile_pcre(pattern: str, caseless: bool = False) -> re.Pattern:
    """Compile once per process; errors in Exim's wording."""
    flags = re.ASCII
    if caseless:
        flags |= re.IGNORECASE
    try:
        return re.compile(translate(pattern), flags)
    except (re.error, ValueError, ExpansionError) as e:
        msg = getattr(e, "msg", None) or str(e)
        pos = getattr(e, "pos", None) or 0
        msg, pos = pcre_error(pattern, msg, pos)
        err = RegexError('regular expression error in "%s": %s at offset %d'
                         % (pattern, msg, pos))
        err.pcre_message, err.offset = msg, pos
        raise err from None


class RegexError(ExpansionError):
    """A pattern that does not compile; ``pcre_message`` and ``offset`` as PCRE2 says."""

    pcre_message = ""
    offset = 0


# Python's re error texts -> (PCRE2's text, where PCRE2 reports the offset).
_PCRE_ERRORS = (
    ("missing ), unterminated subpattern", "missing closing parenthesis", "end"),
    ("unbalanced parenthesis", "unmatched closing parenthesis", "pos"),
    ("nothing to repeat", "quantifier does not follow a repeatable item", "pos"),
    ("multiple repeat", "quantifier does not follow a repeatable item", "pos"),
    ("min repeat greater than max repeat", "numbers out of order in {} quantifier", "brace"),
    ("unterminated character set", "missing terminating ] for character class", "end"),
    ("bad escape (end of pattern)", "\\ at end of pattern", "end"),
    ("bad character range", "range out of order in character class", "range"),
    ("redefinition of group name",
     "two named subpatterns have the same name (PCRE2_DUPNAMES not set)", "pos"),
)


def pcre_error(pattern: str, msg: str, pos: int) -> tuple[str, int]:
    for py, pcre, where in _PCRE_ERRORS:
        if msg.startswith(py):
            if where == "end":
                return pcre, len(pattern)
            if where == "brace":
                j = pattern.find("}", pos)
                return pcre, j if j >= 0 else pos
            if where == "range":
                return pcre, pos + 2
            return pcre, pos
    return msg, pos


def groups(m: re.Match) -> tuple[str, ...]:
    """$0..$n after a match: up to the highest group that took part."""
    last = 0
    for k in range(m.re.groups, 0, -1):
        if m.start(k) >= 0:
            last = k
            break
    return tuple(m.group(k) or "" for k in range(last + 1))
