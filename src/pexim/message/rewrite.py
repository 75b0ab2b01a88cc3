"""Address rewriting with the configuration's rewrite rules (Exim's rewrite.c).

A rule applies to the places its flag letters name: header lines (s f t c b r,
or h for all), envelope sender and recipients (F T, or E for both) and SMTP
command addresses (S). Rules are tried in order; q stops after a rewrite, R
repeats a rule up to ten times, w replaces a whole header address with its
phrase, Q qualifies an unqualified result.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from pexim.config.model import RewriteRule

SENDER, FROM, TO, CC, BCC, REPLY_TO, ENV_FROM, ENV_TO, SMTP = "sftcbrFTS"
HEADERS = SENDER + FROM + TO + CC + BCC + REPLY_TO
ENVELOPE = ENV_FROM + ENV_TO
REPEAT_LIMIT = 10


def applies(rule: RewriteRule, where: str) -> bool:
    flags = rule.flags
    return (where in flags or (where in HEADERS and "h" in flags)
            or (where in ENVELOPE and "E" in flags))


def _stderr_panic(text: str) -> None:
    """Exim's LOG_MAIN|LOG_PANIC, as seen on the terminal in test modes."""
    sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")


class Rewriter:
    """The rewrite rules of one configuration, with the context to expand them."""

    def __init__(self, rules: list[RewriteRule], qualify_domain: str, ctx=None,
                 panic: Callable[[str], None] = _stderr_panic):
        from pexim.expand import ExpandContext

        self.rules = rules
        self.qualify_domain = qualify_domain
        self.ctx = ctx if ctx is not None else ExpandContext()
        self.panic = panic

    def flags_in_use(self) -> str:
        return "".join(r.flags for r in self.rules)

    def rewrite(self, subject: str, where: str) -> tuple[str, bool]:
        """Rewrite one address for `where`; returns (new address, whole used).

        The address itself is returned unchanged when no rule applies; with a
        `w` rule on a header the result is the whole new address with phrase.
        """
        from pexim.expand import ExpansionError, ForcedFail

        yield_, whole, done = subject, False, False
        for rule in self.rules:
            if done:
                break
            if not applies(rule, where):
                continue
            count = 0
            while True:
                if not self._matches(rule, subject, where):
                    break
                if rule.replacement == "*":
                    return yield_, whole
                try:
                    new = self._expand_replacement(rule, subject, where)
                except ForcedFail:
                    if "q" in rule.flags:
                        return yield_, whole
                    break
                except ExpansionError as err:
                    self.panic(f"Expansion of {rule.replacement} failed while rewriting: "
                               f"{err.message}")
                    return yield_, whole
                parsed = self._parse_result(new, subject, where, rule)
                if parsed is None:
                    return yield_, whole
                new, address = parsed
                if where in HEADERS and "w" in rule.flags:
                    yield_, subject, whole = new, address, True
                else:
                    subject = yield_ = address
                if "q" in rule.flags:
                    done = True
                if "R" not in rule.flags:
                    break
                count += 1
                if count > REPEAT_LIMIT:
                    self.panic("rewrite rule repeat ignored after 10 times")
                    break
        return yield_, whole

    def _matches(self, rule: RewriteRule, subject: str, where: str) -> bool:
        from pexim.expand import ExpansionError, compile_cached
        from pexim.lists import ListDefer, match_address, match_string

        key = rule.key
        if "$" in key or "\\" in key:
            try:
                key = compile_cached(key).evaluate(self.ctx)
            except ExpansionError as err:
                what = "checking for SMTP rewriting" if where == SMTP else "checking a list"
                self.panic(f'failed to expand "{rule.key}" while {what}: {err.message}')
                return False
        try:
            if where == SMTP:
                return match_string(self.ctx, subject, key, "string", False)[0]
            return match_address(self.ctx, subject, "<\0" + key)[0]
        except ListDefer:
            return False

    def _expand_replacement(self, rule: RewriteRule, subject: str, where: str) -> str:
        from pexim.expand import compile_cached

        values = self.ctx.values
        saved = values.get("local_part"), values.get("domain")
        if where != SMTP:
            at = subject.rfind("@")
            values["local_part"], values["domain"] = subject[:at], subject[at + 1:]
        try:
            return compile_cached(rule.replacement).evaluate(self.ctx)
        finally:
            values["local_part"], values["domain"] = saved

    def _parse_result(self, new: str, subject: str, where: str, rule: RewriteRule):
        """(text, address) of a rewrite result, or None after logging why not."""
        from pexim.expand.address import extract_address

        may_be_empty = where in (ENV_FROM, SMTP)
        address, error, domain = extract_address(new)
        if address is None:
            if may_be_empty and new.strip() in ("<>", ""):
                return new, ""
            self.panic(f"Rewrite of {subject} yielded unparseable address: {error} "
                       f"in address {new}")
            return None
        if "@" not in address and (address or not may_be_empty):
            if "Q" not in rule.flags:
                self.panic(f'Rewrite of {subject} yielded unqualified address "{new}"')
                return None
            qualified = f"{address}@{self.qualify_domain}"
            new = new.replace(address, qualified, 1)
            address = qualified
        return new, address
