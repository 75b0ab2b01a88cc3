"""Typed option tables: how each option value is parsed and how `-bP` shows it.

Every table (main options, each driver's generic and private options) is a list
of `Option` declarations. Defaults are written as configuration text, exactly as
an administrator would write them, and parsed with the same code as the file.

This mirrors Exim 4.96's readconf_handle_option() and print_ol(), including
their C integer behaviour (32-bit wrap-around, strtol overflow), because `-bP`
output and error texts must match byte for byte.

Strings are `str`; bytes that are not valid UTF-8 (from the file or from `\\xhh`
escapes) are kept as surrogate escapes (`errors="surrogateescape"`), so the
exact bytes survive and `-bP` output must be written with that error handler.

Companion values live in `Settings.values` under Exim's internal names:
`*set_<name>` (a fixed uid/gid is set) and `*expand_<name>` (an expandable
uid/gid/boolean string).
"""

from __future__ import annotations

import enum
import grp
import pwd
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pexim.config.errors import ConfigError
from pexim.config.timeval import print_time, read_time
from pexim.lists import iter_list


class T(enum.Enum):
    """Option value types, as in Exim's readconf (opt_*)."""

    STRING = "stringptr"      # plain or expanded string (expansion happens at use)
    REWRITE = "rewrite"       # rewrite rules inside a transport (headers_rewrite)
    BOOL = "bool"
    BOOL_VERIFY = "bool_verify"   # verify = x sets verify_sender and verify_recipient
    BOOL_SET = "bool_set"
    EXPAND_BOOL = "expand_bool"   # boolean or an expanded string
    INT = "int"               # integer, K/M/G suffixes allowed, printed plainly
    MKINT = "mkint"           # integer printed with K/M when a multiple of 1024
    KINT = "Kint"             # integer held in K units (e.g. check_spool_space)
    OCTINT = "octint"         # octal (file modes)
    FIXED = "fixed"           # fixed point, three decimals (e.g. load averages)
    TIME = "time"             # 1d6h etc.
    TIMELIST = "timelist"     # colon-separated times
    UID = "uid"
    GID = "gid"
    EXPAND_UID = "expand_uid"  # user name, number, or expanded string
    EXPAND_GID = "expand_gid"
    UIDLIST = "uidlist"
    GIDLIST = "gidlist"
    TIME_OR_EXPAND = "func"   # smtp_receive_timeout: a time, or a string starting "$"


_BOOL_TYPES = frozenset({T.BOOL, T.BOOL_VERIFY, T.BOOL_SET, T.EXPAND_BOOL})
_STRING_READ_TYPES = frozenset({T.STRING, T.REWRITE, T.UID, T.GID, T.EXPAND_UID,
                                T.EXPAND_GID, T.UIDLIST, T.GIDLIST})

# Exim's delay_warning vector holds at most this many times (DELAY_WARNING_SIZE - 2).
TIMELIST_MAX = 10

HIDDEN_VALUE = "<value not displayable>"

_INT_MAX = 2**31 - 1
_INT_MIN = -(2**31)
_LONG_MAX = 2**63 - 1
_LONG_MIN = -(2**63)


@dataclass(frozen=True, slots=True)
class Option:
    """One declared option.

    default: configuration text for the default value, or None for unset.
    hidden:  not listed by `-bP` (Exim's opt_hidden: synonyms, internal ones).
    supported: pexim implements the behaviour. Setting an unsupported option is
               accepted by -bV/-bP but refused by the modes that would need it.
    alias:   a synonym stores into this other option (Exim points both table
             entries at one variable; each entry keeps its own "set" flag).
    derive:  computes the value while the option is unset and has no default
             (Exim fills these in after reading, e.g. qualify_domain).
    repeat:  the option may be set more than once: "condition" (the settings are
             and-ed, Exim's opt_rep_con) or "list" (items are appended,
             opt_rep_str: headers_add, headers_remove).
    """

    name: str
    type: T
    default: str | None = None
    hidden: bool = False
    supported: bool = False
    alias: str | None = None
    derive: Callable[[Settings], Any] | None = None
    repeat: str | None = None

    @property
    def storage(self) -> str:
        """The name the value is stored under."""
        return self.alias or self.name


