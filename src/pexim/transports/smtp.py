"""The smtp transport: SMTP/LMTP over TCP to remote hosts."""

from pexim.config.drivers import DriverError
from pexim.config.options import Option, T

S, B, TIME = T.STRING, T.BOOL, T.TIME
LOCAL = False

OPTIONS = [Option(n, S) for n in (
    "authenticated_sender dane_require_tls_ciphers dkim_canon dkim_domain dkim_identity "
    "dkim_private_key dkim_selector dkim_sign_headers dkim_strict dkim_timestamps "
    "dnssec_require_domains dscp fallback_hosts hosts hosts_avoid_esmtp "
    "hosts_avoid_pipelining hosts_avoid_tls hosts_nopass_tls hosts_noproxy_tls "
    "hosts_pipe_connect hosts_require_alpn hosts_require_auth hosts_require_dane "
    "hosts_require_ocsp hosts_require_tls hosts_try_auth hosts_verify_avoid_tls interface "
    "port serialize_hosts socks_proxy tls_alpn tls_certificate tls_crl tls_privatekey "
    "tls_require_ciphers tls_resumption_hosts tls_sni tls_verify_hosts"
).split()] + [Option(n, S, "*") for n in (
    "dnssec_request_domains hosts_request_ocsp hosts_try_chunking hosts_try_dane "
    "hosts_try_fastopen hosts_try_prdr tls_try_verify_hosts tls_verify_cert_hostnames"
).split()] + [Option(n, B, "false") for n in (
    "allow_localhost authenticated_sender_force dns_search_parents gethostbyname "
    "hosts_override hosts_randomize lmtp_ignore_quota"
).split()] + [Option(n, B, "true") for n in (
    "address_retry_include_sender delay_after_cutoff dns_qualify_single keepalive "
    "tls_tempfail_tryclear"
).split()] + [
    Option("*expand_multi_domain", S, hidden=True),
    Option("*expand_retry_include_ip_address", S, hidden=True),
    Option("command_timeout", TIME, "5m"),
    Option("connect_timeout", TIME, "5m"),
    Option("connection_max_messages", T.INT, "500"),
    Option("data_timeout", TIME, "5m"),
    Option("dkim_hash", S, "sha256"),
    Option("final_timeout", TIME, "10m"),
    Option("helo_data", S, "$primary_hostname"),
    Option("host_name_extract", S, r"${if and {{match{$host}{.outlook.com\$}} "
                                   r"{match{$item}{\N^250-([\w.]+)\s\N}}} {$1}}"),
    Option("hosts_max_try", T.INT, "5"),
    Option("hosts_max_try_hardlimit", T.INT, "50"),
    Option("max_rcpt", T.INT, "100"),
    Option("message_linelength_limit", T.INT, "998"),
    Option("multi_domain", T.EXPAND_BOOL, "true"),
    Option("protocol", S, "smtp"),
    Option("retry_include_ip_address", T.EXPAND_BOOL, "true"),
    Option("size_addition", T.INT, "1024"),
    Option("tls_dh_min_bits", T.INT, "1024"),
    Option("tls_verify_certificates", S, "system"),
    Option("utf8_downconvert", S, "-1"),
]


def derive(inst, v) -> dict:
    """The default port follows the protocol."""
    if v["port"] is None:
        proto = (v["protocol"] or "").lower()
        return {"port": proto if proto in ("lmtp", "smtps") else "smtp"}
    return {}


def check(inst, v) -> None:
    if not (v["command_timeout"] and v["data_timeout"] and v["final_timeout"]):
        raise DriverError(f"command, data, or final timeout value is zero for "
                          f"{inst.name} transport")


# ---------------------------------------------------------------------------
# Runtime (Exim's smtp_transport_entry / smtp_deliver)
#
# For each host in turn (router hosts, or the transport's hosts/hosts_override,
# then fallback_hosts): skip it while its retry record says "not yet"; connect;
# greet; send the addresses (max_rcpt per transaction); per-recipient results.
# Host errors (connection, greeting, timeouts, lost connection, MAIL/DATA 4xx)
# leave the addresses for the next host; the last error stands if none is left.
#
# Retry items go on addr.retry_keys as RetryItems (delivery/retry.py), as Exim
# puts them on its address items: host keys "T:name:ip[:port]" on the first
# address of the batch, message keys "T:name:ip[:port]:<id>" for MAIL/DATA 4xx,
# address keys "R:<address>[:<sender>]" for RCPT 4xx; successes delete them.

