"""How `exim -bP routers|transports|authenticators` (and `-bP router NAME`)
print driver instances: every visible option in table order, with the values
Exim's init functions filled in."""

from __future__ import annotations

from typing import Any

from pexim.config.drivers import derived_values, options_in_order
from pexim.config.options import format_value


def driver_bp_lines(inst: Any, admin: bool = True, no_labels: bool = False,
                    topbit: bool = False) -> list[str]:
    """The option lines for one instance (what `-bP router NAME` prints).

    no_labels (-n): values without "name = "; booleans keep their [no_]name.
    topbit: the main option print_topbitchars."""
    derived = derived_values(inst.kind, inst)
    settings = inst.settings
    lines = []
    for opt in options_in_order(inst.kind, inst.driver):
        if opt.hidden:
            continue
        if opt.name in derived:
            lines.append(format_value(opt, derived[opt.name], True, admin=admin,
                                      secure=opt.name in settings.secure,
                                      no_labels=no_labels, topbit=topbit))
        else:
            lines.append(settings.bp_line(opt.name, admin, no_labels, topbit))
    return lines


def drivers_bp_lines(instances: list[Any], admin: bool = True,
                     no_labels: bool = False, topbit: bool = False) -> list[str]:
    """`-bP routers` etc.: each instance after a blank line and `NAME kind:`."""
    lines = []
    for inst in instances:
        lines += ["", f"{inst.name} {inst.kind}:"]
        lines += driver_bp_lines(inst, admin, no_labels, topbit)
    return lines
