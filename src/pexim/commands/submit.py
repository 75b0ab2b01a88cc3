"""Local submission: `-bs` (SMTP on stdin/stdout) and `-bm`/`-t` (a message on stdin).

Both go through smtp/receive.py, so a local message is spooled, logged and
acknowledged exactly like one from the daemon, then delivered as -odi/-odb/
-odq and queue_only say.  Invoked as `sendmail`, pexim is in -bm mode
already (cli.py).  -bS (commands/bsmtp.py) spools through spool_local too.
"""

from __future__ import annotations

import os
import pwd
import sys
from dataclasses import dataclass

from pexim.acl import where as W
from pexim.acl.engine import Engine, PlainHost
from pexim.expand import ExpandContext, Tainted
from pexim.log import Flags, Logger
from pexim.message.envelope import Recipient
from pexim.message.headers import Submission, apply_local_fixups
from pexim.privileges import exim_ids
from pexim.smtp.receive import Incoming, Receiver, ensure_log_dirs, split_message
from pexim.smtp.stream import serve_stream


def _caller():
    uid, gid = os.getuid(), os.getgid()
    try:
        pw = pwd.getpwuid(uid)
        return pw.pw_name, uid, gid, pw.pw_gecos.split(",")[0]
    except KeyError:
        return str(uid), uid, gid, ""


def is_trusted(config, uid: int, gid: int) -> bool:
    """root, the exim user, trusted_users, trusted_groups (Exim's trusted caller)."""
    if uid == 0:
        return True
    main = config.main

    def ids(value, lookup):
        out = set()
        for item in (value if isinstance(value, (list, tuple, set)) else
                     str(value or "").split(":")):
            item = str(item).strip()
            if item.isdigit():
                out.add(int(item))
            elif item:
                try:
                    out.add(lookup(item))
                except KeyError:
                    pass
        return out

    import grp
    users = ids(main.get("trusted_users"), lambda n: pwd.getpwnam(n).pw_uid)
    users |= ids(main.get("exim_user"), lambda n: pwd.getpwnam(n).pw_uid)
    groups = ids(main.get("trusted_groups"), lambda n: grp.getgrnam(n).gr_gid)
    return uid in users or gid in groups or bool(set(os.getgroups()) & groups)


def _qualify(config, ctx) -> tuple[str, str]:
    from pexim.expand.variables import primary_hostname
    main = config.main
    qd = main.get("qualify_domain") or primary_hostname(ctx)
    return str(qd), str(main.get("qualify_recipient") or qd)


def _log_write(logger):
    def write(text, flags):
        f = Flags(0)
        for name in flags:
            f |= {"main": Flags.MAIN, "reject": Flags.REJECT, "panic": Flags.PANIC}[name]
        logger.write(f, text)
    return write


def run_bs(config, inv, stdin=None, stdout=None) -> int:
    from pexim.smtp.connection import LiveSession
    inp = getattr(stdin or sys.stdin, "buffer", stdin or sys.stdin)
    out = getattr(stdout or sys.stdout, "buffer", stdout or sys.stdout)
    login, uid, gid, _ = _caller()
    logger = Logger.from_config(config)
    ensure_log_dirs(logger, exim_ids(config))
    receiver = Receiver(config, logger, exim_ids(config))
    accepted: list[str] = []
    receiver.after_accept = accepted.append
    session = LiveSession(config, receiver, _log_write(logger), None,
                          originator=(login, uid, gid), ident=login)
    serve_stream(session.server, inp, out)
    for message_id in accepted:
        after_reception(config, logger, inv, message_id)
    receiver.close()
    return 0


def _read_message(inp, dot_ends: bool) -> list[bytes]:
    lines = []
    for raw in inp:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if line.endswith(b"\r"):
            line = line[:-1]
        if dot_ends and line == b".":
            break
        lines.append(line)
    return lines


def _header_recipients(texts: list[str], qualify: str) -> list[str]:
    """-t: the addresses in To:, Cc: and Bcc: (Resent- ones when present)."""
    from pexim.expand.address import extract_address
    resent = any(t[:7].lower() == "resent-" for t in texts)
    names = ("resent-to", "resent-cc", "resent-bcc") if resent else ("to", "cc", "bcc")
    out = []
    for name in names:
        for t in texts:
            if t.split(":", 1)[0].strip().lower() != name:
                continue
            for part in _split_addresses(t.split(":", 1)[1]):
                address, _err, dom = extract_address(part)
                if address:
                    out.append(address if "@" in address else "%s@%s" % (address, qualify))
    return out


