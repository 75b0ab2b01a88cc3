"""The configuration as loaded: plain objects, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pexim.config.options import Settings


@dataclass(slots=True)
class DriverInstance:
    """One router, transport or authenticator block (`name:` then options)."""

    kind: str                 # "router", "transport" or "authenticator"
    name: str
    file: str
    line: int
    settings: Settings | None = None   # generic + private options, once `driver` is known
    driver: str | None = None          # the driver name, e.g. "accept"

    def get(self, option: str) -> Any:
        return self.settings.get(option)


@dataclass(frozen=True, slots=True)
class Macro:
    name: str
    value: str
    builtin: bool = False
    command_line: bool = False


@dataclass(frozen=True, slots=True)
class NamedList:
    """`domainlist`/`hostlist`/`addresslist`/`localpartlist` NAME = items."""

    kind: str          # "domain", "host", "address" or "localpart"
    name: str
    text: str
    cacheable: bool    # no `$` in the text, or `_cache` forced it


@dataclass(frozen=True, slots=True)
class RetryStep:
    letter: str        # F, G or H
    timeout: int       # seconds since first failure for which this step applies
    p1: int            # interval in seconds
    p2: int = 0        # multiplier * 1000 (G and H)


@dataclass(frozen=True, slots=True)
class RetryRule:
    pattern: str
    error: str                 # the error text as written ("*", "quota_7d", ...)
    basic_errno: str           # decoded error class, e.g. "*", "quota", "refused"
    more: Any                  # extra error data (time, "A"/"MX", code), or None
    senders: str | None
    steps: tuple[RetryStep, ...]


@dataclass(frozen=True, slots=True)
class RewriteRule:
    key: str
    replacement: str
    flags: str                 # the flag letters that apply, normalised


@dataclass(slots=True)
class Acl:
    """A named ACL from `begin acl`; statements are pexim.acl.parse.Statement."""

    name: str
    file: str
    line: int
    statements: list = field(default_factory=list)


@dataclass(slots=True)
class Config:
    """Everything read from one runtime configuration file."""

    filename: str
    directory: str
    main: Settings
    macros: list[Macro] = field(default_factory=list)
    named_lists: dict[str, dict[str, NamedList]] = field(
        default_factory=lambda: {"domain": {}, "host": {}, "address": {}, "localpart": {}})
    routers: list[DriverInstance] = field(default_factory=list)
    transports: list[DriverInstance] = field(default_factory=list)
    authenticators: list[DriverInstance] = field(default_factory=list)
    acls: dict[str, Acl] = field(default_factory=dict)
    retry_rules: list[RetryRule] = field(default_factory=list)
    rewrite_rules: list[RewriteRule] = field(default_factory=list)
    saved_lines: list[str] = field(default_factory=list)   # for `-bP config`

    def drivers(self, kind: str) -> list[DriverInstance]:
        return {"router": self.routers, "transport": self.transports,
                "authenticator": self.authenticators}[kind]

    def macro_dict(self) -> dict[str, str]:
        return {m.name: m.value for m in self.macros}
