"""The retry hints database (Exim's retry.c): when may a failing target be tried again?

Keys are Exim's: ``R:<domain>`` or ``R:<local_part>@<domain>`` for routing and
local deliveries, ``T:<host>:<ip>[:<port>]`` for remote hosts, and
``T:<host>:<ip>[:<port>]:<message id>`` for message-specific host errors.
A failure creates or advances the record (first failure, last try, next
try from the matching retry rule); a success deletes it.  ``expired`` is
set once the failure has lasted longer than the rule's last cutoff.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from pexim.delivery.retry_rules import find_retry_rule

DB = "retry"


@dataclass
class RetryRecord:
    key: str
    first_failed: int
    last_try: int
    next_try: int
    expired: bool = False
    basic_errno: int = 0
    more_errno: int = 0
    text: str = ""

    def encode(self) -> bytes:
        return json.dumps([self.first_failed, self.last_try, self.next_try, self.expired,
                           self.basic_errno, self.more_errno, self.text]).encode()

    @classmethod
    def decode(cls, key: str, value: bytes) -> RetryRecord | None:
        try:
            ff, lt, nt, exp, be, me, text = json.loads(value)
        except (ValueError, TypeError):
            return None
        return cls(key, ff, lt, nt, bool(exp), be, me, text)


@dataclass
class RetryItem:
    """One key to update after a delivery attempt (Exim's retry_item)."""

    key: str
    basic_errno: int = 0
    more_errno: int = 0
    message: str = ""
    delete: bool = False            # success: remove the record
    host: bool = False              # a host key (rules are looked up by host name)


def read(store, key: str) -> RetryRecord | None:
    if store is None:
        return None
    value = store.get(DB, key)
    return RetryRecord.decode(key, value) if value is not None else None


def due(store, key: str, now: float) -> RetryRecord | None:
    """The record when its retry time has not come yet (else None: try now)."""
    rec = read(store, key)
    if rec is None or rec.expired or now >= rec.next_try:
        return None
    return rec


# Error names the retry rules use, from Exim's errno values (see retry_rules.py).
ERRNO_NAMES = {111: "refused", 110: "timeout"}


def _rule_errno(item: RetryItem) -> tuple[str, object]:
    from pexim.delivery import errors

    return errors.rule_class(item.basic_errno, item.more_errno)


def next_try(rule, rec: RetryRecord | None, now: int, first_failed: int,
             interval_max: int) -> tuple[int, bool]:
    """Exim's retry_update arithmetic: (next try time, expired)."""
    if rule is None or not rule.steps:
        return now, True
    failing = now - first_failed
    step = next((s for s in rule.steps if failing <= s.timeout), None)
    if step is None:
        return now, True
    if step.letter == "F":
        gap = step.p1
    else:
        last_gap = 0 if rec is None else min(rec.next_try - rec.last_try, now - rec.last_try)
        next_gap = last_gap * step.p2 // 1000
        if step.letter == "G":
            gap = step.p1 if last_gap < step.p1 else next_gap
        else:       # H: p1, plus a random part of the growth, as retry.c does
            gap = step.p1
            if next_gap > step.p1:
                spread = next_gap - step.p1
                gap += random.randrange(spread) // 2 + spread // 2
    gap = min(gap, interval_max)
    return now + gap, False


def update(store, config, items: list[RetryItem], domain: str, now: float,
           sender: str | None = None, ctx=None) -> dict[str, RetryRecord]:
    """Apply one delivery's retry items; returns the records written (by key)."""
    out: dict[str, RetryRecord] = {}
    if store is None or not items:
        return out
    interval_max = config.main.get("retry_interval_max") or 24 * 3600
    tnow = int(now)
    with store.transaction(DB) as txn:
        for item in items:
            if item.delete:
                txn.delete(item.key)
                continue
            old = txn.get(item.key)
            rec = RetryRecord.decode(item.key, old) if old is not None else None
            first = rec.first_failed if rec is not None else tnow
            errno_name, more = _rule_errno(item)
            key_for_rules = item.key[2:]
            if item.host:
                parts = key_for_rules.split(":")
                key_for_rules = parts[0]
            rule = find_retry_rule(config.retry_rules, key_for_rules, domain, errno_name, more,
                                   sender, ctx)
            nt, expired = next_try(rule, rec, tnow, first, interval_max)
            new = RetryRecord(item.key, first, tnow, nt, expired, item.basic_errno,
                              item.more_errno, item.message[:500])
            txn.put(item.key, new.encode())
            out[item.key] = new
    return out


def format_record(key: str, value: bytes) -> str | None:
    """exim_dumpdb's retry lines."""
    from pexim.hints.dumpdb import print_time

    rec = RetryRecord.decode(key, value)
    if rec is None:
        return None
    return "  %s %d %d %s\n%s  %s  %s %s" % (
        key, rec.basic_errno, rec.more_errno, rec.text, print_time(rec.first_failed),
        print_time(rec.last_try), print_time(rec.next_try), "*" if rec.expired else "")
