"""SMTP session cases for `-bh` comparisons with real exim (tests/data/smtp,
tests/data/acl): `key: value` header lines, then `=== config` and `=== input`
sections; input lines are sent with CRLF, `raw:` lines as written (Python
escapes, `{N*C}` for N copies of C), `<EOF>` ends the input early."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

EXIM = shutil.which("exim") or "/usr/sbin/exim"

_MSGID = re.compile(rb"\b[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}\b")
_REPEAT = re.compile(r"\{(\d+)\*(.)\}")
_DATE = re.compile(rb"(Sun|Mon|Tue|Wed|Thu|Fri|Sat), \d+ [A-Z][a-z]+ \d+ [\d:]+ [+-]\d{4}")


def parse_case(path: Path) -> tuple[dict[str, str], str, bytes]:
    """(header fields: ip defaults to 10.0.0.1, runs to 1; config text; input bytes)."""
    head = {"ip": "10.0.0.1", "runs": "1"}
    section = None
    config: list[str] = []
    lines: list[str] = []
    for raw in path.read_text().split("\n"):
        if raw.startswith("=== "):
            section = raw[4:].strip()
            continue
        if section is None:
            if ":" in raw:
                k, _, val = raw.partition(":")
                head[k.strip()] = val.strip()
        elif section == "config":
            config.append(raw)
        elif section == "input":
            lines.append(raw)
    while lines and lines[-1] == "":
        lines.pop()
    data = b""
    for line in lines:
        if line == "<EOF>":
            break
        if line.startswith("raw:"):
            text = _REPEAT.sub(lambda m: m.group(2) * int(m.group(1)), line[4:].lstrip(" "))
            data += text.encode("latin-1").decode("unicode_escape").encode("latin-1")
            continue
        data += line.encode("latin-1") + b"\r\n"
    return head, "\n".join(config).rstrip("\n") + "\n", data


def normalise(b: bytes) -> bytes:
    """Message ids and dates differ from run to run."""
    return _DATE.sub(b"DATE", _MSGID.sub(b"MSGID", b))


def usable() -> bool:
    return os.path.exists(EXIM) and os.geteuid() == 0
