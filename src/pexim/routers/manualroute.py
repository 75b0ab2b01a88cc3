"""The manualroute router: hosts from route_list / route_data."""

from pexim.config.drivers import fail_for
from pexim.config.options import Option, T

S, B = T.STRING, T.BOOL

OPTIONS = [
    Option("host_all_ignored", S, "defer"),
    Option("host_find_failed", S, "freeze"),
    Option("hosts_randomize", B, "false"),
    Option("route_data", S),
    Option("route_list", S),
    Option("same_domain_copy_routing", B, "false"),
]

HOST_FAILED_ACTIONS = ("decline", "defer", "fail", "freeze", "ignore", "pass")


def check(inst, v) -> None:
    if v["host_find_failed"] not in HOST_FAILED_ACTIONS:
        raise fail_for(inst, "unrecognized setting for host_find_failed option")
    if v["host_all_ignored"] not in HOST_FAILED_ACTIONS or v["host_all_ignored"] == "ignore":
        raise fail_for(inst, "unrecognized setting for host_all_ignored option")
    if (v["route_list"] is None) == (v["route_data"] is None):
        raise fail_for(inst, "route_list or route_data (but not both) must be specified")
