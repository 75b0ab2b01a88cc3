"""-M / -Mc (deliver these messages now), -q... (queue runs), -R / -S (selective runs)."""

from __future__ import annotations

import sys
import time

from pexim.delivery.deliver import DELIVERED, FROZEN, LOCKED, MISSING, Deliverer, Options
from pexim.delivery.queue_runner import parse_spec
from pexim.delivery.queue_runner import run as queue_run
from pexim.log import Logger
from pexim.privileges import exim_ids
from pexim.smtp.receive import ensure_log_dirs


def _logger(config) -> Logger:
    logger = Logger.from_config(config)
    ensure_log_dirs(logger, exim_ids(config))
    return logger


def run(config, inv) -> int:
    logger = _logger(config)
    if inv.mode in ("-M", "-Mc"):
        return _deliver_ids(config, logger, inv.args, force=inv.mode == "-M")
    spec = parse_spec(inv.queue_spec or inv.mode, inv.mode_arg)
    ids = [a for a in inv.args if a] or None
    if spec.interval and inv.mode == "-q":
        while True:                                  # -q30m without -bd: runner only
            queue_run(config, logger, spec)
            time.sleep(spec.interval)
    queue_run(config, logger, spec, ids=ids)
    return 0


def _deliver_ids(config, logger, ids: list[str], force: bool) -> int:
    if not ids:
        sys.stderr.write("exim: no message ids given after -M option\n")
        return 1
    from pexim.message.ids import is_message_id

    for mid in ids:
        if not is_message_id(mid):
            sys.stderr.write(f"exim: malformed message id {mid} after -M option\n")
            return 1
    d = Deliverer(config, logger, owner=exim_ids(config))
    rc = 0
    for mid in ids:
        res = d.deliver(mid, Options(force=force, thaw=force))
        if res.status == MISSING:
            sys.stderr.write(f"Spool read error for {mid}-H: No such file or directory\n")
            rc = 1
        elif res.status == LOCKED:
            sys.stdout.write(f"Spool file for {mid} is locked (another process is "
                             "handling this message)\n")
        elif res.status == FROZEN:
            sys.stdout.write(f"Message {mid} is frozen\n")
        elif res.status != DELIVERED:
            rc = rc or 0
    return rc


def deliver_now(config, logger, message_id: str) -> None:
    """Immediate delivery after a local submission (-odi / -odb)."""
    Deliverer(config, logger, owner=exim_ids(config)).deliver(message_id, Options())
