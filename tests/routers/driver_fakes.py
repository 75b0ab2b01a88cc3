"""A stand-in for options.Settings so driver checks can be tested on their own:
values are given as Python values; unset options take their declared default."""

from __future__ import annotations

from pexim.config import drivers
from pexim.config.model import DriverInstance

_BOOLS = {"true": True, "false": False}


class FakeSettings:
    def __init__(self, kind: str, driver: str, values: dict):
        self.table = {o.name: o for o in drivers.options_in_order(kind, driver)}
        self.values = dict(values, driver=driver)

    def get(self, name):
        if name in self.values:
            return self.values[name]
        default = self.table[name].default
        if default in _BOOLS:
            return _BOOLS[default]
        return int(default) if default and default.lstrip("-").isdigit() else default

    def is_set(self, name) -> bool:
        return name in self.values


def instance(kind: str, driver: str, name: str = "x1", **values) -> DriverInstance:
    return DriverInstance(kind, name, "test.conf", 1, FakeSettings(kind, driver, values), driver)


def error(kind: str, driver: str, **values) -> str:
    """The rendered error check_instance raises (or "" when the instance is fine)."""
    try:
        drivers.check_instance(kind, instance(kind, driver, **values))
    except drivers.DriverError as err:
        return err.render()
    return ""
