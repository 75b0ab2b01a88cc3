"""Which retry rule applies to a failure (Exim's retry_find_config).

Rules are tried in order; the first whose error, senders and address pattern
all match wins. Keys without an `@` are domains, matched as `*@domain`.
"""

from __future__ import annotations

import sys
import time

from pexim.config.model import RetryRule
from pexim.config.timeval import print_time


def error_code(code: str) -> int:
    """The three-character code of a 4xx error as a number to compare.

    Given on the command line, `4xx` means 421 and `4dx` means 4d4, as Exim
    turns them into one real code before matching."""
    if code[1:] == "xx":
        return 421
    if code[2] == "x":
        return int(code[:2]) * 10 + 4
    return int(code)


def _code_matches(wanted: str, got: int) -> bool:
    if wanted[1:] == "xx":
        return True
    if wanted[2] == "x":
        return got // 10 == int(wanted[:2])
    return got == int(wanted)


def error_matches(rule: RetryRule, errno: str, more) -> bool:
    """Does a failure (errno, more) fall under this rule's error field?"""
    kind = rule.basic_errno
    if kind == "*":
        return True
    if kind == "quota":
        return errno == "quota" and not (rule.more and rule.more > (more or 0))
    if kind.endswith("_4xx"):
        return errno == kind and _code_matches(rule.more, error_code(more))
    if kind == "timeout":
        if errno != "timeout":
            return False
        if rule.more == "connect":
            return bool(more) and more.startswith("connect")
        return rule.more is None or rule.more == more
    return errno == kind and (rule.more is None or rule.more == more)


def _pattern_matches(ctx, key: str, pattern: str) -> bool:
    """match_address_list_basic on a one-item list (the pattern may be expanded)."""
    from pexim.expand import ExpansionError, compile_cached
    from pexim.lists import ListDefer, match_address

    if "$" in pattern or "\\" in pattern:
        try:
            pattern = compile_cached(pattern).evaluate(ctx)
        except ExpansionError as err:
            sys.stderr.write(f'{time.strftime("%Y-%m-%d %H:%M:%S")} failed to expand '
                             f'"{pattern}" while checking a list: {err.message}\n')
            return False
    try:
        return match_address(ctx, key.lower(), "<\0" + pattern)[0]
    except ListDefer:
        return False


def find_retry_rule(rules: list[RetryRule], key: str, alternate: str | None = None,
                    errno: str = "*", more=None, sender: str | None = None,
                    ctx=None) -> RetryRule | None:
    """The first rule that applies, or None."""
    from pexim.expand import ExpandContext
    from pexim.lists import match_address

    ctx = ctx or ExpandContext()
    keys = [k if "@" in k else "*@" + k for k in (key, alternate) if k]
    for rule in rules:
        if errno != "*" and not error_matches(rule, errno, more):
            continue
        if errno == "*" and rule.basic_errno != "*":
            continue
        if rule.senders is not None and (
                not sender or not match_address(ctx, sender.lower(), rule.senders)[0]):
            continue
        if any(_pattern_matches(ctx, k, rule.pattern) for k in keys):
            return rule
    return None


def describe(rule: RetryRule) -> str:
    """The `-brt` line: pattern, error and steps as Exim prints them."""
    kind, more = rule.basic_errno, rule.more
    if kind == "quota":
        error = "quota" + (f"_{print_time(more)}" if more else "")
    elif kind in ("refused", "timeout"):
        error = kind + (f"_{more}" if more else "")
    elif kind == "auth_failed":
        error = kind
    else:
        error = "*"
    steps = []
    for step in rule.steps:
        text = f"{step.letter},{print_time(step.timeout)},{print_time(step.p1)}"
        if step.letter in "GH":
            text += f",{_fixed(step.p2)}"
        steps.append(text + "; ")
    return f"Retry rule: {rule.pattern}  {error}  {''.join(steps)}"


def _fixed(x: int) -> str:
    """Exim's retry multiplier printing: at least one decimal (1.5, 2.0, 2.25)."""
    whole, frac = divmod(x, 1000)
    digits, d = "", 100
    while True:
        digits += str(frac // d)
        frac %= d
        d //= 10
        if frac == 0:
            return f"{whole}.{digits}"
