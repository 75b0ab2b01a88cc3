"""Rewrite rules: `begin rewrite` lines and transports' headers_rewrite."""

from __future__ import annotations

from pexim.bytestr import dequote
from pexim.config.model import RewriteRule

# Flag letters Exim accepts; E means all envelope fields, h all headers.
_FLAGS = set("qwhsftcbrEFTQRS")
_HEADER_FLAGS = "hsftcbr"   # h covers these header flags
_ENVELOPE_FLAGS = "EFT"


def parse_rewrite_rule(line: str, error, is_global: bool = True) -> RewriteRule:
    """Parse `key replacement [flags]`; `error(msg)` builds a located ConfigError."""
    key, i = dequote(line, 0)
    while i < len(line) and line[i] in " \t":
        i += 1
    if i >= len(line):
        raise error("missing rewrite replacement string")
    replacement, i = dequote(line, i)
    flags = []
    for c in line[i:]:
        if c in " \t":
            continue
        if c not in _FLAGS:
            raise error(f"unknown rewrite flag character '{c}' "
                        "(could be missing quotes round replacement item)")
        if c == "S" and not (key.startswith("^") or key.startswith("\\N^")):
            raise error("rewrite rule has the S flag but is not a regular expression")
        flags.append(c)
    if not any(f in _HEADER_FLAGS or f in _ENVELOPE_FLAGS or f == "S" for f in flags):
        flags.append("hE" if is_global else "h")
    return RewriteRule(key, replacement, "".join(flags))
