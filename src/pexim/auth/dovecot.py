"""The dovecot authenticator: delegates server-side SASL to Dovecot's auth socket."""

from pexim.config.options import Option, T

OPTIONS = [Option("server_socket", T.STRING)]


def roles(v) -> tuple[bool, bool]:
    return v["server_socket"] is not None, False
