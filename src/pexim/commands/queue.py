"""-bp and friends (list the queue) and the -M admin actions on queued messages.

Texts, exit codes and log lines are those of Exim 4.96's queue_list() and
queue_action() (queue.c) and the argument checks in exim.c.  Every action
that changes a message holds the -D lock as delivery does and rewrites -H
with the spool writer (temp name, fsync, rename).  -M, -Mc, -q, -R and -S
are in commands/deliver.py.
"""

from __future__ import annotations

import os
import sys
import time

from pexim.log import LogFailure
from pexim.message.address import parse_extract_address
from pexim.message.envelope import HTYPE_OLD, Recipient
from pexim.message.ids import SPOOL_DATA_START_OFFSET, is_message_id
from pexim.spool import queue as q
from pexim.spool.paths import SpoolPaths
from pexim.spool.reader import SpoolFormatError, parse_header_file
from pexim.spool.writer import write_header

_LISTINGS = {"-bp": (q.ALL, True), "-bpa": (q.WITH_GENERATED, True),
             "-bpu": (q.UNDELIVERED, True), "-bpr": (q.ALL, False),
             "-bpra": (q.WITH_GENERATED, False), "-bpru": (q.UNDELIVERED, False)}
# Actions followed by one id (and maybe addresses); the others take a list of ids.
_ONE_ID = {"-Mar", "-Mes", "-Mmd", "-Mvb", "-Mvc", "-Mvh", "-Mvl", "-Meb"}
# After a list of ids Exim prints a blank line, except for these.
_NO_BLANK = {"-Mrm", "-Mf", "-Mt"}


def queue_name(inv) -> str:
    """-qG<name> given with -bp or -M* names the queue to work on."""
    spec = getattr(inv, "queue_spec", None) or ""
    if spec.startswith("-qG"):
        return spec[3:].partition("/")[0]
    return ""


def run(config, inv) -> int:
    from pexim.commands.info import is_admin

    paths = SpoolPaths.from_config(config, queue_name(inv))
    admin = is_admin(config)
    if inv.mode.startswith("-bp"):
        if config.main.get("queue_list_requires_admin") and not admin:
            sys.stderr.write("exim: permission denied\n")
            return 1
        if inv.mode == "-bpc":
            sys.stdout.write("%d\n" % len(paths.message_ids()))
            return 0
        option, in_order = _LISTINGS[inv.mode]
        list_queue(paths, option, inv.args, in_order, sys.stdout)
        return 0
    return _admin(config, inv, paths, admin)


def list_queue(paths: SpoolPaths, option: int, ids: list[str], in_order: bool, out) -> None:
    """queue_list(): the named messages (even missing ones), or the whole queue."""
    now = time.time()
    if ids:
        for mid in ids:
            out.write(q.format_entry(q.load(paths, mid), option, now))
        return
    for mid in q.message_ids(paths, in_order):
        entry = q.load(paths, mid)
        if entry.msg is None and entry.error and "No such file" in entry.error:
            continue                    # delivered while we were listing
        out.write(q.format_entry(entry, option, now))


# --- -M actions ------------------------------------------------------------------

def _admin(config, inv, paths: SpoolPaths, admin: bool) -> int:
    mode, args = inv.mode, list(inv.args)
    if not args:
        sys.stderr.write(f"exim: no message ids given after {mode} option\n")
        return 1
    for mid in args[:1] if mode in _ONE_ID else args:
        if not is_message_id(mid):
            sys.stderr.write(f"exim: malformed message id {mid} after {mode} option\n")
            return 1
    if mode == "-Mg" and not admin:
        sys.stderr.write("exim: permission denied\n")
        return 1
    if mode == "-Meb":
        sys.stderr.write("pexim: -Meb (editing a message body) is not implemented yet\n")
        return 1
    action = Action(config, paths, admin)
    out = sys.stdout
    if mode in _ONE_ID:
        ok = action.run(mode, args[0], args[1:], out)
    elif mode == "-Mg":
        for mid in args:
            action.give_up(mid)
        return 0
    else:
        ok = True
        for mid in args:
            ok = action.run(mode, mid, [], out) and ok
        if mode not in _NO_BLANK:
            out.write("\n")
    out.flush()
    return 0 if ok else 1


