"""The external authenticator (RFC 4422 EXTERNAL), e.g. TLS client certificates."""

from pexim.config.options import Option, T

OPTIONS = [Option(n, T.STRING) for n in ("client_send", "server_param2", "server_param3")]


def roles(v) -> tuple[bool, bool]:
    return v["server_condition"] is not None, v["client_send"] is not None