import errno as _errno  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from pexim.bytestr import printing  # noqa: E402
from pexim.delivery import errors  # noqa: E402
from pexim.delivery import hosts as hostlib  # noqa: E402
from pexim.delivery.address import DEFER, FAIL, MX_NONE, OK, Host  # noqa: E402
from pexim.delivery.retry import RetryItem  # noqa: E402
from pexim.smtp import client_protocol as cp  # noqa: E402
from pexim.transports import smtp_connection as conn_mod  # noqa: E402

_PENDING = "pending"        # not settled on this host: try the next one


@dataclass
class _Run:
    """One transport call: the expanded options and what happened so far."""

    tp: object
    message: object
    addrs: list
    tctx: object
    ctx: object
    port: int
    lmtp: bool
    timeouts: conn_mod.Timeouts
    include_ip: bool = True
    return_path: str = ""
    last_error: dict = field(default_factory=dict)
    host_keys_done: set = field(default_factory=set)


def _exp(run: _Run, option: str):
    """An option's value, expanded when it is a string."""
    from pexim.expand import expand_string

    value = run.tp.get(option)
    if isinstance(value, str) and ("$" in value or "\\" in value):
        return expand_string(value, run.ctx)
    return value


def _host_matches(run: _Run, option: str, host: Host) -> bool:
    """Is the host in the host list option (hosts_try_chunking, hosts_avoid_*, ...)?"""
    lst = run.tp.get(option)
    if not lst:
        return False
    if lst.strip() == "*":
        return True
    from pexim.lists import ListDefer, match_ip

    try:
        return bool(match_ip(run.ctx, host.address or "", lst, names=True)[0])
    except ListDefer:
        return False


def _wire_message(run: _Run, chunking: bool) -> bytes:
    """The message as it goes on the wire (CRLF; dot-stuffed, ending "." for DATA)."""
    from pexim.transports.write import write_message

    chunks: list[bytes] = []
    write_message(run.tp, run.message, run.addrs, run.tctx, chunks.append, crlf=True,
                  dot_stuff=not chunking, return_path=run.return_path)
    return b"".join(chunks)


def _linecount(message) -> int:
    """message_linecount: header lines plus body lines (SIZE= adds it for CRs)."""
    headers = sum(t.count("\n") for t in message.header_texts())
    return headers + (message.spool.body_linecount or 0)


def _mx_bit(host: Host) -> int:
    return errors.MORE_MX if host.mx != MX_NONE else errors.MORE_A


def _host_text(host: Host) -> str:
    return f"H={host.name} [{host.address}]"


def _log(run: _Run, text: str) -> None:
    """Host-level lines Exim writes from the transport ("H=... Connection refused")."""
    logger = run.tctx.logger
    if logger is not None and not run.tp.get("disable_logging"):
        logger.main(text, run.message.id)


def _retry(run: _Run, addr, key: str, basic: int = 0, more: int = 0, text: str = "",
           delete: bool = False, host: bool = False) -> None:
    addr.retry_keys.append(RetryItem(key, basic, more, text, delete=delete, host=host))


def _address_retry_key(run: _Run, addr) -> str:
    key = f"R:{addr.unique}"
    if run.tp.get("address_retry_include_sender"):
        key += f":<{run.message.sender}>"
    return key


def _set(addr, status, message=None, basic=0, more=0, host: Host | None = None) -> None:
    addr.status, addr.message = status, message
    addr.basic_errno, addr.more_errno = basic, more
    if host is not None:
        addr.host_used = host


async def deliver(tp, message, addrs, tctx) -> None:
    """Deliver one message to a batch of addresses that share their hosts.

    More than max_rcpt addresses are sent as separate deliveries (Exim's
    delivery process splits them before calling the transport)."""
    limit = int(tp.get("max_rcpt") or 0) or len(addrs)
    try:
        for i in range(0, len(addrs), limit):
            await _deliver_batch(tp, message, addrs[i:i + limit], tctx)
    finally:
        for a in addrs:         # never hand back our internal marker (e.g. on a crash)
            if a.status == _PENDING:
                a.status = None