def _username() -> str:
    import pwd

    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return "uid %d" % uid


class Action:
    """queue_action() for one message at a time; holds the logger and user name."""

    def __init__(self, config, paths: SpoolPaths, admin: bool):
        from pexim.privileges import exim_ids

        self.config = config
        self.paths = paths
        self.admin = admin
        self.owner = exim_ids(config)
        self.user = _username()
        self._logger = None

    def log(self, text: str, message_id: str | None) -> None:
        if self._logger is None:
            from pexim.log import Logger
            from pexim.smtp.receive import ensure_log_dirs

            self._logger = Logger.from_config(self.config)
            try:
                ensure_log_dirs(self._logger, self.owner)
            except OSError:
                pass
        try:
            self._logger.main(text, message_id)
        except (LogFailure, OSError):       # as Exim when it cannot log: on stderr
            sys.stderr.write(self._logger.prefix(None, message_id) + text + "\n")

    def run(self, mode: str, mid: str, addresses: list[str], out) -> bool:
        if mode in ("-Mvb", "-Mvh", "-Mvl"):
            return self._show(mode, mid, addresses, out)
        try:
            with q.locked(self.paths, mid):
                return self._locked(mode, mid, addresses, out, True)
        except q.MessageLocked:
            out.write(f"Message {mid} is locked\n")
            return False
        except FileNotFoundError:
            self.log(f"Spool{self._q()} file {mid}-D not found", mid)
            out.write(f"Spool data file for {mid} does not exist\n")
            if mode != "-Mrm" or not self.admin:
                return False
            out.write("Continuing, to ensure all files removed\n")
            self._locked(mode, mid, addresses, out, False)
            return False
        except PermissionError as err:
            sub = self.paths.subdir(mid)     # spool_fname()'s "%s/%s/input/%s/%s-D"
            path = f"{self.paths.spool_directory}/{self.paths.queue_name}/input/{sub}/{mid}-D"
            self.log(f"Spool error for {path}: {err.strerror}", None)
            out.write(f"Couldn't open spool file for {mid}: {err.strerror}\n")
            return False

    def _q(self) -> str:
        return f" Q={self.paths.queue_name}" if self.paths.queue_name else ""

    def _locked(self, mode: str, mid: str, addresses: list[str], out, have_data: bool) -> bool:
        ok = have_data
        msg = None
        try:
            with open(q.find_file(self.paths, mid, "-H"), "rb") as fh:
                msg = parse_header_file(fh.read(), mid)
        except OSError as err:
            ok = False
            out.write(f"Spool read error for {mid}-H: {os.strerror(err.errno or 0)}\n")
        except (SpoolFormatError, ValueError):
            ok = False
            out.write(f"Spool format error for {mid}-H\n")
        if msg is None:
            if mode != "-Mrm" or not self.admin:
                return False
            out.write("Continuing to ensure all files removed\n")
        if not self.admin and (mode != "-Mrm" or msg is None
                               or os.getuid() != msg.originator_uid):
            out.write("Permission denied\n")
            return False
        if mode != "-Mvc":
            out.write(f"Message {mid} ")
        if mode == "-Mrm":
            return self._remove(mid, msg, out, have_data) and ok
        if mode == "-Mvc":
            return self._copy(mid, msg, out)
        if mode == "-Mf":
            if msg.frozen_at is not None:
                out.write("is already frozen\n")
                return False
            msg.frozen_at = int(time.time())
            msg.manual_thaw = False
            return self._rewrite(msg, out, "is now frozen", "could not be frozen: ",
                                 [f"frozen by {self.user}"])
        if mode == "-Mt":
            if msg.frozen_at is None:
                out.write("is not frozen\n")
                return False
            msg.frozen_at = None
            msg.manual_thaw = True
            return self._rewrite(msg, out, "is no longer frozen", "could not be unfrozen: ",
                                 [f"unfrozen by {self.user}"])
        if mode == "-Mmad":
            msg.nonrecipients.update(r.address for r in msg.recipients)
            return self._rewrite(msg, out, "has been modified",
                                 "- could not mark all delivered: ",
                                 [f"address <{r.address}> marked delivered by {self.user}"
                                  for r in msg.recipients])
        return self._edit(mode, mid, msg, addresses, out)

    def _rewrite(self, msg, out, done: str, failed: str, logs: list[str]) -> bool:
        try:
            write_header(self.paths, msg, self.owner)
        except OSError as err:
            out.write(f"{failed}{err}\n")
            return False
        out.write(done + "\n")
        for text in logs:
            self.log(text, msg.id)
        return True

    def _edit(self, mode: str, mid: str, msg, addresses: list[str], out) -> bool:
        """-Mar, -Mes, -Mmd: each address is logged as it is applied; -H is
        rewritten only when all of them were good (as Exim does)."""
        doing = {"-Mes": "editing sender", "-Mar": "adding recipient",
                 "-Mmd": "marking as delivered"}[mode]
        if mode == "-Mes" and len(addresses) > 1:
            out.write("- only one sender address can be specified\n")
            return False
        if not addresses:
            out.write(f"- error while {doing}: no address given\n")
            return False
        ok = True
        for arg in addresses:
            address, error, _s, _e, domain = parse_extract_address(arg, mode == "-Mes")
            if address is None or (address and domain == 0):
                ok = False
                out.write(f"- error while {doing}:\n  bad address {arg}: "
                          f"{error if address is None else 'domain missing'}\n")
            elif mode == "-Mar":
                msg.recipients.append(Recipient(address))
                self.log(f"recipient <{address}> added by {self.user}", mid)
            elif mode == "-Mmd":
                if not any(r.address == address for r in msg.recipients):
                    ok = False
                    out.write(f"- error while {doing}:\n  {address} is not a recipient: "
                              "message not updated\n")
                    continue
                msg.nonrecipients.add(address)
                self.log(f"address <{address}> marked delivered by {self.user}", mid)
            else:
                msg.sender = address
                self.log(f"sender address changed to <{address}> by {self.user}", mid)
        if not ok:
            return False
        return self._rewrite(msg, out, "has been modified", f"- while {doing}: ", [])

    def _remove(self, mid: str, msg, out, have_data: bool) -> bool:
        """Unlink msglog, -D, -H, -J in the split subdirectory and the top one."""
        ok, removed = True, False
        for sub in ("", mid[5]):        # the top directory and the split one, as Exim
            for purpose, suffixes in (("msglog", ("",)), ("input", ("-D", "-H", "-J"))):
                d = os.path.join(self.paths.directory(purpose), sub)
                for suffix in suffixes:
                    name = os.path.join(d, mid + suffix)
                    try:
                        os.unlink(name)
                        removed = True
                    except FileNotFoundError:
                        pass
                    except OSError as err:
                        ok = False
                        out.write(f"Error while removing {name}: {err.strerror}\n")
        out.write("has been removed\n" if have_data else "has been removed or did not exist\n")
        if removed:
            self._events(msg, f"message removed by {self.user}")
            self.log(f"removed by {self.user}", mid)
            self.log("Completed", mid)
        return ok

    def _events(self, msg, why: str) -> None:
        action = self.config.main.get("event_action")
        if not action or msg is None:
            return
        from pexim.delivery.address import AddressItem
        from pexim.delivery.events import fire
        from pexim.delivery.message import DeliveryMessage

        dm = DeliveryMessage(self.config, msg, self.paths)
        for r in msg.recipients:
            if r.address not in msg.nonrecipients:
                fire(action, "msg:fail:internal", dm.context(AddressItem(r.address)), why,
                     None, self._logger)
        fire(action, "msg:complete", dm.context(None), None, None, self._logger)

    def _copy(self, mid: str, msg, out) -> bool:
        """-Mvc: the message as a transport would write it (headers, blank line, body)."""
        with open(q.find_file(self.paths, mid, "-D"), "rb") as fh:
            body = fh.read()[SPOOL_DATA_START_OFFSET:]
        if msg.spool_file_wireformat:
            body = body.replace(b"\r\n", b"\n")
        out.flush()
        data = b"".join(h.text.encode("latin-1", "replace") for h in msg.headers
                        if h.type != HTYPE_OLD)
        os.write(out.fileno(), data + b"\n" + body)
        return True

    def _show(self, mode: str, mid: str, extra: list[str], out) -> bool:
        """-Mvb/-Mvh/-Mvl: copy the -D, -H or msglog file to stdout."""
        if not self.admin:
            out.write("Permission denied\n")
            return False
        if extra:
            out.write("*** Only one message can be listed at once\n")
            return False
        purpose, suffix = {"-Mvb": ("input", "-D"), "-Mvh": ("input", "-H"),
                           "-Mvl": ("msglog", "")}[mode]
        try:
            with open(q.find_file(self.paths, mid, suffix, purpose), "rb") as fh:
                data = fh.read()
        except OSError as err:
            out.write(f"Failed to open {purpose} file for {mid}{suffix}: "
                      f"{os.strerror(err.errno or 0)}\n")
            if mode == "-Mvl" and not self.config.main.get("message_logs"):
                out.write("(No message logs are being created because the message_logs "
                          "option is false.)\n")
            return False
        out.flush()
        os.write(out.fileno(), data)
        return True

    # --- -Mg ---------------------------------------------------------------------
    def give_up(self, mid: str) -> None:
        """-Mg: every undelivered recipient fails "cancelled by administrator";
        a bounce goes to the sender (none for a bounce), then the message is
        Completed and removed.  The bounce itself is the orchestrator's
        (Deliverer.bounce_cancelled), so -Mg and a failed delivery send the same report."""
        try:
            with q.locked(self.paths, mid):
                bounces = self._give_up(mid)
            if bounces and not self.config.main.get("queue_only"):
                # exim's child delivers the bounce in the background; pexim at once
                from pexim.delivery.deliver import Deliverer
                d = Deliverer(self.config, self._logger, owner=self.owner)
                for bid in bounces:
                    d.deliver(bid)
        except FileNotFoundError:
            self.log(f"Spool{self._q()} file {mid}-D not found", mid)
        except (q.MessageLocked, PermissionError):
            pass

    def _give_up(self, mid: str) -> list[str]:
        from pexim.delivery.address import FAIL, AddressItem
        from pexim.delivery.deliver import Deliverer
        from pexim.delivery.message import DeliveryMessage

        try:
            with open(q.find_file(self.paths, mid, "-H"), "rb") as fh:
                msg = parse_header_file(fh.read(), mid)
        except (OSError, SpoolFormatError, ValueError):
            return []
        self.log(f"cancelled by {self.user}", mid)
        if self._logger is None:
            return []
        d = Deliverer(self.config, self._logger, owner=self.owner,
                      queue_name=self.paths.queue_name)
        now = time.time()
        failed = []
        for r in msg.recipients:
            if r.address in msg.nonrecipients:
                continue
            a = AddressItem(r.address, dsn_flags=r.dsn_flags, orcpt=r.orcpt,
                            errors_address=r.errors_to)
            a.status = FAIL
            a.message = "delivery cancelled by administrator"
            failed.append(a)
        log = d._log(mid)
        bounces = []
        if failed and msg.sender:
            bounces = d.bounce_cancelled(DeliveryMessage(self.config, msg, self.paths), msg,
                                         failed, now)
        d._complete(mid, msg, log, now)
        return bounces
