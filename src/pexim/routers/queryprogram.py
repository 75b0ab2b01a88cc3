"""The queryprogram router: runs a command that says how to route."""

from pexim.config.drivers import fail_for
from pexim.config.options import Option, T

S = T.STRING

OPTIONS = [
    Option("*expand_command_group", S, hidden=True),
    Option("*expand_command_user", S, hidden=True),
    Option("*set_command_group", T.BOOL, "false", hidden=True),
    Option("*set_command_user", T.BOOL, "false", hidden=True),
    Option("command", S),
    Option("command_group", T.EXPAND_GID),
    Option("command_user", T.EXPAND_UID),
    Option("current_directory", S, "/"),
    Option("timeout", T.TIME, "1h"),
]


def check(inst, v) -> None:
    if v["command"] is None:
        raise fail_for(inst, "a command specification is required")
    if not v.is_set("command_user"):
        raise fail_for(inst, "command_user must be specified")


def route(rctx, r, addr, out) -> str:
    """Not implemented yet: the address defers with a clear message, never misroutes."""
    from pexim.routers.generic import RouterDefer
    raise RouterDefer(f"{r.driver} router ({r.name}) is not implemented in pexim yet")