async def _deliver_batch(tp, message, addrs, tctx) -> None:
    run = _setup(tp, message, addrs, tctx)
    if run is None:
        return
    hosts, fallback = await _hosts(run)
    if hosts is None:
        return
    now = tctx.now
    force = bool(tctx.extra.get("force"))
    for a in addrs:
        a.status = _PENDING
    any_tried = total = 0
    hard = int(tp.get("hosts_max_try_hardlimit") or 50)
    soft = int(tp.get("hosts_max_try") or 5)
    for group in (hosts, fallback):
        tried, last_mx = 0, None
        for host in group:
            if not any(a.status == _PENDING for a in addrs) or total >= hard:
                break
            counted = True
            if tried >= soft:
                # Past hosts_max_try, only a host with another MX value is still
                # tried (uncounted), so every preference gets a chance.
                if host.mx == last_mx:
                    continue
                counted = False
            port = host.port or run.port
            hkey = hostlib.host_retry_key(host, port, run.include_ip)
            mkey = hostlib.message_retry_key(hkey, message.id)
            if not force and (hostlib.retry_not_due(tctx.hints, hkey, now)
                              or hostlib.retry_not_due(tctx.hints, mkey, now)):
                hostlib.mark_retry_skip(host)
                continue
            tried += counted
            total += 1
            any_tried = 1
            last_mx = host.mx
            pending = [a for a in addrs if a.status == _PENDING]
            await _deliver_host(run, host, port, hkey, mkey, pending)
    for a in addrs:
        if a.status != _PENDING:
            continue
        if not any_tried:
            _set(a, DEFER, f"retry time not reached for any host for '{addrs[0].domain}'",
                 errors.HRETRY)
        else:
            err = run.last_error.get(id(a))
            if err:
                _set(a, DEFER, *err)
            else:
                _set(a, DEFER, "all hosts have been failing for a long time", errors.HRETRY)


def _setup(tp, message, addrs, tctx) -> _Run | None:
    from pexim.expand import ExpansionError

    ctx = message.context(addrs[0])
    proto = (tp.get("protocol") or "smtp").lower()
    run = _Run(tp, message, addrs, tctx, ctx, 25, proto == "lmtp",
               conn_mod.Timeouts(tp.get("connect_timeout") or 300,
                                 tp.get("command_timeout") or 300,
                                 tp.get("data_timeout") or 300,
                                 tp.get("final_timeout") or 600))
    from pexim.transports.write import WriteError, transport_return_path

    try:
        run.return_path = transport_return_path(tp, message, addrs[0], ctx)
    except WriteError as err:
        for a in addrs:
            _set(a, DEFER, str(err), err.basic_errno)
        return None
    try:
        run.port = hostlib.port_number(_exp(run, "port"),
                                       24 if run.lmtp else 465 if proto == "smtps" else 25)
        inc = _exp(run, "retry_include_ip_address")
        run.include_ip = inc if isinstance(inc, bool) else str(inc).lower() not in (
            "false", "no", "0", "")
    except ExpansionError as err:
        for a in addrs:
            _set(a, DEFER, f'failed to expand "port" in {tp.name} transport: {err}',
                 errors.EXPANDFAIL)
        return None
    return run


async def _hosts(run: _Run):
    """The hosts to try, and the fallback hosts (both with addresses)."""
    from pexim.expand import ExpansionError

    tp, first = run.tp, run.addrs[0]
    try:
        own = tp.get("hosts")
        if own and (tp.get("hosts_override") or not first.hosts):
            hosts = hostlib.parse_host_list(_exp(run, "hosts"))
        else:
            hosts = [Host(h.name, h.address, h.port, h.mx, h.sort_key, dnssec=h.dnssec)
                     for h in first.hosts]
        fb = first.fallback_hosts or hostlib.parse_host_list(_exp(run, "fallback_hosts"))
    except ExpansionError as err:
        for a in run.addrs:
            _set(a, DEFER, f"failed to expand hosts list in {tp.name} transport: {err}",
                 errors.EXPANDFAIL)
        return None, None
    if not hosts:
        for a in run.addrs:
            _set(a, DEFER, f"No hosts specified for {tp.name} transport", errors.UNKNOWNHOST)
        return None, None
    if tp.get("hosts_randomize"):
        hosts = hostlib.randomize(hosts)
    hosts = await hostlib.resolve(hosts, run.tctx.resolver)
    fallback = await hostlib.resolve(list(fb), run.tctx.resolver)
    if not hosts and not fallback:
        for a in run.addrs:
            _set(a, DEFER, "all host address lookups failed temporarily", errors.UNKNOWNHOST)
        return None, None
    return hosts, fallback


