"""The cyrus_sasl authenticator: any mechanism the Cyrus SASL library offers (server only)."""

from pexim.config.options import Option, T

S = T.STRING
OPTIONS = [
    Option("server_hostname", S, "$primary_hostname"),
    Option("server_mech", S),
    Option("server_realm", S),
    Option("server_service", S, "smtp"),
]


def derive(inst, v) -> dict:
    # The mechanism defaults to the public name (itself defaulting to the instance name).
    if v["server_mech"] is None:
        return {"server_mech": v["public_name"] or inst.name}
    return {}


def roles(v) -> tuple[bool, bool]:
    return True, False
