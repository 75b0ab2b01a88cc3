"""The autoreply transport: generates a new message (vacation replies)."""

from pexim.config.options import Option, T
from pexim.transports.base import LOCAL_DEFAULTS, user_without_group

S, B = T.STRING, T.BOOL
GENERIC_DEFAULTS = LOCAL_DEFAULTS

OPTIONS = [Option(n, S) for n in (
    "bcc cc file from headers log never_mail once once_repeat reply_to subject text to"
).split()] + [
    Option("file_expand", B, "false"),
    Option("file_optional", B, "false"),
    Option("mode", T.OCTINT, "0600"),
    Option("once_file_size", T.INT, "0"),
    Option("return_message", B, "false"),
]


def check(inst, v) -> None:
    user_without_group(inst, v)