# ---------------------------------------------------------------------------
# C-compatible scanning helpers


def _wrap32(n: int) -> int:
    """C int arithmetic: wrap to a signed 32-bit value."""
    n &= 0xFFFFFFFF
    return n - 2**32 if n & 0x80000000 else n


def _isspace(c: str) -> bool:
    return c in " \t\n\r\f\v"


def _skip_space(s: str, i: int) -> int:
    while i < len(s) and _isspace(s[i]):
        i += 1
    return i


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9"


def _isalnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _strtol(s: str, base: int) -> tuple[int, int, bool]:
    """C strtol on 64-bit longs: (value, end index, overflowed). End 0 = no digits."""
    i = _skip_space(s, 0)
    neg = i < len(s) and s[i] == "-"
    if i < len(s) and s[i] in "+-":
        i += 1
    hex_digits = "0123456789abcdef"
    if base in (0, 16) and s[i:i + 2].lower() == "0x" and s[i + 2:i + 3].lower() and \
            s[i + 2].lower() in hex_digits:
        base, i = 16, i + 2
    elif base == 0:
        base = 8 if s[i:i + 1] == "0" else 10
    digits = hex_digits[:base]
    j = i
    while j < len(s) and s[j].lower() in digits:
        j += 1
    if j == i:
        return 0, 0, False
    value = int(s[i:j], base) * (-1 if neg else 1)
    if value > _LONG_MAX:
        return _LONG_MAX, j, True
    if value < _LONG_MIN:
        return _LONG_MIN, j, True
    return value, j, False


def _scan_int(s: str) -> tuple[int, int] | None:
    """sscanf("%d%n"): the (truncated to int) value and the index after it."""
    value, end, overflow = _strtol(s, 10)
    if end == 0:
        return None
    return _wrap32(value), end


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _extra_chars(rest: str, *parts: str) -> ConfigError:
    comment = " (# is comment only at line start)" if rest.startswith("#") else ""
    return ConfigError("extra characters follow " + "".join(parts) + comment)


# ---------------------------------------------------------------------------
# Strings


def _interpret_escape(b: bytes, i: int) -> tuple[int, int]:
    """Exim's string_interpret_escape; b[i] is the backslash. (byte, index of last used)."""
    if i + 1 >= len(b):
        return b[i], i
    i += 1
    ch = b[i]
    if 0x30 <= ch <= 0x37:
        value = ch - 0x30
        for _ in range(2):
            if i + 1 < len(b) and 0x30 <= b[i + 1] <= 0x37:
                i += 1
                value = value * 8 + b[i] - 0x30
        return value & 0xFF, i
    if ch == ord("x"):
        value = 0
        for _ in range(2):
            if i + 1 < len(b) and chr(b[i + 1]) in "0123456789abcdefABCDEF":
                i += 1
                value = value * 16 + int(chr(b[i]), 16)
        return value, i
    return {ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13, ord("t"): 9,
            ord("v"): 11}.get(ch, ch), i


def read_string(s: str, name: str) -> str:
    """A string option value: verbatim, or quoted with escapes (Exim's read_string)."""
    if not s.startswith('"'):
        return s
    b = s.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 1
    while i < len(b) and b[i] != 0x22:
        if b[i] == 0x5C:
            ch, i = _interpret_escape(b, i)
            out.append(ch)
        else:
            out.append(b[i])
        i += 1
    if i < len(b):
        i += 1                      # closing quote
    if i == 1 or b[i - 1] != 0x22:
        raise ConfigError(f"missing quote at end of string value for {name}")
    if i < len(b):
        raise _extra_chars(b[i:].decode("utf-8", "surrogateescape"), "string value for ", name)
    return bytes(out).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def printing(s: str, escape_tab: bool = True, topbit: bool = False) -> str:
    """Exim's string_printing2: escape non-printing bytes as \\n, \\t, \\ooo."""
    if s.isascii() and s.isprintable():
        return s
    out = bytearray()
    for c in s.encode("utf-8", "surrogateescape"):
        if 0x20 <= c < 0x7F or (c > 0x7F and topbit) or (c == 9 and not escape_tab):
            out.append(c)
        else:
            esc = {10: "n", 13: "r", 8: "b", 11: "v", 12: "f", 9: "t"}.get(c)
            out += ("\\" + (esc or f"{c:03o}")).encode()
    return out.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------
