"""Generic transport options (Exim's optionlist_transports) and transport_init's checks."""

from __future__ import annotations

from pexim.config.drivers import DriverError, driver_module
from pexim.config.options import Option, T

S, B = T.STRING, T.BOOL


def _o(name: str, type_: T, default: str | None = None, hidden: bool = False) -> Option:
    return Option(name, type_, default, hidden)


GENERIC_OPTIONS = [
    _o("*expand_group", S, hidden=True),
    _o("*expand_user", S, hidden=True),
    _o("*headers_rewrite_flags", T.INT, "0", hidden=True),
    _o("*headers_rewrite_rules", S, hidden=True),
    _o("*set_group", B, "false", hidden=True),
    _o("*set_user", B, "false", hidden=True),
    _o("body_only", B, "false"),
    _o("current_directory", S),
    _o("debug_print", S),
    _o("delivery_date_add", B, "false"),
    _o("disable_logging", B, "false"),
    _o("driver", S),
    _o("envelope_to_add", B, "false"),
    _o("event_action", S),
    _o("group", T.EXPAND_GID),
    Option("headers_add", S, repeat="list"),
    _o("headers_only", B, "false"),
    Option("headers_remove", S, repeat="list"),
    _o("headers_rewrite", T.REWRITE),
    _o("home_directory", S),
    _o("initgroups", B, "false"),
    _o("max_parallel", S),
    _o("message_size_limit", S),
    _o("rcpt_include_affixes", B, "false"),
    # Exim leaves this "unset" and init takes the driver's local flag (LOCAL_DEFAULTS).
    _o("retry_use_local_part", B, "false"),
    _o("return_path", S),
    _o("return_path_add", B, "false"),
    _o("shadow_condition", S),
    _o("shadow_transport", S),
    _o("transport_filter", S),
    _o("transport_filter_timeout", T.TIME, "5m"),
    _o("user", T.EXPAND_UID),
]

# GENERIC_DEFAULTS for drivers that deliver locally.
LOCAL_DEFAULTS = {"retry_use_local_part": "true"}


def user_without_group(inst, v) -> None:
    """A fixed uid needs a gid (a user given by name brings its own group)."""
    if v.is_set("user") and v["group"] is None and v["*expand_group"] is None:
        raise DriverError(f"user set without group for the {inst.name} transport")


def check(inst, v) -> None:
    local = getattr(driver_module("transport", inst.driver), "LOCAL", True)
    if v["shadow_transport"] is not None and not local:
        raise DriverError(f"shadow transport not allowed on non-local transport {inst.name}")
    if v["body_only"] and v["headers_only"]:
        raise DriverError(f"{inst.name} transport: body_only and headers_only "
                          "are mutually exclusive")
