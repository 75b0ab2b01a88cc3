"""Typed option tables: how each option value is parsed and how `-bP` shows it.

Every table (main options, each driver's generic and private options) is a list
of `Option` declarations. Defaults are written as configuration text, exactly as
an administrator would write them, and parsed with the same code as the file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


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


@dataclass(frozen=True, slots=True)
class Option:
    """One declared option.

    default: configuration text for the default value, or None for unset.
    hidden:  not listed by `-bP` (Exim's opt_hidden: synonyms, internal ones).
    supported: pexim implements the behaviour. Setting an unsupported option is
               accepted by -bV/-bP but refused by the modes that would need it.
    """

    name: str
    type: T
    default: str | None = None
    hidden: bool = False
    supported: bool = False


def parse_value(opt: Option, text: str) -> Any:
    """Parse configuration text for `opt`; raise ConfigError(message) on bad input."""
    raise NotImplementedError  # implemented by the options work


def format_value(opt: Option, value: Any, is_set: bool) -> str:
    """The line `-bP` prints for this option (without the trailing newline)."""
    raise NotImplementedError  # implemented by the options work


class OptionTable:
    """An ordered set of options (Exim keeps each table sorted by name; `-bP`
    prints in table order). A driver's table is its generic table plus its
    private one, generic first."""

    def __init__(self, *parts: list[Option]):
        raise NotImplementedError  # implemented by the options work

    def find(self, name: str) -> Option | None:
        raise NotImplementedError


class Settings:
    """The values of one option block: the main section, or one driver instance.

    values: name -> parsed value (defaults included); explicitly_set: names set in
    the file; secure: names set with the `hide` prefix (shown as
    `<value not displayable>` to non-admins).
    """

    def __init__(self, table: OptionTable):
        raise NotImplementedError  # implemented by the options work


def handle_option_line(settings: Settings, text: str, unknown: str) -> None:
    """Apply one logical configuration line (`[hide] [no_|not_]name [= value]`).

    `unknown` is the error format for an unknown name, e.g. 'main option "%s" unknown'
    or 'option "%s" unknown'. Raises ConfigError (without location) as Exim words it.
    """
    raise NotImplementedError  # implemented by the options work
