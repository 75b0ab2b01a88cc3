"""The plaintext authenticator: PLAIN, LOGIN and similar prompt/response mechanisms."""

from pexim.config.options import Option, T

OPTIONS = [
    Option("client_ignore_invalid_base64", T.BOOL, "false"),
    Option("client_send", T.STRING),
    Option("server_prompts", T.STRING),
]


def roles(v) -> tuple[bool, bool]:
    return v["server_condition"] is not None, v["client_send"] is not None
