"""Alias and forward lists (Exim's parse_forward_list()): what a redirect's data says.

Items are separated by commas or newlines; `#` at the start of an item
comments out the rest of the line.  Special items :blackhole:, :fail:,
:defer:, :unknown: and :include: end the list or pull in a file; `|command`,
`/file` and `/directory/` become pipe, file and directory deliveries; the rest
are addresses (a leading backslash keeps the incoming domain).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Outcomes (rda.c's FF_*).
DELIVERED, NOTDELIVERED, BLACKHOLE, DEFER, FAIL, ERROR = (
    "delivered", "notdelivered", "blackhole", "defer", "fail", "error")


@dataclass
class Item:
    kind: str               # "address" | "pipe" | "file" | "directory"
    text: str
    backslash: bool = False


@dataclass
class Parsed:
    code: str = DELIVERED
    items: list[Item] = field(default_factory=list)
    error: str | None = None


@dataclass
class Permit:
    blackhole: bool = True
    fail: bool = False
    defer: bool = False
    include: bool = True
    include_directory: str | None = None


_SPECIALS = (":blackhole:", ":fail:", ":defer:", ":unknown:", ":include:")


def parse(text: str, permit: Permit, depth: int = 0) -> Parsed:
    res = Parsed()
    _parse_into(text, permit, res, depth)
    if res.code == DELIVERED and not res.items:
        res.code = NOTDELIVERED
    return res


def _parse_into(text: str, permit: Permit, res: Parsed, depth: int) -> bool:
    """Adds items to res; False when a special item ended the processing."""
    from pexim.expand.address import find_address_end

    i, n = 0, len(text)
    while True:
        while i < n and (text[i].isspace() or text[i] == ","):
            i += 1
        if i >= n:
            return True
        if text[i] == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        low = text[i:i + 11].lower()
        special = next((s for s in _SPECIALS if low.startswith(s)), None)
        if special is not None:
            rest = text[i + len(special):]
            if special == ":blackhole:":
                if not permit.blackhole:
                    return _error(res, '":blackhole:" is not permitted')
                res.code = BLACKHOLE
                return False
            if special in (":fail:", ":defer:"):
                if not (permit.fail if special == ":fail:" else permit.defer):
                    return _error(res, f'"{text[i:]}" is not permitted')
                res.code = FAIL if special == ":fail:" else DEFER
                res.error = rest.strip()
                return False
            if special == ":unknown:":
                res.code = NOTDELIVERED
                res.items.clear()
                return False
            # :include:file
            end = _item_end(text, i + len(special))
            name = text[i + len(special):end].strip()
            i = end
            if not permit.include:
                return _error(res, "included files not permitted")
            if permit.include_directory is not None and \
                    not name.startswith(permit.include_directory.rstrip("/") + "/"):
                return _error(res, f"included file {name} is not in directory "
                                   f"{permit.include_directory}")
            if not name.startswith("/"):
                return _error(res, f'included file "{name}" is not an absolute path')
            try:
                with open(name, encoding="latin-1") as fh:
                    included = fh.read()
            except OSError as e:
                return _error(res, f"failed to open included file {name}: {e.strerror}")
            if depth > 20 or not _parse_into(included, permit, res, depth + 1):
                return False
            continue
        start = i
        if text[i] == '"' and i + 1 < n and text[i + 1] in "|/":
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            item = _unquote(text[i + 1:j])
            i = j + 1
            res.items.append(_pfr(item))
            continue
        if text[i] in "|/":
            end = _item_end(text, i)
            res.items.append(_pfr(text[i:end].rstrip()))
            i = end
            continue
        backslash = text[i] == "\\"
        if backslash:
            i += 1
            start = i
        end = find_address_end(text, i, False)
        nl = text.find("\n", i, end)
        if nl >= 0 and '"' not in text[i:nl]:
            end = nl
        res.items.append(Item("address", text[start:end].strip(), backslash))
        i = end


def _item_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] not in ",\n":
        i += 1
    return i


def _unquote(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            i += 1
        out.append(s[i])
        i += 1
    return "".join(out)


def _pfr(text: str) -> Item:
    if text.startswith("|"):
        return Item("pipe", text)
    return Item("directory" if text.endswith("/") else "file", text)


def _error(res: Parsed, message: str) -> bool:
    res.code, res.error = ERROR, message
    return False
