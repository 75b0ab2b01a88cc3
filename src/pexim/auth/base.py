"""Generic authenticator options (Exim's optionlist_auths) and auths_init's checks."""

from __future__ import annotations

from pexim.config.drivers import DriverError, driver_module
from pexim.config.options import Option, T

GENERIC_OPTIONS = [Option(n, T.STRING) for n in (
    "client_condition client_set_id driver public_name server_advertise_condition "
    "server_condition server_debug_print server_mail_auth_condition server_set_id"
).split()]


def derive(inst, v) -> dict:
    # Most drivers' init default the public name to the instance name.
    mod = driver_module("authenticator", inst.driver)
    if v["public_name"] is None and getattr(mod, "NAME_IS_PUBLIC_NAME", True):
        return {"public_name": inst.name}
    return {}


def check(inst, v) -> None:
    if v["public_name"] is None:
        raise DriverError(f"no public name specified for the {inst.name} authenticator")


def roles(inst, v) -> tuple[bool, bool]:
    """(server, client): which sides this instance is configured for."""
    mod = driver_module("authenticator", inst.driver)
    return mod.roles(v)


def check_all(auths, views) -> None:
    """Two instances may share a public name only if they serve different sides."""
    for i, (a, va) in enumerate(zip(auths, views, strict=True)):
        ra = roles(a, va)
        for b, vb in zip(auths[i + 1:], views[i + 1:], strict=True):
            if (va["public_name"] or "").lower() != (vb["public_name"] or "").lower():
                continue
            rb = roles(b, vb)
            side = "client" if ra[1] and rb[1] else "server" if ra[0] and rb[0] else None
            if side:
                raise DriverError(f"two {side} authenticators ({a.name} and {b.name}) "
                                  f"have the same public name ({va['public_name']})")
