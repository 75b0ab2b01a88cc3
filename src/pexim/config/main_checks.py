"""What Exim checks and adjusts once the main section is read (end of readconf_main).

Messages and their form (configuration error or plain panic) are Exim's; each
was compared with exim 4.96 (tests/data/bad_configs/).
"""

from __future__ import annotations

import pwd
import re

from pexim.config.errors import MainPanic, UnlocatedConfigError
from pexim.config.options import Settings
from pexim.config.timeval import read_time

LOCALHOST_MAX = 16
SYSLOG_FACILITIES = ("mail", "user", "news", "uucp", "local0", "local1", "local2", "local3",
                     "local4", "local5", "local6", "local7", "daemon")
_SELECTOR_NAME = re.compile(r"[A-Za-z0-9_]*")
_RATELIMIT = re.compile(r"\s*(-?\d+)\s*,\s*([0-9smhdw.]{1,15})\s*,\s*([-+0-9.eE]+)\s*,\s*(\S{1,15})")


def check_main(main: Settings) -> None:
    get, values = main.get, main.values
    if get("local_sender_retain") and get("local_from_check"):
        raise MainPanic("both local_from_check and local_sender_retain are set; "
                        "this combination is not allowed")
    if get("retry_interval_max") > 24 * 3600:
        values["retry_interval_max"] = 24 * 3600
    if get("remote_max_parallel") <= 0:
        values["remote_max_parallel"] = 1
    if not get("spool_directory"):
        raise MainPanic("spool_directory undefined: cannot proceed")
    _check_log_file_path(get("log_file_path"))
    _check_log_selector(get("log_selector"))
    facility = get("syslog_facility")
    if facility:
        name = facility[4:] if facility[:4].lower() == "log_" else facility
        if name.lower() not in SYSLOG_FACILITIES:
            raise UnlocatedConfigError(f'failed to interpret syslog_facility "{facility}"')
    for option in ("smtp_ratelimit_mail", "smtp_ratelimit_rcpt"):
        if get(option):
            _check_ratelimit(get(option))
    _system_filter_group(main)
    _check_errors_reply_to(get("errors_reply_to"))
    if get("smtp_accept_max") == 0 and (get("smtp_accept_queue") > 0
                                        or get("smtp_accept_max_per_host") is not None):
        raise UnlocatedConfigError("smtp_accept_max must be set if smtp_accept_queue or "
                                   "smtp_accept_max_per_host is set")
    _check_localhost_number(get("localhost_number"))
    if get("tls_dh_max_bits") < 1024:
        raise UnlocatedConfigError(
            "tls_dh_max_bits is too small, must be at least 1024 for interop")


def _check_log_file_path(path: str | None) -> None:
    """Each file component needs one %s, and may have one %D or %M besides."""
    if not path or "$" in path:
        return
    for item in path.split(":"):
        item = item.strip()
        if not item or item == "syslog":
            continue
        if "%s" not in item:
            raise MainPanic(f'log_file_path "{item}" does not contain "%s"')
        rest = item.replace("%s", "X", 1)
        p = rest.find("%")
        if p >= 0 and (rest[p + 1:p + 2] not in ("D", "M") or "%" in rest[p + 2:]):
            raise MainPanic(f'log_file_path "{path}" contains unexpected "%" character')


def _check_log_selector(text: str | None) -> None:
    """Items are +name or -name, names from Exim's selector table (decode_bits)."""
    from pexim.config.builtin_macros import LOG_SELECTORS

    if not text:
        return
    s = text.strip()
    while s:
        if s[0] not in "+-":
            raise UnlocatedConfigError("malformed log_selector setting: "
                                       f'+ or - expected but found "{s}"')
        m = _SELECTOR_NAME.match(s, 1)
        if m.group() not in LOG_SELECTORS:
            raise UnlocatedConfigError(f"unknown log_selector setting: {s[0]}{m.group()}")
        s = s[m.end():].lstrip()


def _check_ratelimit(text: str) -> None:
    """threshold, initial delay, factor, maximum delay (unpick_ratelimit)."""
    m = _RATELIMIT.match(text)
    if m and _msec_time(m.group(2)) >= 0 and _msec_time(m.group(4)) >= 0:
        return
    raise MainPanic(f"malformed ratelimit data: {text}")


def _msec_time(text: str) -> int:
    """A time that may have fractional seconds (readconf_readtime with msec)."""
    m = re.fullmatch(r"(.*?)(\d+)\.(\d+)s", text)
    if m:
        head = read_time(m.group(1)) if m.group(1) else 0
        return -1 if head < 0 else head
    return read_time(text)


def _system_filter_group(main: Settings) -> None:
    """A numeric system_filter_user still brings its login group, looked up now."""
    values = main.values
    if values.get("*set_system_filter_user") and not values.get("*set_system_filter_group"):
        uid = main.get("system_filter_user")
        try:
            values["system_filter_group"] = pwd.getpwuid(uid).pw_gid
        except KeyError:
            raise MainPanic(f"Failed to look up uid {uid}") from None
        values["*set_system_filter_group"] = True


def _check_errors_reply_to(text: str | None) -> None:
    if not text:
        return
    from pexim.expand.address import extract_address

    address, error, domain = extract_address(text)
    if address is None:
        raise UnlocatedConfigError(f"error in errors_reply_to ({text}): {error}")
    if not domain:
        raise UnlocatedConfigError(f"errors_reply_to ({text}) does not contain a domain")


def _check_localhost_number(text: str | None) -> None:
    if text is None or "$" in text:
        return
    s = text.strip()
    try:
        n = int(s, 0) if s else 0
    except ValueError:
        raise UnlocatedConfigError(f"localhost_number value is not a number: {text}") from None
    if n > LOCALHOST_MAX:
        raise UnlocatedConfigError("localhost_number is greater than the maximum allowed "
                                   f"value ({LOCALHOST_MAX})")
