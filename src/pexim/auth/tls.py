"""The tls authenticator: authenticates by the TLS client certificate (server only)."""

from pexim.config.options import Option, T

OPTIONS = [Option(n, T.STRING) for n in (
    "server_param", "server_param1", "server_param2", "server_param3")]
# Two names, one value in Exim: -bP shows it under both.
ALIASES = {"server_param": "server_param1"}


def derive(inst, v) -> dict:
    # Exim's init always uses the instance name as public name.
    return {"public_name": inst.name}


def roles(v) -> tuple[bool, bool]:
    return v["server_condition"] is not None, False
