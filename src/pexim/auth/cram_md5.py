"""The cram_md5 authenticator (RFC 2195), server and client."""

from pexim.config.options import Option, T

OPTIONS = [Option(n, T.STRING) for n in ("client_name", "client_secret", "server_secret")]
# Unlike the other drivers, cram_md5's init leaves public_name unset.
NAME_IS_PUBLIC_NAME = False


def roles(v) -> tuple[bool, bool]:
    return v["server_secret"] is not None, (v["client_name"] is not None
                                           and v["client_secret"] is not None)