def _split_addresses(value: str) -> list[str]:
    parts, depth, quote, cur = [], 0, False, []
    for ch in value.replace("\n", " "):
        if ch == '"':
            quote = not quote
        elif not quote and ch in "<(":
            depth += 1
        elif not quote and ch in ">)":
            depth -= 1
        if ch == "," and not quote and depth <= 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def run_bm(config, inv, stdin=None, stderr=None) -> int:
    inp = getattr(stdin or sys.stdin, "buffer", stdin or sys.stdin)
    err = stderr or sys.stderr
    login, uid, gid, gecos = _caller()
    ctx = ExpandContext(config=config)
    qualify_domain, qualify_recipient = _qualify(config, ctx)
    trusted = is_trusted(config, uid, gid)
    own = "%s@%s" % (login, qualify_domain)
    forced = inv.values.get("-f", inv.values.get("-r"))
    sender, set_untrusted = own, False
    if forced is not None:
        forced = forced.strip("<>") if forced not in ("<>", "") else ""
        if trusted:
            sender = forced
        elif _untrusted_may_set(config, ctx, forced):
            sender, set_untrusted = forced, True
    if sender and "@" not in sender:
        sender = "%s@%s" % (sender, qualify_domain)
    dot_ends = not ({"-i", "-oi", "-oitrue"} & inv.flags)
    lines = _read_message(inp, dot_ends)
    args = [a for a in inv.args]
    recipients = [a if "@" in a else "%s@%s" % (a, qualify_recipient) for a in args]
    if "-t" in inv.flags:
        texts, _ = split_message(lines)
        found = _header_recipients(texts, qualify_recipient)
        recipients = [r for r in found if r not in recipients]
    if not recipients:
        err.write("exim: no recipients\n" if "-t" not in inv.flags
                  else "exim: no recipients found in headers\n")
        return 1
    logger = Logger.from_config(config)
    ensure_log_dirs(logger, exim_ids(config))
    receiver = Receiver(config, logger, exim_ids(config))
    caller = Caller(login, uid, gid, gecos, trusted)
    msgid, error = spool_local(config, inv, ctx, caller, sender, forced, set_untrusted,
                               recipients, lines, "local", logger, receiver)
    receiver.close()
    if msgid is None:
        err.write("%s\n" % error)
        return 1
    return 0


@dataclass
class Caller:
    login: str
    uid: int
    gid: int
    gecos: str
    trusted: bool


def spool_local(config, inv, ctx, caller: Caller, sender: str, forced: str | None,
                set_untrusted: bool, recipients: list[str], lines: list[bytes],
                protocol: str, logger, receiver,
                helo: str | None = None) -> tuple[str | None, str | None]:
    """Spool one locally submitted message (fix-ups, acl_not_smtp, -H/-D, <= line),
    then deliver it as -od* says. Returns (message id, None) or (None, error text)."""
    login, uid, gid, trusted = caller.login, caller.uid, caller.gid, caller.trusted
    qualify_domain, _ = _qualify(config, ctx)
    own = "%s@%s" % (login, qualify_domain)
    name = inv.values.get("-F", caller.gecos)
    local = forced is None or (not trusted and not set_untrusted)   # -f was ignored

    def fixups(headers, msgid, now):
        if "-t" in inv.flags:
            for h in headers:
                if h.name.lower() in ("bcc", "resent-bcc"):
                    h.type = "*"
        sub = Submission(msgid, ctx.values.get("primary_hostname") or qualify_domain,
                         qualify_domain, sender, login, name, trusted,
                         forced is not None, "-F" in inv.values,
                         resent=any(h.name.lower().startswith("resent-") for h in headers))
        apply_local_fixups(headers, sub, now)

    inc = Incoming(sender=sender, recipients=[Recipient(r) for r in recipients],
                   lines=lines, protocol=protocol, ident=login, helo_name=helo, originator=(login, uid, gid),
                   local=local, auth=(login, own) if local else None,
                   sender_set_untrusted=set_untrusted, allow_unqualified=True,
                   extra={"fixups": fixups, "deliver_firsttime": True})
    host = PlainHost(lambda text: logger.main(text))
    engine = Engine(config, ctx, host)
    acl_text = config.main.get("acl_not_smtp")

    def acl():
        if not acl_text:
            return None
        return engine.check(W.NOTSMTP, str(acl_text))

    ctx.values["sender_ident"] = Tainted(login)
    outcome = receiver.accept(ctx, inc, acl, host.state)
    if outcome.message_id is None:
        text = outcome.user_msg or "local configuration problem"
        logger.reject("F=<%s> rejected by non-SMTP ACL: %s" % (
            sender, outcome.log_msg or text))
        return None, text
    after_reception(config, logger, inv, outcome.message_id,
                    queued=bool({"queue", "queue_only"} & set(host.state.controls)))
    return outcome.message_id, None


def after_reception(config, logger, inv, message_id: str, queued: bool = False) -> None:
    """Deliver at once (-odi/-odf), in a background child (-odb, the default), or
    leave the message on the queue (-odq, queue_only, control = queue)."""
    if queued or "-odq" in inv.flags or "-odqs" in inv.flags or config.main.get("queue_only"):
        return
    from pexim.commands.deliver import deliver_now

    if "-odi" in inv.flags or "-odf" in inv.flags:
        deliver_now(config, logger, message_id)
        return
    if os.fork() == 0:                      # -odb: the submitter does not wait
        code = 0
        try:
            os.setsid()
            deliver_now(config, logger, message_id)
        except BaseException:  # noqa: BLE001 - the child must not return into the caller
            code = 1
        os._exit(code)


def _untrusted_may_set(config, ctx, sender: str) -> bool:
    from pexim import lists
    text = config.main.get("untrusted_set_sender")
    if not text:
        return False
    ok, _ = lists.match_address(ctx, sender, str(text), label="untrusted_set_sender")
    return ok


def run(config, inv) -> int:
    if inv.mode == "-bs":
        return run_bs(config, inv)
    return run_bm(config, inv)
