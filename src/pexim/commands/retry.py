"""`-brt domain|address [domain] [error]`: which retry rule would apply."""

from __future__ import annotations

import sys

from pexim.config.errors import ConfigError
from pexim.config.retry import decode_error
from pexim.delivery.retry_rules import describe, find_retry_rule


def run(config, args: list[str]) -> int:
    out = sys.stdout.write
    if not args:
        out("-brt needs a domain or address argument\n")
        return 1
    key, rest = args[0], args[1:]
    if "@" not in key and "." not in key:
        out(f'Warning: "{key}" contains no \'@\' and no \'.\' characters. It is being \n'
            "treated as a one-component domain, not as a local part.\n\n")
    alternate = None
    if rest and "." in rest[0]:
        alternate, rest = rest[0], rest[1:]
    errno, more = "*", None
    if rest:
        try:
            errno, more = decode_error(rest[0])
        except ConfigError as err:
            out(err.message + "\n")
            return 1
        if errno.endswith("_4xx"):
            more = more or "4xx"
    rule = find_retry_rule(config.retry_rules, key, alternate, errno, more)
    out("No retry information found\n" if rule is None else describe(rule) + "\n")
    return 0
