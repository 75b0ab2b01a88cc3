"""The `begin retry` section: one rule per line (Exim's readconf_retries)."""

from __future__ import annotations

from pexim.bytestr import dequote
from pexim.config.errors import ConfigError
from pexim.config.model import RetryRule, RetryStep
from pexim.config.timeval import read_time

_TIMEOUT_EXTRAS = ("A", "MX", "connect", "connect_A", "connect_MX")


def _isspace(c: str) -> bool:
    return c in " \t\n\r\f\v"


TIMEOUT_DNS_WARNING = ('"timeout_dns" is no longer available in retry rules '
                       '(it has never worked) - treated as "timeout"')


def decode_error(text: str, warn=None) -> tuple[str, object]:
    """Decode an error name such as `quota_7d` or `rcpt_45x` (readconf_retry_error)."""
    base, _, extra = text.partition("_")
    low = base.lower()
    if low == "quota":
        if not extra:
            return "quota", None
        t = read_time(extra)
        if t < 0:
            raise ConfigError("bad time value")
        return "quota", t
    if low == "refused":
        if not extra:
            return "refused", None
        if extra.lower() in ("mx", "a"):
            return "refused", extra.upper()
        raise ConfigError('A or MX expected after "refused"')
    if low == "timeout":
        if not extra:
            return "timeout", None
        for name in _TIMEOUT_EXTRAS:
            if name.lower().startswith(extra.lower()):
                return "timeout", name
        if extra[:3].lower() == "dns":     # Exim accepts it with a warning
            if warn is not None:
                warn(TIMEOUT_DNS_WARNING)
            return "timeout", None
        raise ConfigError('"A", "MX", or "connect" expected after "timeout"')
    if text[:6].lower() in ("mail_4", "rcpt_4", "data_4"):
        code = text[6:]
        if len(code) != 2 or not (
                (code[0].isdigit() and (code[1].isdigit() or code[1] == "x"))
                or code == "xx"):
            raise ConfigError(f"{text[:4]}_4 must be followed by xx, dx, or dd, where "
                              "x is literal and d is any digit")
        return text[:4].lower() + "_4xx", "4" + code
    if low == "auth" and "failed".startswith(extra.lower()):
        return "auth_failed", None
    for name in ("lost_connection", "tls_required", "lookup"):
        if name.startswith(text.lower()):
            return name, None
    if text != "*":
        raise ConfigError(f'unknown or malformed retry error "{text}"')
    return "*", None


def _arg(s: str, i: int, fixed: bool, error) -> tuple[int, int]:
    """Read `,value` at s[i] (retry_arg): a time, or a fixed-point number * 1000."""
    if i >= len(s) or s[i] != ",":
        raise error("comma expected")
    i += 1
    while i < len(s) and _isspace(s[i]):
        i += 1
    j = i
    while j < len(s) and (s[j].isalnum() or (fixed and s[j] == ".")):
        j += 1
    if j < len(s) and not _isspace(s[j]) and s[j] not in ",;":
        raise error("comma or semicolon expected")
    text = s[i:j]
    if fixed:
        return _read_fixed(text), j
    return read_time(text), j


def _read_fixed(text: str) -> int:
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return -1
    return int(whole) * 1000 + int((frac + "000")[:3] or 0)


def parse_retry_rule(line: str, error, warn=None) -> RetryRule:
    """Parse one rule; `error(msg)` builds a located ConfigError, `warn(msg)` logs."""
    pattern, i = dequote(line, 0)
    while i < len(line) and _isspace(line[i]):
        i += 1
    j = i
    while j < len(line) and line[j].isprintable() and not _isspace(line[j]):
        j += 1
    if j == i:
        raise error("missing error type in retry rule")
    err_text = line[i:j]
    try:
        errno, more = decode_error(err_text, warn)
    except ConfigError as e:
        raise error(e.message) from None
    i = j
    while i < len(line) and _isspace(line[i]):
        i += 1
    senders = None
    if line.startswith("senders", i):
        i += 7
        while i < len(line) and _isspace(line[i]):
            i += 1
        if i >= len(line) or line[i] != "=":
            raise error('"=" expected after "senders" in retry rule')
        i += 1
        while i < len(line) and _isspace(line[i]):
            i += 1
        senders, i = dequote(line, i)
    while i < len(line) and _isspace(line[i]):
        i += 1
    steps = []
    while i < len(line):
        letter = line[i].upper()
        timeout, i = _arg(line, i + 1, False, error)
        p2 = 0
        if letter == "F":
            p1, i = _arg(line, i, False, error)
        elif letter in "GH":
            p1, i = _arg(line, i, False, error)
            p2, i = _arg(line, i, True, error)
        else:
            raise error("unknown retry rule letter")
        if timeout <= 0 or p1 <= 0 or (letter != "F" and p2 < 1000):
            raise error("bad parameters for retry rule")
        steps.append(RetryStep(letter, timeout, p1, p2))
        while i < len(line) and _isspace(line[i]):
            i += 1
        if i < len(line) and line[i] == ";":
            i += 1
            while i < len(line) and _isspace(line[i]):
                i += 1
        elif i < len(line):
            raise error("semicolon expected")
    return RetryRule(pattern, err_text, errno, more, senders, tuple(steps))
