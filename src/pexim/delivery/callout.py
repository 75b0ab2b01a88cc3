"""Callout verification (Exim's verify.c do_callout): ask the next hop about an address.

    result = await callout(addr, hosts, tctx, options=parse_options("5s,random"),
                           kind="recipient", sender=sender, helo=helo, port=port)

``result`` is OK / FAIL / DEFER.  ``addr.message`` gets what Exim logs
("127.0.0.1 [127.0.0.1] : SMTP error from remote mail server after RCPT
TO:<b@x.example>: 550 5.1.1 No such user") and ``addr.user_message`` what the
ACL says to the client ("Callout verification failed:\\n550 5.1.1 ..." or
"Could not complete recipient verify callout"); combining them into the ACL's
reply and log line is the ACL's business.

The dialogue is the shared sans-IO client (EHLO/HELO, MAIL FROM, RCPT TO, no
DATA, QUIT) with the options Exim has: random (a random local part first: if
it is accepted, the domain accepts everything), postmaster (RCPT
postmaster@domain must be accepted too), use_sender / use_postmaster /
mailfrom= (the MAIL FROM address), defer_ok, no_cache, and the callout cache
in the hints database "callout": a record per domain ("callout=accept
postmaster=unknown random=reject") and one per address ("callout=accept" or
"callout=reject"), with Exim's expiry times (callout_positive_expire 24h,
callout_negative_expire 2h, callout_domain_positive_expire 7d,
callout_domain_negative_expire 3h).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from pexim.delivery import errors
from pexim.delivery.address import DEFER, FAIL, OK, Host
from pexim.smtp import client_protocol as cp

DB = "callout"
UNKNOWN, ACCEPT, REJECT = "unknown", "accept", "reject"


@dataclass
class CalloutOptions:
    timeout: float = 30
    connect: float | None = None       # connect timeout (default: timeout)
    defer_ok: bool = False
    no_cache: bool = False
    random: bool = False
    postmaster: bool = False
    use_sender: bool = False
    use_postmaster: bool = False
    fullpostmaster: bool = False
    mailfrom: str | None = None
    postmaster_mailfrom: str = ""
    maxwait: float | None = None


def parse_options(text: str) -> CalloutOptions:
    """The value of callout=... in a verify condition ("5s,defer_ok,random")."""
    from pexim.config.timeval import read_time

    o = CalloutOptions()
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, eq, value = item.partition("=")
        name = name.strip().lower()
        if not eq and name[:1].isdigit():
            o.timeout = float(read_time(name))
        elif name in ("defer_ok", "no_cache", "random", "postmaster", "use_sender",
                      "use_postmaster", "fullpostmaster"):
            setattr(o, name, True)
        elif name == "mailfrom":
            o.mailfrom = value.strip()
        elif name == "postmaster_mailfrom":
            o.postmaster_mailfrom, o.postmaster = value.strip(), True
        elif name == "connect":
            o.connect = float(read_time(value.strip()))
        elif name == "maxwait":
            o.maxwait = float(read_time(value.strip()))
    return o


# -- the cache --------------------------------------------------------------------

@dataclass
class DomainRecord:
    result: str = UNKNOWN             # MAIL FROM accepted or not
    postmaster: str = UNKNOWN
    random: str = UNKNOWN
    time_stamp: int = 0
    postmaster_stamp: int = 0
    random_stamp: int = 0

    def encode(self) -> bytes:
        return json.dumps(["d", self.result, self.postmaster, self.random, self.time_stamp,
                           self.postmaster_stamp, self.random_stamp]).encode()


@dataclass
class AddressRecord:
    result: str
    time_stamp: int

    def encode(self) -> bytes:
        return json.dumps(["a", self.result, self.time_stamp]).encode()


def _decode(value: bytes | None):
    try:
        v = json.loads(value) if value is not None else None
    except ValueError:
        return None
    if not isinstance(v, list) or not v:
        return None
    if v[0] == "d":
        return DomainRecord(*v[1:])
    if v[0] == "a":
        return AddressRecord(*v[1:])
    return None


def format_record(key: str, value: bytes) -> str | None:
    """exim_dumpdb's callout lines (for pexim.hints.dumpdb)."""
    from pexim.hints.dumpdb import print_time

    rec = _decode(value)
    if isinstance(rec, AddressRecord):
        return f"{print_time(rec.time_stamp)} {key} callout={rec.result}"
    if isinstance(rec, DomainRecord):
        def part(name, result, stamp):
            return f"{name}={result}" + (f" ({print_time(stamp)})" if result != UNKNOWN else "")
        return (f"{print_time(rec.time_stamp)} {key} callout={rec.result} "
                f"{part('postmaster', rec.postmaster, rec.postmaster_stamp)} "
                f"{part('random', rec.random, rec.random_stamp)}")
    return None