# Numbers and times


def _parse_int(opt: Option, s: str) -> int:
    """opt_int / opt_mkint / opt_octint / opt_Kint (strtol, then K/M/G... suffixes)."""
    octal = opt.type is T.OCTINT
    kind = "octal " if octal else ""
    value, end, overflow = _strtol(s, 8 if octal else 0)
    if end == 0:
        raise ConfigError(f"{kind}integer expected for {opt.name}")
    kint = opt.type is T.KINT
    # Exim: "K" multiplies once for int, but means "already in K" for Kint.
    suffixes, bits = ("ZzEePpTtGgMmKk", 63) if kint else ("TtGgMmKk", 31)
    if not overflow and end < len(s):
        pos = suffixes.find(s[end])
        if pos >= 0:
            end += 1
            steps = (len(suffixes) - pos - 1) // 2 + (0 if kint else 1)
            for _ in range(steps):
                if not -(2**bits) // 1024 <= value <= (2**bits - 1) // 1024:
                    overflow = True
                    break
                value *= 1024
        elif kint:
            value = _c_div(value + 512, 1024)
    if overflow or (not kint and not _INT_MIN <= value <= _INT_MAX):
        raise ConfigError(f'absolute value of integer "{s}" is too large (overflow)')
    end = _skip_space(s, end)
    if end < len(s):
        raise _extra_chars(s[end:], kind, "integer value for ", opt.name)
    return value


def _parse_fixed(opt: Option, s: str) -> int:
    """opt_fixed: thousandths, wrapping like Exim's int arithmetic."""
    scanned = _scan_int(s)
    if scanned is None:
        raise ConfigError(f"fixed-point number expected for {opt.name}")
    value, i = scanned
    if value < 0:
        raise ConfigError(f'integer "{s}" is too large (overflow)')
    value = _wrap32(value * 1000)
    if s[i:i + 1] == ".":
        d = 100
        i += 1
        while i < len(s) and _isdigit(s[i]):
            value = _wrap32(value + int(s[i]) * d)
            d //= 10
            i += 1
    i = _skip_space(s, i)
    if i < len(s):
        raise _extra_chars(s[i:], "fixed-point value for ", opt.name)
    return value


def _parse_time(opt: Option, s: str) -> int:
    value = read_time(s)
    if value < 0:
        raise ConfigError(f"invalid time value for {opt.name}")
    return value


def _parse_timelist(opt: Option, s: str) -> tuple[int, ...]:
    """Colon-separated ascending times; a leading zero means "none"."""
    values: list[int] = []
    while s:
        if len(values) == TIMELIST_MAX:
            raise ConfigError(f"too many time values for {opt.name}")
        colon = s.find(":")
        terminator = ""
        if colon >= 0:
            end = colon
            while end > 0 and _isspace(s[end - 1]):
                end -= 1
            terminator = s[end]
        value = read_time(s, terminator)
        if value < 0:
            raise ConfigError(f"invalid time value for {opt.name}")
        if values and value <= values[-1]:
            raise ConfigError(f"time value out of order for {opt.name}")
        values.append(value)
        if colon < 0:
            break
        s = s[_skip_space(s, colon + 1):]
        if not s:
            raise ConfigError(f"invalid time value for {opt.name}")
    if values and values[0] == 0:
        return ()
    return tuple(values)


# ---------------------------------------------------------------------------
# Users and groups


def _is_number(s: str) -> bool:
    """Exim's test for a numeric uid/gid: digit or '-', then digits only."""
    return bool(s) and (_isdigit(s[0]) or s[0] == "-") and all(_isdigit(c) for c in s[1:])


def find_user(s: str) -> tuple[int, pwd.struct_passwd | None] | None:
    """route_finduser: (uid, passwd entry or None for a number), None if unknown."""
    if _is_number(s):
        # A number is taken as it is, with no passwd entry (so no group with it).
        return _wrap32(_scan_int(s)[0] if s != "-" else 0) & 0xFFFFFFFF, None
    try:
        pw = pwd.getpwnam(s)
    except (KeyError, ValueError):
        return None
    return pw.pw_uid, pw


