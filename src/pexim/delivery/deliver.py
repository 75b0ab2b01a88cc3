"""One delivery attempt for one spooled message (Exim's deliver_message()).

lock -D → read -H (+ -J of a crashed attempt) → route the undelivered
recipients → local deliveries → remote deliveries → log each outcome →
update the retry database → bounce failures / warn on delays → either
"Completed" and remove the spool files, or rewrite -H with the new
non-recipients.  Each success is journalled (-J, fsync'd) before the next
step, so a crash re-delivers at most the address in flight (DESIGN rule 5).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from dataclasses import dataclass, field

from pexim.delivery import errors
from pexim.delivery.address import DEFER, FAIL, OK, AddressItem
from pexim.delivery.context import TransportContext
from pexim.delivery.message import DeliveryMessage
from pexim.delivery.retry import RetryItem
from pexim.log import timestamp
from pexim.spool import journal as spool_journal
from pexim.spool.locking import lock_data_file
from pexim.spool.paths import SpoolPaths
from pexim.spool.reader import SpoolFormatError, parse_header_file
from pexim.spool.writer import write_header

# Outcomes of deliver_message().
DELIVERED, DEFERRED, LOCKED, FROZEN, MISSING = (
    "delivered", "deferred", "locked", "frozen", "missing")


@dataclass
class Options:
    force: bool = False              # -M, -qf: ignore retry times
    thaw: bool = False               # -M, -qff: deliver frozen messages too
    queue_run: bool = False
    local_only: bool = False         # -ql
    dont_deliver: bool = False       # -N
    verbose: bool = False


@dataclass
class Result:
    status: str
    delivered: list[AddressItem] = field(default_factory=list)
    failed: list[AddressItem] = field(default_factory=list)
    deferred: list[AddressItem] = field(default_factory=list)
    bounces: list[str] = field(default_factory=list)      # ids of generated messages


class Deliverer:
    """Per process: configuration, logger, spool, hints; delivers message ids."""

    def __init__(self, config, logger, *, owner: tuple[int, int] | None = None,
                 hints=None, resolver=None, queue_name: str = ""):
        self.config = config
        self.logger = logger
        self.owner = owner
        self.paths = SpoolPaths.from_config(config, queue_name)
        if hints is None:
            from pexim.hints.store import open_store
            try:
                hints = open_store(config)
            except Exception:  # noqa: BLE001 - no hints: deliver without retry data
                hints = None
        self.hints = hints
        self.resolver = resolver

    # -- the whole attempt -------------------------------------------------
    def deliver(self, message_id: str, opts: Options | None = None) -> Result:
        return asyncio.run(self.deliver_async(message_id, opts))

    async def deliver_async(self, message_id: str, opts: Options | None = None) -> Result:
        return await self._deliver_one(message_id, opts or Options())

    async def _deliver_child(self, child: str | None, result: Result) -> None:
        if child is not None:
            result.bounces.append(child)
            await self._deliver_one(child, Options())

    async def _deliver_one(self, message_id: str, opts: Options) -> Result:
        path = self.paths.input_file(message_id, "-D")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return Result(MISSING)
        try:
            if not lock_data_file(fd):
                return Result(LOCKED)
            return await self._locked(message_id, fd, opts)
        finally:
            os.close(fd)

    async def _locked(self, message_id: str, fd: int, opts: Options) -> Result:
        try:
            with open(self.paths.input_file(message_id, "-H"), "rb") as fh:
                spool = parse_header_file(fh.read(), message_id)
        except (FileNotFoundError, SpoolFormatError):
            return Result(MISSING)
        now = time.time()
        log = self._log(message_id)
        if spool.frozen_at is not None:
            if not opts.thaw and not self._auto_thaw(spool, now):
                return Result(FROZEN)
            spool.frozen_at = None
            log("Unfrozen by forced delivery" if opts.thaw else "Unfrozen by auto-thaw")
        journalled = spool_journal.read_journal(self.paths, message_id)
        spool.nonrecipients.update(journalled)
        msg = DeliveryMessage(self.config, spool, self.paths, logger=self.logger)
        self._current_id = message_id
        todo = [self._address(r) for r in spool.recipients
                if r.address not in spool.nonrecipients]
        result = Result(DEFERRED)
        jnl = spool_journal.Journal(self.paths, message_id, self.owner) if not journalled \
            else _reopen_journal(self.paths, message_id)
        try:
            # Exim keeps its address lists as stacks: recipients are routed last
            # first and routing outcomes are logged as they happen (route.py hands
            # the local and remote lists back in delivery order).
            routed = self._route(msg, list(reversed(todo)))
            tctx = TransportContext(self.config, self.logger, self.hints, self.resolver,
                                    now=now, owner=self.owner)
            tctx.extra["force"] = opts.force
            for addr in routed.succeeded:
                addr.status = OK
                self._done(spool, jnl, addr)
            main_action = self.config.main.get("event_action")
            for addr in _routing_order(todo, routed.failed + routed.deferred):
                if addr.status == FAIL:
                    self._event(main_action, "msg:fail:internal", msg, addr, addr.message)
                elif not addr.basic_errno:
                    addr.basic_errno = errors.UNKNOWNERROR     # exim: "defer (-1)"
                log(self._line(addr))
            await self._transport(msg, tctx, routed.local, opts, jnl, spool, log)
            await self._transport(msg, tctx, routed.remote, opts, jnl, spool, log, remote=True)
            done = routed.local + routed.remote
            result.delivered = [a for a in done if a.status == OK]
            result.failed = routed.failed + [a for a in done if a.status == FAIL]
            result.deferred = routed.deferred + [a for a in done if a.status == DEFER]
            self._update_retry(msg, done + routed.deferred + routed.failed, now)
            # Reports are spooled and delivered at once, before the parent goes on
            # (exim waits for its child): success DSN, failure report, delay warning.
            if result.delivered:
                await self._deliver_child(self._success_dsn(msg, spool, result.delivered, now),
                                          result)
            if result.failed:
                from pexim.delivery.bounce import unreportable

                kept = unreportable(msg, result.failed)     # stay, frozen
                for child in self._bounce(msg, spool, result.failed, now, log):
                    await self._deliver_child(child, result)
                for addr in result.failed:
                    if addr not in kept:
                        self._done(spool, jnl, addr)
            if result.deferred:
                await self._deliver_child(self._warn(msg, spool, result.deferred, now), result)
            remaining = [r for r in spool.recipients if r.address not in spool.nonrecipients]
            if not remaining and not spool.frozen_at:
                self._event(main_action, "msg:complete", msg, None)
                jnl.close(remove=True)
                jnl = None
                self._complete(message_id, spool, log, now)
                result.status = DELIVERED
            else:
                spool.deliver_firsttime = False
                write_header(self.paths, spool, self.owner)
                jnl.close(remove=True)
                jnl = None
        finally:
            if jnl is not None:
                jnl.close(remove=False)
        return result

    # -- pieces --------------------------------------------------------------
    def _address(self, r) -> AddressItem:
        a = AddressItem(r.address, dsn_flags=r.dsn_flags, orcpt=r.orcpt,
                        errors_address=r.errors_to)
        return a

    def _route(self, msg: DeliveryMessage, addrs: list[AddressItem]):
        from pexim.delivery.route import RoutingContext, route_addresses

        rctx = RoutingContext(self.config, msg, mode="deliver", sender=msg.sender,
                              resolver=self.resolver, logger=self.logger)
        return route_addresses(rctx, addrs)

    async def _transport(self, msg, tctx, addrs, opts, jnl, spool, log,
                         remote: bool = False) -> None:
        from pexim.config.drivers import driver_module

        for batch in _batches(self.config, addrs):
            tp = tctx.transport(batch[0].transport)
            if tp is None:
                for a in batch:
                    a.status, a.basic_errno = DEFER, errors.BADTRANSPORT
                    a.message = (f'transport "{a.transport}" not found' if a.transport
                                 else "No transport set by router")
                    log(self._line(a))
                continue
            if not remote and self._retry_not_due(batch, tctx.now, opts):
                for a in batch:
                    log(self._line(a))
                continue
            mod = driver_module("transport", tp.driver)
            if not remote and self._never_user(tp, batch, log):
                continue
            fn = getattr(mod, "deliver", None)
            if fn is None:
                for a in batch:
                    a.status, a.basic_errno = DEFER, errors.BADTRANSPORT
                    a.message = f"{tp.driver} transport is not implemented in pexim"
                    log(self._line(a))
                continue
            start = time.time()
            try:
                if inspect.iscoroutinefunction(fn):
                    await fn(tp, msg, batch, tctx)
                else:
                    await asyncio.get_running_loop().run_in_executor(
                        None, _as_user, fn, tp, msg, batch, tctx)
            except Exception as err:  # noqa: BLE001 - a transport bug defers, never loses
                for a in batch:
                    if a.status is None:
                        a.status, a.basic_errno = DEFER, errors.UNKNOWNERROR
                        a.message = f"{tp.name} transport failed: {err}"
            first = True
            action = tp.get("event_action")
            for a in batch:
                if a.status is None:
                    a.status, a.message = DEFER, a.message or "transport gave no result"
                a.extra.setdefault("deliver_time", time.time() - start)
                if a.status == OK:
                    self._done(spool, jnl, a)
                    log(self._line(a, first), msglog=self._msglog(a))
                    first = False
                    self._event(action, "msg:delivery", msg, a,
                                a.extra.get("confirmation") or "")
                elif a.status == DEFER:
                    log(self._line(a))
                    self._event(action, "msg:rcpt:defer", msg, a, a.message, a.basic_errno)
                elif a.status == FAIL:
                    log(self._line(a))
                    self._event(action, "msg:fail:delivery", msg, a, a.message)

    def _never_user(self, tp, batch, log) -> bool:
        """A local delivery never runs as root or a never_users uid (deliver.c):
        the addresses are deferred with exim's text, also in the panic log."""
        uid, _ = _delivery_ids(tp, batch[0], self.owner)
        if uid is None:
            return False
        never = self.config.main.get("never_users") or ()
        if uid == 0:
            text = f"User 0 set for {tp.name} transport is on the fixed_never_users list"
        elif uid in (never if isinstance(never, (list, tuple, set)) else ()):
            text = f"User {uid} set for {tp.name} transport is on the never_users list"
        else:
            return False
        if os.geteuid() != 0:
            return False          # not root: deliveries run as ourselves anyway
        self.logger.panic(text, self._current_id)     # main and panic logs
        for _ in batch[1:]:
            self.logger.panic(text, self._current_id)
        for a in batch:
            a.status, a.basic_errno, a.message = DEFER, errors.UIDFAIL, text
        for a in batch:
            log(self._line(a))
        return True

    def _retry_not_due(self, batch, now, opts) -> bool:
        """Local deliveries wait for their retry time (ERRNO_LRETRY) unless forced."""
        from pexim.delivery import retry

        if opts.force:
            return False
        due_later = False
        for a in batch:
            rec = retry.due(self.hints, self._local_retry_key(a), now)
            if rec is not None:
                a.status, a.basic_errno = DEFER, errors.LRETRY
                a.message = "retry time not reached"
                due_later = True
        return due_later

    def _local_retry_key(self, a: AddressItem) -> str:
        tp = next((t for t in self.config.transports if t.name == a.transport), None)
        if tp is not None and tp.get("retry_use_local_part"):
            return f"T:{a.local_part}@{a.domain}"
        return f"T:{a.domain}"

    def _update_retry(self, msg, addrs, now) -> None:
        from pexim.delivery import retry

        for a in addrs:
            items = [_retry_item(k) for k in a.retry_keys]
            if a.router is not None and a.transport is not None and not a.hosts:
                key = self._local_retry_key(a)
                if a.status == OK:
                    items.append(RetryItem(key, delete=True))
                elif a.status == DEFER and a.basic_errno != errors.LRETRY:
                    items.append(RetryItem(key, a.basic_errno, a.more_errno, a.message or ""))
            if items:
                retry.update(self.hints, self.config, items, a.domain, now, msg.sender)

    def _done(self, spool, jnl, addr: AddressItem) -> None:
        """Journal the address, mark it (and a finished top-level parent) delivered."""
        if jnl is not None:
            jnl.record(addr.unique)
        spool.nonrecipients.add(addr.unique)
        top = addr.top
        if top is not addr:
            spool.nonrecipients.add(top.address)

    def _bounce(self, msg, spool, failed, now, log) -> list[str]:
        """Failure reports (one per errors address); failures nobody can be told
        about (a bounce's own) freeze the message, as exim does."""
        from pexim.delivery.bounce import bounce_message, error_ignored_lines, unreportable
        from pexim.delivery.inject import inject

        for line in error_ignored_lines(failed, msg):
            log(line)
        gens = bounce_message(self.config, msg, failed, now, logger=self.logger) or []
        ids = [inject(self.config, gen, self.logger, parent_id=spool.id, owner=self.owner)
               for gen in (gens if isinstance(gens, list) else [gens])]
        if unreportable(msg, failed):
            spool.frozen_at = int(now)
            log("Frozen (delivery error message)")
        return ids

    def bounce_cancelled(self, msg, spool, failed, now) -> list[str]:
        """For -Mg: report addresses an administrator cancelled."""
        return self._bounce(msg, spool, failed, now, self._log(spool.id))

    def _success_dsn(self, msg, spool, delivered, now) -> str | None:
        from pexim.delivery.dsn import success_dsn
        from pexim.delivery.inject import inject

        gen = success_dsn(self.config, msg, delivered, now, logger=self.logger)
        if gen is None:
            return None
        return inject(self.config, gen, self.logger, parent_id=spool.id, owner=self.owner)

    def _warn(self, msg, spool, deferred, now) -> str | None:
        try:
            from pexim.delivery.inject import inject
            from pexim.delivery.warning import warning_message
        except ImportError:
            return None
        gen = warning_message(self.config, msg, deferred, now, logger=self.logger)
        if gen is not None:
            return inject(self.config, gen, self.logger, parent_id=spool.id, owner=self.owner)
        return None

    def _complete(self, message_id, spool, log, now) -> None:
        from pexim.log_lines import completed

        log(completed(self.logger.selectors, now - spool.received_time[0]))
        for suffix in ("-H", "-D", "-J"):
            try:
                os.unlink(self.paths.input_file(message_id, suffix))
            except FileNotFoundError:
                pass
        if not self.config.main.get("preserve_message_logs"):
            try:
                os.unlink(self.paths.msglog_file(message_id))
            except FileNotFoundError:
                pass

    def _auto_thaw(self, spool, now) -> bool:
        after = self.config.main.get("auto_thaw") or 0
        return bool(after) and spool.frozen_at is not None and now - spool.frozen_at >= after

    def _event(self, action, name, msg, addr, data=None, defer_errno=None) -> None:
        if not action:
            return
        from pexim.delivery.events import fire

        extra = {}
        if addr is not None and addr.host_used is not None:
            h = addr.host_used
            extra = {"host": h.name, "host_address": h.address, "host_port": h.port or 25}
        fire(action, name, msg.context(addr, extra), data, defer_errno, self.logger)

    def _line(self, addr: AddressItem, first: bool = True) -> str:
        from pexim.delivery.logging import line

        return line(addr, self.config, self.logger.selectors, first)

    def _msglog(self, addr: AddressItem) -> str:
        from pexim.delivery.logging import msglog_text

        return msglog_text(addr, self.config, self.logger.selectors)

    def _log(self, message_id: str):
        def log(text: str, msglog: str | None = None) -> None:
            self.logger.main(text, message_id)
            try:
                spool_journal.msglog_append(self.paths, message_id, msglog or text,
                                            timestamp(time.time()), self.owner)
            except OSError:
                pass
        return log