def _client_options(run: _Run, host: Host) -> cp.ClientOptions:
    from pexim.expand import expand_string

    helo = expand_string(run.tp.get("helo_data") or "$primary_hostname",
                         run.message.context(run.addrs[0], {"host": host.name,
                                                             "host_address": host.address}))
    return cp.ClientOptions(
        helo=helo, lmtp=run.lmtp,
        esmtp=not _host_matches(run, "hosts_avoid_esmtp", host),
        pipelining=not _host_matches(run, "hosts_avoid_pipelining", host),
        chunking=_host_matches(run, "hosts_try_chunking", host),
        prdr=_host_matches(run, "hosts_try_prdr", host),
        ignore_quota=bool(run.tp.get("lmtp_ignore_quota")),
        size_addition=int(run.tp.get("size_addition") or 0))


def _host_error(run: _Run, host: Host, hkey: str, addrs, message: str | None, basic: int,
                more: int, logline: str, retry_text: str, used: bool = True) -> None:
    """An error that concerns the host: log it once, record it, leave the addresses
    for the next host."""
    _log(run, logline)
    if hkey not in run.host_keys_done:
        run.host_keys_done.add(hkey)
        _retry(run, run.addrs[0], hkey, basic, more, retry_text, host=True)
    for a in addrs:
        if a.status == _PENDING:
            # A host that could not be reached does not replace one that was.
            before = run.last_error.get(id(a))
            shown = host if used else (before[3] if before else None)
            run.last_error[id(a)] = (message, basic, more, shown)


async def _deliver_host(run: _Run, host: Host, port: int, hkey: str, mkey: str,
                        pending: list) -> None:
    host = Host(host.name, host.address, port, host.mx, host.sort_key, dnssec=host.dnssec)
    mx = _mx_bit(host)
    interface = None
    if run.tp.get("interface"):
        interface = _interface(run, host)
    try:
        reader, writer = await conn_mod.connect_tcp(host.address, port, run.timeouts.connect,
                                                    interface)
    except conn_mod.ConnectFailed as err:
        more = mx | (errors.RTEF_CTOUT if err.timed_out else 0)
        text = os.strerror(err.errno)
        _host_error(run, host, hkey, pending, None, err.errno, more,
                    f"{_host_text(host)} {text}", text, used=False)
        return
    client = cp.SmtpClient(_client_options(run, host))
    conn = conn_mod.Connection(reader, writer, client, run.timeouts)
    try:
        await conn.run()
        if client.failure is not None:
            _session_failure(run, host, hkey, pending, client.failure, mx)
            return
        if _required_but_missing(run, host, hkey, client, pending):
            return
        # connection_max_messages: the place to send further messages on this
        # connection (continued deliveries) once the orchestrator offers them.
        from pexim.transports.write import WriteError

        chunking = client.options.chunking and client.offers("CHUNKING")
        try:
            wire = _wire_message(run, chunking)
        except WriteError as err:
            for a in pending:
                _set(a, DEFER, str(err), err.basic_errno, err.more_errno)
            return
        tx = _transaction(run, pending, lambda _chunking: wire)
        start = time.time()
        client.start(tx)
        await conn.run()
        _results(run, host, hkey, mkey, pending, tx, client, mx)
        for a in pending:
            a.extra["deliver_time"] = time.time() - start
    finally:
        await conn.close()


