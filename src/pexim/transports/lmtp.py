"""The lmtp transport: LMTP over a pipe to a command or a Unix socket."""

from pexim.config.drivers import DriverError
from pexim.config.options import Option, T
from pexim.transports.base import LOCAL_DEFAULTS, user_without_group

S = T.STRING
GENERIC_DEFAULTS = LOCAL_DEFAULTS

OPTIONS = [
    Option("batch_id", S),
    Option("batch_max", T.INT, "1"),
    Option("command", S),
    Option("ignore_quota", T.BOOL, "false"),
    Option("socket", S),
    Option("timeout", T.TIME, "5m"),
]


def check(inst, v) -> None:
    if (v["command"] is None) == (v["socket"] is None):
        raise DriverError("one (and only one) of command or socket must be set "
                          f"for the {inst.name} transport")
    user_without_group(inst, v)


# ---------------------------------------------------------------------------
# Runtime (Exim's lmtp_transport_entry)
#
# One LMTP session per batch (batch_max addresses) with a command's stdin/stdout
# or a Unix socket: LHLO, MAIL, one RCPT at a time (no pipelining), DATA, then a
# reply per accepted recipient.  Errors read "LMTP error after <command>: <reply>";
# a lost connection or a timeout defers everything still open (errno -1), as
# exim's lmtp transport does.  Synchronous, so the orchestrator can run it as
# the delivery's uid; the dialogue itself is the shared sans-IO client.

import asyncio  # noqa: E402

from pexim.delivery import errors  # noqa: E402
from pexim.delivery.address import DEFER, FAIL, OK  # noqa: E402
from pexim.smtp import client_protocol as cp  # noqa: E402

PREFIX = "LMTP error"


def deliver(tp, message, addrs, tctx) -> None:
    asyncio.run(deliver_async(tp, message, addrs, tctx))


def _set(addr, status, message=None, basic=0, more=0) -> None:
    addr.status, addr.message, addr.basic_errno, addr.more_errno = status, message, basic, more


def _defer_all(addrs, text: str, basic: int = errors.UNKNOWNERROR) -> None:
    for a in addrs:
        if a.status is None:
            _set(a, DEFER, text, basic)


async def deliver_async(tp, message, addrs, tctx) -> None:
    from pexim.expand import ExpansionError, ForcedFail, expand_string
    from pexim.transports import smtp_connection as conn_mod
    from pexim.transports.smtp import rcpt_address
    from pexim.transports.write import WriteError, transport_return_path, write_message

    ctx = message.context(addrs[0])
    timeout = tp.get("timeout") or 300
    timeouts = conn_mod.Timeouts(timeout, timeout, timeout, timeout)
    try:
        sender = transport_return_path(tp, message, addrs[0], ctx)
        chunks: list[bytes] = []
        write_message(tp, message, addrs, tctx, chunks.append, crlf=True, dot_stuff=True,
                      return_path=sender)
    except WriteError as err:
        _defer_all(addrs, str(err), err.basic_errno)
        return
    wire = b"".join(chunks)
    proc = None
    try:
        if tp.get("socket"):
            path = expand_string(tp.get("socket"), ctx)
            reader, writer = await conn_mod.connect_unix(path, timeout)
        else:
            from pexim.transports.command import CommandError, set_up_command

            try:
                argv = set_up_command(tp.get("command"), ctx, f"{tp.name} transport", addrs)
            except CommandError as err:
                _defer_all(addrs, str(err), errors.EXPANDFAIL)
                return
            reader, writer, proc = await conn_mod.spawn(argv)
    except (ExpansionError, ForcedFail) as err:
        which = "socket" if tp.get("socket") else "command"
        _defer_all(addrs, f'Failed to expand {which} "{tp.get(which)}" for {tp.name} '
                          f"transport: {err}", errors.EXPANDFAIL)
        return
    except conn_mod.ConnectFailed as err:
        _defer_all(addrs, f"Failed to connect to socket {path} for {tp.name} transport: "
                          f"{err}", err.errno)
        return
    except (OSError, WriteError) as err:
        _defer_all(addrs, f"Failed to create child process for {tp.name} transport: {err}",
                   getattr(err, "errno", 0) or errors.UNKNOWNERROR)
        return
    from pexim.expand.variables import primary_hostname

    client = cp.SmtpClient(cp.ClientOptions(
        helo=primary_hostname(ctx), lmtp=True, pipelining=False, size_addition=None,
        ignore_quota=bool(tp.get("ignore_quota"))))
    conn = conn_mod.Connection(reader, writer, client, timeouts, proc)
    try:
        await conn.run()
        if client.failure is not None:
            _session_failure(addrs, client.failure)
            return
        tx = cp.Transaction(sender, [cp.Recipient(rcpt_address(a, tp.get(
            "rcpt_include_affixes"))) for a in addrs], lambda _chunking: wire)
        client.start(tx)
        await conn.run()
        _results(addrs, tx)
    finally:
        await conn.close()


def _broken(f: cp.Failure) -> str:
    if f.kind == cp.TIMEOUT:
        return f"LMTP timeout after {f.command}"
    if f.kind == cp.CLOSED_BY_PEER:
        return f"LMTP connection closed after {f.command}"
    return f"Malformed LMTP reply after {f.command}: {f.text}"


def _refusal(addr, step: str, reply: cp.Reply, errno_4xx: int) -> None:
    text = cp.error_text(step, reply, PREFIX)
    if reply.kind == "5":
        _set(addr, FAIL, text)
    else:
        _set(addr, DEFER, text, errno_4xx, (reply.code % 100) << 8)


def _session_failure(addrs, f: cp.Failure) -> None:
    for a in addrs:
        if f.kind == cp.REPLY_ERROR:
            _refusal(a, f.command, f.reply, 0)
        else:
            _set(a, DEFER, _broken(f), errors.UNKNOWNERROR)


def _results(addrs, tx: cp.Transaction) -> None:
    if tx.mail_reply is not None and tx.mail_reply.kind != "2":
        for a in addrs:
            _refusal(a, tx.mail_command, tx.mail_reply, errors.MAIL4XX)
        return
    for a, r in zip(addrs, tx.recipients, strict=True):
        if r.reply is not None and r.reply.kind != "2":
            _refusal(a, f"RCPT TO:<{r.address}>", r.reply, errors.RCPT4XX)
    if tx.data_reply is not None and tx.data_reply.kind != "3":
        for a, r in zip(addrs, tx.recipients, strict=True):
            if a.status is None and r.reply is not None:
                _refusal(a, "DATA", tx.data_reply, errors.DATA4XX)
    for a, r in zip(addrs, tx.recipients, strict=True):
        if a.status is not None:
            continue
        if r.data_reply is None:
            if tx.failure is not None:
                _set(a, DEFER, _broken(tx.failure), errors.UNKNOWNERROR)
            continue
        if r.data_reply.kind != "2":
            _refusal(a, "end of data", r.data_reply, errors.DATA4XX)
            continue
        _set(a, OK)
        a.extra["confirmation"] = str(r.data_reply)
