"""The lmtp transport: LMTP over a pipe to a command or a Unix socket."""

from pexim.config.drivers import DriverError
from pexim.config.options import Option, T
from pexim.transports.base import LOCAL_DEFAULTS, user_without_group

S = T.STRING
GENERIC_DEFAULTS = LOCAL_DEFAULTS

OPTIONS = [
    Option("batch_id", S),
    Option("batch_max", T.INT, "1"),
    Option("command", S),
    Option("ignore_quota", T.BOOL, "false"),
    Option("socket", S),
    Option("timeout", T.TIME, "5m"),
]


def check(inst, v) -> None:
    if (v["command"] is None) == (v["socket"] is None):
        raise DriverError("one (and only one) of command or socket must be set "
                          f"for the {inst.name} transport")
    user_without_group(inst, v)