def _required_but_missing(run: _Run, host: Host, hkey: str, client: cp.SmtpClient,
                          pending) -> bool:
    """hosts_require_tls / hosts_require_auth: the client side of TLS and AUTH is not
    written yet (the state machine has the hooks), so such hosts defer rather than
    get the message in clear or unauthenticated."""
    if _host_matches(run, "hosts_require_tls", host):
        text = ("a TLS session is required, but the server did not offer TLS support"
                if not client.offers("STARTTLS") else
                "a TLS session is required, but pexim's smtp transport cannot start TLS yet")
        basic = errors.TLSREQUIRED
    elif _host_matches(run, "hosts_require_auth", host):
        text = "authentication required but pexim's smtp transport cannot authenticate yet"
        basic = errors.AUTHFAIL
    else:
        return False
    _host_error(run, host, hkey, pending, text, basic, _mx_bit(host),
                f"{_host_text(host)}: {text}", f"{_host_text(host)}: {text}")
    return True


def _interface(run: _Run, host: Host) -> str | None:
    from pexim.lists import iter_list

    want_v6 = ":" in (host.address or "")
    for item in iter_list(_exp(run, "interface") or ""):
        if (":" in item) == want_v6:
            return item.strip()
    return None


def _transaction(run: _Run, batch, wire) -> cp.Transaction:
    m = run.message
    s = m.spool
    rcpts = [cp.Recipient(rcpt_address(a, run.tp.get("rcpt_include_affixes")), a.dsn_flags,
                          a.orcpt) for a in batch]
    ret = {1: "FULL", 2: "HDRS"}.get(getattr(s, "dsn_ret", 0) or 0)
    return cp.Transaction(
        sender=run.return_path, recipients=rcpts, message=wire,
        size=m.size + _linecount(m), body_8bit=bool(getattr(s, "body_8bitmime", False)),
        utf8=bool(getattr(s, "smtputf8", False)), dsn_ret=ret,
        dsn_envid=getattr(s, "dsn_envid", None))


def rcpt_address(addr, include_affixes: bool) -> str:
    """transport_rcpt_address(): the address for RCPT TO, affixes kept only on request."""
    if include_affixes or not (addr.prefix or addr.suffix):
        return addr.address
    return f"{addr.local_part}@{addr.domain}"


def _failure_text(f: cp.Failure) -> tuple[str, int]:
    """Exim's words and errno for a dialogue that broke off."""
    if f.kind == cp.CLOSED_BY_PEER:
        return f"Remote host closed connection in response to {f.command}", errors.SMTPCLOSED
    if f.kind == cp.TIMEOUT:
        return f"SMTP timeout after {f.command}", _errno.ETIMEDOUT
    return (f"Malformed SMTP reply in response to {f.command}: {printing(f.text)}",
            errors.SMTPFORMAT)


def _broken(run: _Run, host: Host, hkey: str, addrs, f: cp.Failure, mx: int,
            mkey: str | None = None) -> None:
    """Connection lost, timeout or garbage: a host error for the unsettled addresses
    (one for this message only when it happened after the data)."""
    text, basic = _failure_text(f)
    logline = f"{_host_text(host)}: {text}"
    if basic > 0:
        logline += f": {os.strerror(basic)}"
    key = mkey if mkey is not None and f.command.endswith("end of data") else hkey
    _host_error(run, host, key, addrs, text, basic, mx, logline,
                _retry_text(host, text, basic))


def _retry_text(host: Host, text: str, basic: int) -> str:
    """What Exim keeps in a retry record: the errno's text, else host and message."""
    return os.strerror(basic) if basic > 0 else f"{_host_text(host)}: {text}"


def _session_failure(run: _Run, host: Host, hkey: str, addrs, f: cp.Failure, mx: int) -> None:
    if f.kind != cp.REPLY_ERROR:
        _broken(run, host, hkey, addrs, f, mx)
        return
    text = cp.error_text(f.command, f.reply)
    _host_error(run, host, hkey, addrs, text, 0, mx, f"{_host_text(host)}: {text}",
                f"{_host_text(host)}: {text}")
    if f.reply.kind == "5":
        for a in addrs:
            _set(a, FAIL, text, 0, mx, host)


def _code_more(reply: cp.Reply, mx: int) -> int:
    return ((reply.code % 100) << 8) | mx


