"""How `exim -bP routers|transports|authenticators` (and `-bP router NAME`)
print driver instances: every visible option in table order, with the values
Exim's init functions filled in."""

from __future__ import annotations

from typing import Any

from pexim.config.drivers import derived_values, options_in_order
from pexim.config.options import format_value

NOT_DISPLAYABLE = "<value not displayable>"


def driver_bp_lines(inst: Any, admin: bool = True, no_labels: bool = False) -> list[str]:
    """The option lines for one instance (what `-bP router NAME` prints).

    no_labels (-n): values without "name = "; booleans keep their [no_]name."""
    derived = derived_values(inst.kind, inst)
    settings = inst.settings
    secure = getattr(settings, "secure", ())
    lines = []
    for opt in options_in_order(inst.kind, inst.driver):
        if opt.hidden:
            continue
        if not admin and opt.name in secure:
            lines.append(NOT_DISPLAYABLE if no_labels else f"{opt.name} = {NOT_DISPLAYABLE}")
            continue
        value = derived[opt.name] if opt.name in derived else settings.get(opt.name)
        if value is None and opt.name.startswith("*expand_"):
            # The visible expand companion shows the string its option was given.
            base = settings.get(opt.name[len("*expand_"):])
            value = base if isinstance(base, str) else None
        is_set = settings.is_set(opt.name) or opt.name in derived
        line = format_value(opt, value, is_set)
        label = f"{opt.name} = "
        lines.append(line[len(label):] if no_labels and line.startswith(label) else line)
    return lines


def drivers_bp_lines(instances: list[Any], admin: bool = True,
                     no_labels: bool = False) -> list[str]:
    """`-bP routers` etc.: each instance after a blank line and `NAME kind:`."""
    lines = []
    for inst in instances:
        lines += ["", f"{inst.name} {inst.kind}:"]
        lines += driver_bp_lines(inst, admin, no_labels)
    return lines
