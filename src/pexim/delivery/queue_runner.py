"""Queue runs (Exim's queue_run): try each waiting message once.

``-q`` skips frozen messages and addresses whose retry time has not come;
``-qf`` ignores retry times, ``-qff`` thaws frozen messages too, ``-qi``
takes only messages never tried (deliver_firsttime), ``-R``/``-S`` select
by recipient/sender.  The log shows "Start queue run" / "End queue run" as
Exim's does, with the flags that were given.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass

from pexim.delivery.deliver import Deliverer, Options
from pexim.privileges import exim_ids
from pexim.spool.reader import SpoolFormatError, read_header


@dataclass
class QueueSpec:
    force: bool = False           # f
    thaw: bool = False            # ff
    first_only: bool = False      # i
    local_only: bool = False      # l
    queue_name: str = ""          # G<name>
    interval: int | None = None   # -q30m in the daemon
    recipient: str | None = None  # -R
    sender: str | None = None     # -S
    regex: bool = False           # -Rr / -Sr
    flags: str = ""               # what is echoed in the log ("-qf", "-R foo" ...)


def parse_spec(arg: str, value: str | None = None) -> QueueSpec:
    """-q[q][i][f[f]][l][G<name>[/<time>]][<time>] and -R/-S[f[f]][r] <string>."""
    from pexim.config.timeval import read_time

    spec = QueueSpec()
    body = arg[2:]
    if arg.startswith("-q"):
        spec.flags = arg if body else ""
        if body.startswith("q"):
            body = body[1:]
        if body.startswith("i"):
            spec.first_only, body = True, body[1:]
        if body.startswith("ff"):
            spec.force = spec.thaw = True
            body = body[2:]
        elif body.startswith("f"):
            spec.force, body = True, body[1:]
        if body.startswith("l"):
            spec.local_only, body = True, body[1:]
        if body.startswith("G"):
            name, _, rest = body[1:].partition("/")
            spec.queue_name, body = name, rest
        if body:
            t = read_time(body)
            if t > 0:
                spec.interval = t
        return spec
    # -R / -S
    if body.startswith("ff"):
        spec.force = spec.thaw = True
        body = body[2:]
    elif body.startswith("f"):
        spec.force, body = True, body[1:]
    if body.startswith("r"):
        spec.regex = True
    if arg.startswith("-R"):
        spec.recipient = value
    else:
        spec.sender = value
    spec.force = True if arg.startswith("-R") else spec.force   # -R implies forced retry
    spec.flags = f"{arg} {value}" if value else arg
    return spec


def _matches(text: str, pattern: str | None, regex: bool) -> bool:
    if pattern is None:
        return True
    if regex:
        return re.search(pattern, text) is not None
    return pattern.lower() in text.lower()


def run(config, logger, spec: QueueSpec, deliverer: Deliverer | None = None,
        ids: list[str] | None = None) -> int:
    """One queue run; returns the number of messages tried."""
    d = deliverer or Deliverer(config, logger, queue_name=spec.queue_name,
                               owner=exim_ids(config))
    pid = os.getpid()
    tail = f" {spec.flags}" if spec.flags else ""
    logger.main(f"Start queue run: pid={pid}{tail}")
    order = ids if ids is not None else d.paths.message_ids()
    if ids is None and not config.main.get("queue_run_in_order"):
        order = list(order)
        random.shuffle(order)
    tried = 0
    opts = Options(force=spec.force, thaw=spec.thaw, queue_run=True,
                   local_only=spec.local_only)
    for mid in order:
        try:
            msg = read_header(d.paths, mid)
        except (OSError, SpoolFormatError):
            continue
        if msg.frozen_at is not None and not spec.thaw and not _auto_thaw(config, msg):
            continue
        if spec.first_only and not msg.deliver_firsttime:
            continue
        if spec.sender is not None and not _matches(msg.sender, spec.sender, spec.regex):
            continue
        if spec.recipient is not None and not any(
                _matches(r.address, spec.recipient, spec.regex) for r in msg.recipients):
            continue
        tried += 1
        d.deliver(mid, opts)
    logger.main(f"End queue run: pid={pid}{tail}")
    return tried


def _auto_thaw(config, msg) -> bool:
    import time

    after = config.main.get("auto_thaw") or 0
    return bool(after) and time.time() - (msg.frozen_at or 0) >= after
