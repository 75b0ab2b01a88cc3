"""Generic router options (Exim's optionlist_routers) and route_init's checks."""

from __future__ import annotations

from pexim.config.drivers import DriverError, fail_for
from pexim.config.options import Option, T

S, B = T.STRING, T.BOOL


def _o(name: str, type_: T, default: str | None = None, hidden: bool = False) -> Option:
    return Option(name, type_, default, hidden)


GENERIC_OPTIONS = [
    # Companions of the expand_* and set-flag options: internal, never settable.
    _o("*expand_group", S, hidden=True),
    _o("*expand_more", S, hidden=True),
    _o("*expand_unseen", S, hidden=True),
    _o("*expand_user", S, hidden=True),
    _o("*set_group", B, "false", hidden=True),
    _o("*set_user", B, "false", hidden=True),
    _o("address_data", S),
    _o("address_test", B, "true"),
    _o("cannot_route_message", S),
    _o("caseful_local_part", B, "false"),
    _o("check_local_user", B, "false"),
    Option("condition", S, repeat="condition"),
    _o("debug_print", S),
    _o("disable_logging", B, "false"),
    _o("dnssec_request_domains", S, "*"),
    _o("dnssec_require_domains", S),
    _o("domains", S),
    _o("driver", S),
    _o("dsn_lasthop", B, "false"),
    _o("errors_to", S),
    _o("expn", B, "true"),
    _o("fail_verify", T.BOOL_VERIFY, hidden=True),
    _o("fail_verify_recipient", B, "false"),
    _o("fail_verify_sender", B, "false"),
    _o("fallback_hosts", S),
    _o("group", T.EXPAND_GID),
    Option("headers_add", S, repeat="list"),
    Option("headers_remove", S, repeat="list"),
    _o("ignore_target_hosts", S),
    _o("initgroups", B, "false"),
    _o("local_part_prefix", S),
    _o("local_part_prefix_optional", B, "false"),
    _o("local_part_suffix", S),
    _o("local_part_suffix_optional", B, "false"),
    _o("local_parts", S),
    _o("log_as_local", B, "false"),
    _o("more", T.EXPAND_BOOL, "true"),
    _o("pass_on_timeout", B, "false"),
    _o("pass_router", S),
    _o("redirect_router", S),
    _o("require_files", S),
    _o("retry_use_local_part", B, "false"),
    _o("router_home_directory", S),
    _o("self", S, "freeze"),
    _o("senders", S),
    Option("set", S, repeat="list"),
    _o("transport", S),
    _o("transport_current_directory", S),
    _o("transport_home_directory", S),
    _o("unseen", T.EXPAND_BOOL, "false"),
    _o("user", T.EXPAND_UID),
    _o("verify", T.BOOL_VERIFY, hidden=True),
    _o("verify_only", B, "false"),
    _o("verify_recipient", B, "true"),
    _o("verify_sender", B, "true"),
]

_SELF_CODES = ("freeze", "defer", "send", "pass", "fail")


_LOCAL_PART_DEPENDENT = ("check_local_user", "local_parts", "condition", "local_part_prefix",
                         "local_part_suffix", "senders", "require_files")


def derive(inst, v) -> dict:
    # retry_use_local_part is "unset" in Exim until route_init decides: true when
    # anything about the router depends on the local part (checked against exim).
    if not v.is_set("retry_use_local_part"):
        return {"retry_use_local_part": any(v[n] for n in _LOCAL_PART_DEPENDENT)}
    return {}


def check(inst, v) -> None:
    from pexim.config.drivers import driver_module

    need = getattr(driver_module("router", inst.driver), "TRANSPORT", None)
    if need == "required" and v["transport"] is None and not v["verify_only"]:
        raise DriverError(f"{inst.name} router:\n  a transport is required for this router")
    if need == "forbidden" and v["transport"] is not None:
        raise DriverError(f"{inst.name} router:\n  a transport must not be defined for this router")
    self_ = v["self"]
    if self_ not in _SELF_CODES and not self_.startswith("reroute:"):
        raise fail_for(inst, f"{self_} is not valid for the self option")


def check_all(routers, views) -> None:
    """redirect_router may name any router; pass_router only a later one."""
    names = [r.name for r in routers]
    for pos, (r, v) in enumerate(zip(routers, views, strict=True)):
        for option, later in (("redirect_router", False), ("pass_router", True)):
            target = v[option]
            if target is None:
                continue
            if target not in names:
                raise DriverError(f'new_router "{target}" not found for "{r.name}" router')
            if later and names.index(target) <= pos:
                raise DriverError(f'new_router "{target}" does not follow "{r.name}" router')
