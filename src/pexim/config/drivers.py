"""Registry of router, transport and authenticator drivers (Exim's drtables.c).

Each driver lives in its own module under routers/, transports/ or auth/ and
declares:

  OPTIONS          its private options (list[Option])
  GENERIC_DEFAULTS optional {generic option: default text} that the driver
                   changes (accept logs as local, local transports retry per
                   local part)
  check(inst, v)   optional: the init-time checks of Exim's *_init()
  derive(inst, v)  optional: values that init fills in ({name: value}); -bP
                   shows them
  ALIASES          optional {name: other}: two names for one value

The kind's base module (routers/base.py, ...) declares GENERIC_OPTIONS and
the same check/derive hooks for the generic options. `v` is a `View`.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from functools import cache
from types import ModuleType
from typing import Any

from pexim.config.errors import UnlocatedConfigError
from pexim.config.options import Option, OptionTable

# Driver names per kind, as compiled into Debian's exim4-daemon-heavy (plus
# queuefile, which Exim has only as an experimental build option).
_PACKAGES = {
    "router": ("pexim.routers", ("accept", "dnslookup", "ipliteral", "iplookup",
                                 "manualroute", "queryprogram", "redirect")),
    "transport": ("pexim.transports", ("appendfile", "autoreply", "lmtp", "pipe",
                                       "queuefile", "smtp")),
    "authenticator": ("pexim.auth", ("cram_md5", "cyrus_sasl", "dovecot", "external",
                                     "plaintext", "spa", "tls")),
}

KINDS = tuple(_PACKAGES)


class DriverError(UnlocatedConfigError):
    """An error from a driver's init checks; Exim reports these without a line.

    for_driver: Exim's LOG_CONFIG_FOR wording ("Exim configuration error for
    NAME router:\n  text"); otherwise the plain "Exim configuration error:".
    """

    def __init__(self, message: str, for_driver: bool = False):
        super().__init__(message)
        self.for_driver = for_driver

    def render(self) -> str:
        if self.for_driver:
            return f"Exim configuration error for {self.message}"
        return super().render()


def fail_for(inst: Any, text: str) -> DriverError:
    """LOG_CONFIG_FOR error about `inst`, e.g. "r1 router:\\n  a port must be specified"."""
    return DriverError(f"{inst.name} {inst.kind}:\n  {text}", for_driver=True)


class View:
    """Read access to an instance's option values, with init-derived values."""

    def __init__(self, inst: Any, derived: dict[str, Any] | None = None):
        self.inst = inst
        self.derived = derived if derived is not None else {}

    def __getitem__(self, name: str) -> Any:
        if name in self.derived:
            return self.derived[name]
        return self.inst.settings.get(name)

    def is_set(self, name: str) -> bool:
        return self.inst.settings.is_set(name)


def base_module(kind: str) -> ModuleType:
    return importlib.import_module(_PACKAGES[kind][0] + ".base")


def driver_names(kind: str) -> tuple[str, ...]:
    return _PACKAGES[kind][1]


def driver_module(kind: str, driver: str) -> ModuleType | None:
    """The module implementing `driver`, or None when Exim would not find it."""
    package, names = _PACKAGES[kind]
    if driver not in names:
        return None
    return importlib.import_module(f"{package}.{driver}")


def private_options(kind: str, driver: str) -> list[Option]:
    """A driver's own options, sorted (empty for an unknown driver)."""
    mod = driver_module(kind, driver)
    return _sorted(mod.OPTIONS) if mod is not None else []


def _sorted(options: list[Option]) -> list[Option]:
    return sorted(options, key=lambda o: o.name)


@cache
def generic_table(kind: str) -> OptionTable:
    """The generic options alone: all a driver block may set before `driver`."""
    return OptionTable(_sorted(base_module(kind).GENERIC_OPTIONS))


def options_in_order(kind: str, driver: str) -> list[Option] | None:
    """Generic options (with this driver's defaults) then private ones, each
    sorted: Exim's table order, which -bP follows. None for an unknown driver."""
    mod = driver_module(kind, driver)
    if mod is None:
        return None
    overrides = getattr(mod, "GENERIC_DEFAULTS", {})
    generic = [replace(o, default=overrides.get(o.name, o.default))
               for o in base_module(kind).GENERIC_OPTIONS]
    return _sorted(generic) + _sorted(mod.OPTIONS)


@cache
def option_table(kind: str, driver: str) -> OptionTable | None:
    """The full table (generic then private) for `driver`; None if unknown."""
    options = options_in_order(kind, driver)
    return None if options is None else OptionTable(options)


def derived_values(kind: str, inst: Any) -> dict[str, Any]:
    """What Exim's init functions fill in for `inst` (private first, as Exim runs them)."""
    view = View(inst)
    private = driver_module(kind, inst.driver)
    for name, other in getattr(private, "ALIASES", {}).items():
        # One value under two names: whichever was set shows under both.
        if view.is_set(name) and not view.is_set(other):
            view.derived[other] = view[name]
        elif view.is_set(other):
            view.derived[name] = view[other]
    for mod in (private, base_module(kind)):
        derive = getattr(mod, "derive", None)
        if derive is not None:
            view.derived.update(derive(inst, view))
    return view.derived


def check_instance(kind: str, inst: Any) -> None:
    """Exim's init-time checks for one driver instance: the driver's own
    (readconf_driver_init) then the generic ones (route_init, transport_init,
    auths_init). Raises DriverError with Exim's text."""
    view = View(inst, derived_values(kind, inst))
    for mod in (driver_module(kind, inst.driver), base_module(kind)):
        check = getattr(mod, "check", None)
        if check is not None:
            check(inst, view)


def check_references(config: Any) -> None:
    """Checks that need all instances of a kind (router names, public names)."""
    for kind in KINDS:
        across = getattr(base_module(kind), "check_all", None)
        if across is not None:
            insts = config.drivers(kind)
            across(insts, [View(i, derived_values(kind, i)) for i in insts])