def _main(config, name: str, default: int) -> int:
    try:
        v = config.main.get(name)
    except (KeyError, AttributeError):
        return default
    return default if v is None else int(v)


class _Cache:
    def __init__(self, tctx, now: int):
        self.store = tctx.hints if tctx is not None else None
        self.config = tctx.config if tctx is not None else None
        self.now = now

    def get(self, key: str):
        if self.store is None:
            return None
        try:
            return _decode(self.store.get(DB, key))
        except Exception:  # noqa: BLE001 - no cache: just do the callout
            return None

    def put(self, key: str, rec) -> None:
        if self.store is None:
            return
        try:
            with self.store.transaction(DB) as txn:
                txn.put(key, rec.encode())
        except Exception:  # noqa: BLE001 - a cache we cannot write is no cache
            pass

    def domain_fresh(self, rec: DomainRecord) -> bool:
        if rec.result == ACCEPT:
            life = _main(self.config, "callout_domain_positive_expire", 7 * 86400)
        else:
            life = _main(self.config, "callout_domain_negative_expire", 3 * 3600)
        return self.now - rec.time_stamp < life

    def address_fresh(self, rec: AddressRecord) -> bool:
        if rec.result == ACCEPT:
            life = _main(self.config, "callout_positive_expire", 86400)
        else:
            life = _main(self.config, "callout_negative_expire", 2 * 3600)
        return self.now - rec.time_stamp < life


# -- the callout --------------------------------------------------------------------

def _host_text(host: Host) -> str:
    return f"{host.name} [{host.address}]"


def _fail(addr, host: Host, text: str, reply: cp.Reply | None, kind: str) -> str:
    addr.message = f"{_host_text(host)} : {text}"
    addr.user_message = ("Callout verification failed:\n" + reply.text) if reply else None
    addr.basic_errno = 0
    return FAIL


def _defer(addr, host: Host | None, text: str, kind: str, basic: int = 0) -> str:
    addr.message = f"{_host_text(host)} : {text}" if host is not None else text
    addr.user_message = f"Could not complete {kind} verify callout"
    addr.basic_errno = basic or errors.CALLOUTDEFER
    return DEFER


async def callout(addr, hosts: list[Host], tctx, *, options: CalloutOptions | None = None,
                  kind: str = "recipient", sender: str = "", helo: str = "localhost",
                  port: int = 25, interface: str | None = None, now: float | None = None,
                  primary_hostname: str = "localhost") -> str:
    """Verify ``addr`` by talking to ``hosts`` in turn; OK / FAIL / DEFER."""
    from pexim.transports import smtp_connection as conn_mod

    o = options or CalloutOptions()
    tnow = int(now if now is not None else time.time())
    cache = _Cache(tctx, tnow)
    mail_from = sender if o.use_sender else (o.mailfrom if o.mailfrom is not None else "")
    if o.use_postmaster:
        mail_from = f"postmaster@{primary_hostname}"
    address_key = addr.address if not (o.use_sender or o.mailfrom or o.use_postmaster) \
        else f"{addr.address}/<{mail_from}>"
    domain_key = addr.domain
    # The cache first.
    dom = cache.get(domain_key) if not o.no_cache else None
    if isinstance(dom, DomainRecord) and cache.domain_fresh(dom):
        if dom.result == REJECT:
            addr.message = addr.user_message = "Previous (cached) callout verification failure"
            return FAIL
        if o.random and dom.random == ACCEPT:
            return OK
        if o.postmaster and dom.postmaster == REJECT:
            addr.message = addr.user_message = "Previous (cached) callout verification failure"
            return FAIL
    else:
        dom = DomainRecord()
    rec = cache.get(address_key) if not o.no_cache else None
    if isinstance(rec, AddressRecord) and cache.address_fresh(rec):
        if rec.result == ACCEPT:
            return OK
        addr.message = addr.user_message = "Previous (cached) callout verification failure"
        return FAIL

    timeouts = conn_mod.Timeouts(o.connect or o.timeout, o.timeout, o.timeout, o.timeout)
    result = DEFER
    last_host = None
    for host in hosts:
        if not host.address:
            continue
        last_host = host
        try:
            reader, writer = await conn_mod.connect_tcp(host.address, host.port or port,
                                                        timeouts.connect, interface)
        except conn_mod.ConnectFailed as err:
            import os
            _defer(addr, host, os.strerror(err.errno), kind, err.errno)
            continue
        client = cp.SmtpClient(cp.ClientOptions(helo, size_addition=None))
        conn = conn_mod.Connection(reader, writer, client, timeouts)
        try:
            result = await _dialogue(addr, host, conn, client, o, dom, mail_from, kind,
                                     tnow, primary_hostname)
        finally:
            await conn.close()
        if result != DEFER:
            break
    if last_host is None:
        _defer(addr, None, "no hosts to verify with", kind)
    if not o.no_cache:
        # What was learnt is kept even when the answer for this address was a
        # deferral: the domain once MAIL FROM was answered, the address once
        # its RCPT was.
        if dom.time_stamp:
            cache.put(domain_key, dom)
        learnt = addr.extra.pop("callout_address_result", None)
        if learnt is not None:
            cache.put(address_key, AddressRecord(learnt, tnow))
    if result == DEFER and o.defer_ok:
        return OK
    return result