def _routing_order(todo: list[AddressItem], addrs: list[AddressItem]) -> list[AddressItem]:
    """Failures and deferrals in the order exim's routing meets them: the last
    recipient's first (its addr_new list is a stack)."""
    rank = {id(a): i for i, a in enumerate(reversed(todo))}
    return sorted(addrs, key=lambda a: rank.get(id(a.top), len(rank)))


def _reopen_journal(paths, message_id):
    """A crashed attempt's -J file: keep appending to it."""
    j = spool_journal.Journal.__new__(spool_journal.Journal)
    j.path = paths.input_file(message_id, "-J")
    j.fd = os.open(j.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    return j


def _retry_item(key) -> RetryItem:
    if isinstance(key, RetryItem):
        return key
    if isinstance(key, tuple):
        return RetryItem(*key)
    return RetryItem(str(key))


def _batches(config, addrs: list[AddressItem]) -> list[list[AddressItem]]:
    """Group addresses for one transport run: same transport and, for remote ones,
    the same hosts; local transports take batch_max addresses at a time."""
    groups: dict[tuple, list[AddressItem]] = {}
    for a in addrs:
        tp = next((t for t in config.transports if t.name == a.transport), None)
        try:
            limit = int(tp.get("batch_max")) if tp is not None and tp.get("batch_max") else 1
        except (KeyError, TypeError, ValueError):
            limit = None if a.hosts else 1
        if a.hosts or (tp is not None and tp.driver == "smtp"):
            key = (a.transport, tuple((h.name, h.address, h.port) for h in a.hosts),
                   a.errors_address)
            limit = None
        else:
            key = (a.transport, a.special, a.uid, a.gid, a.home_dir, a.errors_address,
                   a.domain if limit != 1 else a.unique)
        bucket = groups.setdefault(key, [])
        if limit is not None and len(bucket) >= limit:
            groups[key + (len(groups),)] = bucket
            bucket = groups[key] = []
        bucket.append(a)
    out = [g for g in groups.values() if g]
    return out


def _as_user(fn, tp, msg, batch, tctx):
    """Run a local transport, as the address's uid/gid when we are root.

    A child process changes identity and sends the outcome back, so the
    delivering process keeps its privileges (Exim forks for this too).
    """
    uid, gid = _delivery_ids(tp, batch[0], tctx.owner)
    if os.geteuid() != 0 or uid is None or uid == 0:
        return fn(tp, msg, batch, tctx)
    import pickle

    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(gid if gid is not None else uid)
            os.setuid(uid)
            fn(tp, msg, batch, tctx)
            out = [(x.status, x.message, x.basic_errno, x.more_errno, x.extra) for x in batch]
            data = pickle.dumps(out)
            with os.fdopen(wfd, "wb") as fh:
                fh.write(data)
        except BaseException:  # noqa: BLE001 - report through the exit code
            code = 1
        os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    if not data:
        for x in batch:
            x.status, x.basic_errno = DEFER, errors.UNKNOWNERROR
            x.message = f"{tp.name} transport process failed"
        return None
    for x, (status, message, be, me, extra) in zip(batch, pickle.loads(data), strict=True):
        x.status, x.message, x.basic_errno, x.more_errno = status, message, be, me
        x.extra.update(extra)
    return None


def _delivery_ids(tp, a: AddressItem, exim_ids) -> tuple[int | None, int | None]:
    """The uid/gid of a local delivery: the transport's user/group override the
    router's; with neither (and running as root) the exim user's."""
    uid, gid = _tp_id(tp, "user"), _tp_id(tp, "group")
    if uid is None:
        uid, gid = a.uid, gid if gid is not None else a.gid
    elif gid is None:
        import pwd
        try:
            gid = pwd.getpwuid(uid).pw_gid
        except KeyError:
            gid = a.gid
    if uid is None and exim_ids is not None:
        uid, gid = exim_ids
    return uid, gid


def _tp_id(tp, option: str) -> int | None:
    try:
        v = tp.get(option)
    except KeyError:
        return None
    return v if isinstance(v, int) else None