def find_group(s: str) -> int | None:
    """route_findgroup: gid for a name or number, None if unknown."""
    if _is_number(s):
        return _wrap32(_scan_int(s)[0] if s != "-" else 0) & 0xFFFFFFFF
    try:
        return grp.getgrnam(s).gr_gid
    except (KeyError, ValueError):
        return None


class UserId(int):
    """A uid, remembering the login group when it was given by name: Exim then
    also sets the matching `*_group` option (a numeric uid brings no group)."""

    gid: int | None = None


def _need_user(s: str) -> tuple[UserId, pwd.struct_passwd | None]:
    found = find_user(s)
    if found is None:
        raise ConfigError(f"user {s} was not found")
    uid = UserId(found[0])
    if found[1] is not None:
        uid.gid = found[1].pw_gid
    return uid, found[1]


def _need_group(s: str) -> int:
    gid = find_group(s)
    if gid is None:
        raise ConfigError(f"group {s} was not found")
    return gid


def _list_items(s: str) -> list[str]:
    """Items of a uid/gid list as Exim reads them: the count comes from the colons,
    each item from string_nextinlist (so `<;` changes the separator, `::` is a colon)."""
    count = (1 if s else 0) + sum(1 for i, c in enumerate(s) if c == ":" and i + 1 < len(s))
    items, i, sep = [], _skip_space(s, 0), ":"
    if s[i:i + 1] == "<" and s[i + 1:i + 2].isascii() and s[i + 1:i + 2] not in ("", " ") \
            and not s[i + 1].isalnum():
        sep, i = s[i + 1], _skip_space(s, i + 2)
    for _ in range(count):
        i = _skip_space(s, i)
        item = []
        while i < len(s):
            if s[i] == sep:
                i += 1
                if s[i:i + 1] != sep:
                    break
            item.append(s[i])
            i += 1
        items.append("".join(item).rstrip(" \t\n\r\f\v"))
    return items


# ---------------------------------------------------------------------------
# Parsing and formatting by type


def _parse_bool(opt: Option, s: str) -> bool:
    if not s:
        return True
    i = 0
    if s[0].isascii() and s[0].isalpha():
        while i < len(s) and (_isalnum(s[i]) or s[i] == "_"):
            i += 1
    word, rest = s[:i][:63], s[_skip_space(s, i):]
    if word.lower() in ("true", "yes"):
        value = True
    elif word.lower() in ("false", "no"):
        value = False
    else:
        raise ConfigError(f'"{word}" is not a valid value for the "{opt.name}" option')
    if rest:
        raise _extra_chars(rest, f'"{word}" ', "for boolean option ", opt.name)
    return value


def _parse_expand_bool(opt: Option, s: str) -> bool | str:
    return read_string(s, opt.name) if "$" in s else _parse_bool(opt, s)


def _parse_expand_uid(opt: Option, s: str) -> int | str:
    s = read_string(s, opt.name)
    return s if "$" in s else _need_user(s)[0]


def _parse_expand_gid(opt: Option, s: str) -> int | str:
    s = read_string(s, opt.name)
    return s if "$" in s else _need_group(s)


def _parse_time_or_expand(opt: Option, s: str) -> int | str:
    return s if s.startswith("$") else _parse_time(opt, s)


_PARSERS: dict[T, Callable[[Option, str], Any]] = {
    T.STRING: lambda o, s: read_string(s, o.name),
    T.REWRITE: lambda o, s: read_string(s, o.name),
    T.BOOL: _parse_bool,
    T.BOOL_VERIFY: _parse_bool,
    T.BOOL_SET: _parse_bool,
    T.EXPAND_BOOL: _parse_expand_bool,
    T.INT: _parse_int,
    T.MKINT: _parse_int,
    T.KINT: _parse_int,
    T.OCTINT: _parse_int,
    T.FIXED: _parse_fixed,
    T.TIME: _parse_time,
    T.TIMELIST: _parse_timelist,
    T.UID: lambda o, s: _need_user(read_string(s, o.name))[0],
    T.GID: lambda o, s: _need_group(read_string(s, o.name)),
    T.EXPAND_UID: _parse_expand_uid,
    T.EXPAND_GID: _parse_expand_gid,
    T.UIDLIST: lambda o, s: tuple(_need_user(u)[0] for u in _list_items(read_string(s, o.name))),
    T.GIDLIST: lambda o, s: tuple(_need_group(g) for g in _list_items(read_string(s, o.name))),
    T.TIME_OR_EXPAND: _parse_time_or_expand,
}