async def _probe(conn, client, sender: str, rcpt: str) -> cp.Transaction:
    tx = cp.Transaction(sender, [cp.Recipient(rcpt)], lambda _c: b"", probe=True)
    client.start(tx)
    await conn.run()
    return tx


def _broken(addr, host, f: cp.Failure, kind: str) -> str:
    from pexim.transports.smtp import _failure_text

    text, basic = _failure_text(f)
    return _defer(addr, host, text, kind, basic)


async def _dialogue(addr, host, conn, client, o: CalloutOptions, dom: DomainRecord,
                    mail_from: str, kind: str, tnow: int, primary_hostname: str) -> str:
    await conn.run()
    if client.failure is not None:
        f = client.failure
        if f.kind != cp.REPLY_ERROR:
            return _broken(addr, host, f, kind)
        text = cp.error_text(f.command, f.reply)
        if f.reply.kind == "5":
            return _fail(addr, host, text, f.reply, kind)
        return _defer(addr, host, text, kind)

    def refused(tx: cp.Transaction) -> tuple[str | None, cp.Reply | None]:
        if tx.failure is not None:
            return None, None
        if tx.mail_reply is not None and tx.mail_reply.kind != "2":
            return cp.error_text(tx.mail_command, tx.mail_reply), tx.mail_reply
        r = tx.recipients[0]
        if r.reply is not None and r.reply.kind != "2":
            return cp.error_text(f"RCPT TO:<{r.address}>", r.reply), r.reply
        return None, None

    if o.random:
        random_lp = f"{primary_hostname}-{tnow}-testing"
        tx = await _probe(conn, client, mail_from, f"{random_lp}@{addr.domain}")
        if tx.failure is not None:
            return _broken(addr, host, tx.failure, kind)
        text, reply = refused(tx)
        if tx.mail_reply is not None:
            dom.time_stamp = tnow
            if tx.mail_reply.kind == "2":
                dom.result = ACCEPT
            else:
                text = f'response to "{tx.mail_command}" was: {tx.mail_reply}'
        if text is None:
            dom.random, dom.random_stamp, dom.time_stamp = ACCEPT, tnow, tnow
            return OK
        if tx.mail_reply.kind != "2" or reply.kind != "5":
            # MAIL refused, or a temporary answer about the random address.
            if reply.kind == "5":
                return _fail(addr, host, text, reply, kind)
            return _defer(addr, host, text, kind)
        dom.random, dom.random_stamp = REJECT, tnow
    tx = await _probe(conn, client, mail_from, addr.address)
    if tx.failure is not None:
        return _broken(addr, host, tx.failure, kind)
    text, reply = refused(tx)
    mail_ok = tx.mail_reply is not None and tx.mail_reply.kind == "2"
    if tx.mail_reply is not None:
        dom.time_stamp = tnow       # a refused MAIL leaves the result unknown, as exim
        if mail_ok:
            dom.result = ACCEPT
        else:
            text = f'response to "{tx.mail_command}" was: {tx.mail_reply}'
    rr = tx.recipients[0].reply
    if mail_ok and rr is not None and rr.kind in "25":
        addr.extra["callout_address_result"] = ACCEPT if rr.kind == "2" else REJECT
    if text is not None:
        if reply.kind == "5":
            return _fail(addr, host, text, reply, kind)
        return _defer(addr, host, text, kind)
    if o.postmaster:
        ptx = await _probe(conn, client, o.postmaster_mailfrom, f"postmaster@{addr.domain}")
        if ptx.failure is not None:
            return _broken(addr, host, ptx.failure, kind)
        ptext, preply = refused(ptx)
        dom.postmaster_stamp = tnow
        if ptext is None:
            dom.postmaster = ACCEPT
        elif preply.kind == "5":
            dom.postmaster = REJECT
            return _fail(addr, host, ptext, preply, kind)
        else:
            return _defer(addr, host, ptext, kind)
    return OK
