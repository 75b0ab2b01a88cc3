"""The spa authenticator: Microsoft's NTLM (SPA)."""

from pexim.config.drivers import fail_for
from pexim.config.options import Option, T

OPTIONS = [Option(n, T.STRING) for n in (
    "client_domain", "client_password", "client_username", "server_password")]


def check(inst, v) -> None:
    if (v["client_username"] is None) != (v["client_password"] is None):
        raise fail_for(inst, "one of client_username and client_password cannot be set "
                             "without the other")


def roles(v) -> tuple[bool, bool]:
    return v["server_password"] is not None, v["client_username"] is not None