def parse_value(opt: Option, text: str) -> Any:
    """Parse configuration text for `opt`; raise ConfigError(message) on bad input.

    `text` is what follows `=` (leading white space already skipped is fine).
    Booleans: True/False; expand types: str when the text contains `$`;
    uid/gid: int; lists: tuples; FIXED: thousandths; TIME: seconds.
    """
    text = text.strip(" \t\n\r\f\v") if opt.type not in _STRING_READ_TYPES else \
        text[_skip_space(text, 0):]
    return _PARSERS[opt.type](opt, text)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int, signed: bool = False) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(_wrap32(gid) if signed else gid)


def _format_mkint(x: int) -> str:
    if x != 0 and x & 1023 == 0:
        x >>= 10
        if x & 1023 == 0:
            return f"{x >> 10}M"
        return f"{x}K"
    return str(x)


def _format_kint(x: int) -> str:
    if x == 0:
        return "0"
    for shift, unit in ((30, "T"), (20, "G"), (10, "M")):
        if x & ((1 << shift) - 1) == 0:
            return f"{x >> shift}{unit}"
    return f"{x}K"


def _format_fixed(x: int) -> str:
    whole, frac = divmod(x, 1000)
    out, d = f"{whole}.", 100
    while True:
        out += str(frac // d)
        frac %= d
        d //= 10
        if frac == 0:
            return out


def format_value(opt: Option, value: Any, is_set: bool, *, admin: bool = True,
                 secure: bool = False, no_labels: bool = False, topbit: bool = False) -> str:
    """The line `-bP` prints for this option (without the trailing newline).

    is_set: for uid/gid types, whether a fixed id is set (Exim's *set_ flag);
    a str value of an expand type is shown as the string. secure: set with
    `hide`, shown only to admin callers. topbit: print_topbitchars is set.
    """
    name, t = opt.name, opt.type
    label = "" if no_labels else f"{name} = "
    if secure and not admin:
        return label + HIDDEN_VALUE
    if t in _BOOL_TYPES:
        if isinstance(value, str):
            return label + printing(value, escape_tab=False, topbit=topbit)
        return ("" if value else "no_") + name
    if t in (T.UIDLIST, T.GIDLIST):
        names = ":".join((_user_name if t is T.UIDLIST else _group_name)(x) for x in value or ())
        if no_labels:
            return names
        return f"{name} =" + (" " + names if value else "")
    if t is T.FIXED and (value is None or value < 0):
        return f"{name} ="
    return label + _format_scalar(t, value, is_set, topbit)


def _format_scalar(t: T, value: Any, is_set: bool, topbit: bool) -> str:
    if t in (T.STRING, T.REWRITE) or (t is T.TIME_OR_EXPAND and isinstance(value, str)):
        return "" if value is None else printing(value, topbit=topbit)
    if t in (T.EXPAND_UID, T.EXPAND_GID) and isinstance(value, str):
        return printing(value, escape_tab=False, topbit=topbit)
    if t in (T.UID, T.GID, T.EXPAND_UID, T.EXPAND_GID):
        if not is_set or value is None:
            return ""
        return _user_name(value) if t in (T.UID, T.EXPAND_UID) else _group_name(value, True)
    if t in (T.TIME, T.TIME_OR_EXPAND):
        return print_time(value)
    if t is T.TIMELIST:
        return ":".join(print_time(v) for v in value or ())
    if t is T.MKINT:
        return _format_mkint(value)
    if t is T.KINT:
        return _format_kint(value)
    if t is T.OCTINT:
        return "0" + format(value & 0xFFFFFFFF, "o") if value else "0"
    if t is T.FIXED:
        return _format_fixed(value)
    return str(value)


# ---------------------------------------------------------------------------
# Tables and settings


class OptionTable:
    """An ordered set of options (Exim keeps each table sorted by name; `-bP`
    prints in table order). A driver's table is its generic table plus its
    private one, generic first."""

    def __init__(self, *parts: list[Option]):
        self.options: list[Option] = [o for part in parts for o in part]
        self._by_name: dict[str, Option] = {o.name: o for o in self.options}
        self.default_values: dict[str, Any] | None = None   # filled by Settings

    def find(self, name: str) -> Option | None:
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[Option]:
        return iter(self.options)

    def __len__(self) -> int:
        return len(self.options)


class Settings:
    """The values of one option block: the main section, or one driver instance.

    values: storage name -> parsed value (defaults included, plus `*set_x` and
    `*expand_x` companions); explicitly_set: names set in the file; secure:
    names set with the `hide` prefix (shown as `<value not displayable>` to
    non-admins).
    """

    def __init__(self, table: OptionTable):
        self.table = table
        self.values: dict[str, Any] = {}
        self.explicitly_set: set[str] = set()
        self.secure: set[str] = set()
        self._apply_defaults(table)

    def _apply_defaults(self, table: OptionTable) -> None:
        """Start from the table's defaults, parsed once per table and then copied."""
        if table.default_values is None:
            for opt in table:
                if opt.alias is None:
                    self._apply_default(opt)
            table.default_values = dict(self.values)
        else:
            self.values.update(table.default_values)

    def _apply_default(self, opt: Option) -> None:
        if opt.default is None:
            self.values.setdefault(opt.storage, () if opt.type is T.TIMELIST else None)
            return
        try:
            store_value(self, opt, parse_value(opt, opt.default))
        except ConfigError:
            # A default user or group this host lacks stays unset.
            self.values[opt.storage] = None

    def extended(self, table: OptionTable) -> Settings:
        """These settings under a larger table (a driver's generic + private
        options, once `driver` is known): values already set are kept, and the
        table's defaults (which may be driver-specific) apply to the rest."""
        new = Settings.__new__(Settings)
        new.table = table
        new.values = {}
        new.explicitly_set = set(self.explicitly_set)
        new.secure = set(self.secure)
        new._apply_defaults(table)
        for key, value in self.values.items():
            if key in self.explicitly_set or key.startswith("*") or key not in new.values:
                new.values[key] = value
        return new

    def find(self, name: str) -> Option | None:
        return self.table.find(name)

    def get(self, name: str) -> Any:
        """The effective value of an option (synonyms resolved, derived defaults
        filled in). KeyError for an unknown name."""
        opt = self.table.find(name)
        if opt is None:
            raise KeyError(name)
        value = self.values.get(opt.storage)
        if opt.type in (T.EXPAND_UID, T.EXPAND_GID, T.EXPAND_BOOL):
            value = self.values.get("*expand_" + opt.storage) or value
        if value is None and opt.derive is not None:
            return opt.derive(self)
        return value

    def is_set(self, name: str) -> bool:
        """The option was set in the configuration file."""
        return name in self.explicitly_set

    def bp_line(self, name: str, admin: bool = True, no_labels: bool = False,
                topbit: bool | None = None) -> str | None:
        """`-bP name` output, or None if the option is unknown."""
        opt = self.table.find(name)
        if opt is None:
            return None
        if topbit is None:
            topbit = bool(self.values.get("print_topbitchars"))
        value = self.get(name)
        is_set = bool(self.values.get("*set_" + opt.storage))
        return format_value(opt, value, is_set, admin=admin, secure=name in self.secure,
                            no_labels=no_labels, topbit=topbit)

    def bp_lines(self, admin: bool = True, no_labels: bool = False,
                 topbit: bool | None = None) -> Iterator[str]:
        """`-bP` (all) output: every option not flagged hidden, in table order."""
        for opt in self.table:
            if not opt.hidden:
                yield self.bp_line(opt.name, admin, no_labels, topbit)


def store_value(settings: Settings, opt: Option, value: Any) -> None:
    """Store a parsed value with Exim's side effects on companion options."""
    key = opt.storage
    t = opt.type
    if t in (T.EXPAND_UID, T.EXPAND_GID, T.EXPAND_BOOL):
        expand = value if isinstance(value, str) else None
        settings.values["*expand_" + key] = expand
        if expand is not None:
            if t is not T.EXPAND_BOOL:
                settings.values["*set_" + key] = False
            return
    settings.values[key] = value
    if t in (T.UID, T.GID, T.EXPAND_UID, T.EXPAND_GID):
        settings.values["*set_" + key] = True
    if t in (T.UID, T.EXPAND_UID):
        _set_matching_group(settings, key, value)
    elif t is T.BOOL_VERIFY:
        # Exim stores `verify` into verify_sender and the option after it.
        for suffix in ("_sender", "_recipient"):
            partner = settings.find(key + suffix)
            if partner is not None:
                settings.values[partner.storage] = value
    elif t is T.BOOL_SET:
        settings.values["*set_" + key] = True


def _set_matching_group(settings: Settings, user_option: str, uid: int) -> None:
    """Setting `xxx_user` by name also sets `xxx_group` to the user's gid, unless set."""
    group = settings.find(user_option[:-4] + "group")
    if group is None or group.type not in (T.GID, T.EXPAND_GID):
        return
    gid = getattr(uid, "gid", None)
    if gid is None or settings.values.get("*set_" + group.storage):
        return
    settings.values[group.storage] = gid
    settings.values["*set_" + group.storage] = True


def _read_option_name(s: str, i: int) -> tuple[str, int]:
    j = i
    while j < len(s) and (_isalnum(s[j]) or s[j] == "_"):
        j += 1
    return s[i:j][:63], _skip_space(s, j)


def handle_option_line(settings: Settings, text: str, unknown: str) -> None:
    """Apply one logical configuration line (`[hide] [no_|not_]name [= value]`).

    `unknown` is the error format for an unknown name, e.g. 'main option "%s" unknown'
    or 'option "%s" unknown'. Raises ConfigError (without location) as Exim words it.
    """
    # The reader already removed trailing white space; what is left (a line
    # that ended in a backslash at end of file) belongs to the value, as in Exim.
    s = text.lstrip(" \t\n\r\f\v")
    if not (s[:1].isascii() and s[:1].isalpha()):
        raise ConfigError(f"option setting expected: {s}")
    name, i = _read_option_name(s, 0)
    secure = name == "hide"
    if secure:
        name, i = _read_option_name(s, i)
    negated = name.startswith(("no_", "not_"))
    opt = settings.find(name[name.index("_") + 1:] if negated else name)
    if opt is None:
        raise ConfigError(unknown % name)
    if opt.name in settings.explicitly_set and opt.repeat is None:
        raise ConfigError(f'"{name}" option set for the second time')
    settings.explicitly_set.add(opt.name)
    if secure:
        settings.secure.add(opt.name)
    rest = s[i:]
    if opt.type not in _BOOL_TYPES:
        if negated:
            raise ConfigError("negation prefix applied to a non-boolean option")
        if not rest:
            raise ConfigError(f"unexpected end of line (data missing) after {name}")
        if rest[0] != "=":
            raise ConfigError(f'missing "=" after {name}')
    elif rest and (negated or rest[0] != "="):
        raise _extra_chars(rest, "boolean option ", name)
    if rest.startswith("="):
        rest = rest[_skip_space(rest, 1):]
    if opt.repeat is not None:
        settings.values[opt.storage] = _repeated(opt, settings.values.get(opt.storage),
                                                 read_string(rest, name))
        return
    store_value(settings, opt, False if negated else parse_value(opt, rest))


_REPEAT_SEPARATORS = {"headers_add": "\n", "set": ";"}


def _repeated(opt: Option, old: str | None, new: str) -> str | None:
    """The combined value of a repeatable option after one more setting."""
    if opt.repeat == "condition":
        return new if old is None else "${if and{{bool_lax{%s}}{bool_lax{%s}}}}" % (old, new)
    sep = _REPEAT_SEPARATORS.get(opt.name, ":")
    head = new.lstrip(" \t\n\r\f\v")
    changes_sep = head[:1] == "<" and len(head) > 1 and not head[1].isalnum() \
        and not head[1].isspace()
    out = old
    for item in iter_list(new, None if changes_sep else sep):
        item = item.replace(sep, sep + sep)
        out = item if out is None else out + sep + item
    return out