def _results(run: _Run, host: Host, hkey: str, mkey: str, batch, tx: cp.Transaction,
             client: cp.SmtpClient, mx: int) -> None:
    """Per-recipient outcomes of one transaction, in Exim's words."""
    lmtp = run.lmtp
    for a in batch:
        a.dsn_aware = client.offers("DSN")     # for the "relayed" success DSN
    # MAIL refused: everything in the transaction.
    if tx.mail_reply is not None and tx.mail_reply.kind != "2":
        text = cp.error_text(_step(client, tx, "mail"), tx.mail_reply)
        if tx.mail_reply.kind == "5":
            for a in batch:
                _set(a, FAIL, text, 0, mx, host)
        else:
            more = _code_more(tx.mail_reply, mx)
            _log(run, f"{_host_text(host)}: {text}")
            _retry(run, batch[0], mkey, errors.MAIL4XX, more, f"{_host_text(host)}: {text}")
            for a in batch:
                run.last_error[id(a)] = (text, errors.MAIL4XX, more, host)
        return
    # RCPT replies that arrived.
    for a, r in zip(batch, tx.recipients, strict=True):
        if r.reply is None or r.reply.kind == "2":
            continue
        text = cp.error_text(f"RCPT TO:<{r.address}>", r.reply)
        if r.reply.kind == "5":
            _set(a, FAIL, text, 0, mx, host)
        else:
            more = _code_more(r.reply, mx)
            _set(a, DEFER, text, errors.RCPT4XX, more, host)
            _retry(run, a, _address_retry_key(run, a), errors.RCPT4XX, more,
                   f"{_host_text(host)}: {text}")
    accepted = [a for a, r in zip(batch, tx.recipients, strict=True)
                if r.reply is not None and r.reply.kind == "2"]
    if tx.failure is not None:
        unsettled = [a for a, r in zip(batch, tx.recipients, strict=True)
                     if r.reply is None or r.reply.kind == "2"]
        _broken(run, host, hkey, unsettled, tx.failure, mx, mkey)
        return
    if not accepted:
        return
    bad = tx.data_reply if tx.data_reply is not None and tx.data_reply.kind not in "3" \
        else None
    if bad is None and not lmtp and tx.final_reply is not None and tx.final_reply.kind != "2":
        bad = tx.final_reply
    if bad is not None:
        step = _step(client, tx, "data" if bad is tx.data_reply else "end")
        text = cp.error_text(step, bad)
        if bad.kind == "5":
            for a in accepted:
                _set(a, FAIL, text, 0, mx, host)
        else:
            more = _code_more(bad, mx)
            _log(run, f"{_host_text(host)}: {text}")
            _retry(run, batch[0], mkey, errors.DATA4XX, more, f"{_host_text(host)}: {text}")
            for a in accepted:
                run.last_error[id(a)] = (text, errors.DATA4XX, more, host)
        return
    # Delivered (SMTP: all accepted; LMTP: per recipient).
    rcpt_of = {id(a): r for a, r in zip(batch, tx.recipients, strict=True)}
    for a in accepted:
        reply = rcpt_of[id(a)].data_reply if lmtp else tx.final_reply
        if lmtp and reply is not None and reply.kind != "2":
            # Exim names the last command sent (DATA or BDAT), errno 0, address retry key.
            last = f"BDAT {len(tx.message(True))} LAST" if tx.chunking else "DATA"
            text = cp.error_text(last, reply, "LMTP error")
            if reply.kind == "5":
                _set(a, FAIL, text, 0, mx, host)
            else:
                more = _code_more(reply, mx)
                _set(a, DEFER, text, 0, more, host)
                _retry(run, a, f"R:{a.unique}", 0, more, f"{_host_text(host)}: {text}")
            continue
        _set(a, OK, None, 0, 0, host)
        a.extra["confirmation"] = printing(reply.text) if reply is not None else None
        a.extra["chunking"] = tx.chunking
        a.extra["size"] = len(tx.message(tx.chunking))
        _retry(run, a, _address_retry_key(run, a), delete=True)
    if any(a.status == OK for a in batch):
        _retry(run, batch[0], hkey, delete=True, host=True)
        _retry(run, batch[0], mkey, delete=True)


def _step(client: cp.SmtpClient, tx: cp.Transaction, which: str) -> str:
    """The name Exim gives a command in errors ("pipelined MAIL FROM:<...>", ...)."""
    pipelined = client.options.pipelining and client.offers("PIPELINING")
    pl = "pipelined " if pipelined else ""
    if which == "mail":
        return pl + tx.mail_command
    if which == "data":
        return pl + "DATA"
    return ("pipelined " if pipelined and tx.chunking else "") + "end of data"
