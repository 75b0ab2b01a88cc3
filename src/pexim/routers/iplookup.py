"""The iplookup router: asks a host over UDP/TCP how to route an address."""

from pexim.config.drivers import fail_for
from pexim.config.options import Option, T

S = T.STRING
TRANSPORT = "forbidden"

OPTIONS = [
    Option("hosts", S),
    Option("optional", T.BOOL, "false"),
    Option("port", T.INT, "-1"),
    Option("protocol", S),
    Option("query", S),
    Option("reroute", S),
    Option("response_pattern", S),
    Option("timeout", T.TIME, "5s"),
]


def check(inst, v) -> None:
    if v["port"] is None or v["port"] < 0:
        raise fail_for(inst, "a port must be specified")
    if v["hosts"] is None:
        raise fail_for(inst, "a host list must be specified")
    if v["protocol"] is not None and v["protocol"] not in ("udp", "tcp"):
        raise fail_for(inst, "protocol not specified as udp or tcp")


def route(rctx, r, addr, out) -> str:
    """Not implemented yet: the address defers with a clear message, never misroutes."""
    from pexim.routers.generic import RouterDefer
    raise RouterDefer(f"{r.driver} router ({r.name}) is not implemented in pexim yet")
