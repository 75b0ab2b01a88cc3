"""The `verify` ACL condition (acl_verify()).

helo (address literals), header_syntax, and sender/recipient verification,
which runs the routers in verify mode (pexim.delivery.route.verify) and
answers with Exim's texts.  Callouts are a separate step after routing
(`_callout`, the smtp client in pexim.delivery.callout) to the hosts the
router chose.
"""

from __future__ import annotations

from pexim.acl import where as W

_EXPECTED = ('expected "sender[=address]", "recipient", "helo", "header_syntax", '
             '"header_sender", "header_names_ascii" or "reverse_host_lookup" at start '
             'of ACL condition "verify %s"')


def run(engine, c, arg, res):
    what, _, options = arg.partition("/")
    what = what.strip()
    low = what.lower()
    if low == "helo":
        return _helo(engine, res)
    if low == "header_syntax":
        return _header_syntax(engine, res)
    if low == "recipient":
        if engine.where not in (W.RCPT, W.VRFY):
            res.log = "cannot verify recipient in ACL for %s" % W.NAMES[engine.where]
            return W.ERROR
        return _route(engine, res, _recipient(engine), False, options)
    if low == "sender" or low.startswith("sender="):
        if engine.where in (W.CONNECT, W.HELO, W.AUTH, W.ETRN, W.EXPN, W.STARTTLS, W.QUIT):
            res.log = "cannot verify sender in ACL for %s" % W.NAMES[engine.where]
            return W.ERROR
        sender = what[7:] if low.startswith("sender=") else \
            str(engine.ctx.values.get("sender_address") or "")
        if not sender:
            return W.OK
        return _route(engine, res, sender, True, options)
    if low in ("not_blind", "header_sender", "header_names_ascii", "reverse_host_lookup",
               "certificate", "csa", "arc"):
        res.log = "pexim does not implement verify = %s yet" % low
        return W.ERROR
    res.log = _EXPECTED % arg
    return W.ERROR


def _recipient(engine) -> str:
    v = engine.ctx.values
    return "%s@%s" % (v.get("local_part") or "", v.get("domain") or "")


def _helo(engine, res):
    host = engine.host
    status = host.verify_helo()
    if status is None:
        res.log = "pexim does not implement verify = helo for host names yet (needs DNS)"
        return W.ERROR
    return W.OK if status else W.FAIL


def _header_syntax(engine, res):
    if engine.where not in (W.DATA, W.NOTSMTP, W.MIME, W.PRDR):
        res.log = "cannot verify header_syntax in ACL for %s" % W.NAMES[engine.where]
        return W.ERROR
    from pexim.acl.headercheck import check_header_syntax
    ok, user, log = check_header_syntax(engine.ctx)
    if not ok:
        res.user, res.log = user, log
        return W.FAIL
    return W.OK


def _route(engine, res, address: str, is_sender: bool, options: str):
    """Verification by routing: Exim's reply and log texts for each outcome."""
    from pexim.delivery.address import DEFER, FAIL
    from pexim.delivery.route import RoutingContext, verify

    opts = [o.strip() for o in options.split("/") if o.strip()]
    callout = next((o for o in opts if o.lower().startswith("callout")), None)
    ctx = engine.ctx
    sender = str(ctx.values.get("sender_address") or "")
    rctx = RoutingContext(engine.config, None,
                          mode="verify_sender" if is_sender else "verify_recipient",
                          sender=sender, base_ctx=ctx)
    rc, addr = verify(rctx, address)
    if engine.hd:
        engine.hd.line("----------- end verify ------------")
    if rc == FAIL:
        message = addr.message or "Unrouteable address"
        if is_sender:
            engine.host.sender_verify_failed(address, message)
            res.user = res.log = "Sender verify failed"
        else:
            res.user = addr.user_message or message
            res.log = message
        return W.FAIL
    if rc == DEFER:
        if is_sender:
            res.user = res.log = "Could not complete sender verify"
        else:
            res.user = addr.user_message
            res.log = addr.message or "Could not complete recipient verify"
            engine.host.state.temp_details = True      # acl_temp_details
        return W.DEFER
    if callout is not None:
        rc = _callout(engine, res, addr, callout, is_sender)
        if rc is not None:
            return rc
    ctx.values["address_data"] = addr.address_data or ""
    return W.OK


def _callout(engine, res, addr, option: str, is_sender: bool) -> str | None:
    """After routing succeeded: ask the hosts the router chose (callout=...).

    Returns an ACL result, or None when no callout is made (a local address,
    or -bh, which skips callouts as exim does; -bhc makes them).  The ACL
    engine is synchronous, so the client runs on its own loop in a thread.
    """
    import concurrent.futures

    from pexim.delivery.address import DEFER, FAIL
    from pexim.delivery.callout import callout, parse_options
    from pexim.delivery.context import TransportContext
    from pexim.hints.store import open_store

    if not addr.hosts or not getattr(engine.host, "callouts", not engine.host.checking_only()):
        return None
    _, _, value = option.partition("=")
    opts = parse_options(value)
    ctx = engine.ctx
    try:
        hints = open_store(engine.config)
    except Exception:  # noqa: BLE001 - no cache, still verify
        hints = None
    tctx = TransportContext(engine.config, None, hints)
    tp = next((t for t in engine.config.transports if t.name == addr.transport), None)
    port = 25
    if tp is not None and str(tp.get("port") or "").isdigit():
        port = int(tp.get("port"))
    primary = str(ctx.values.get("primary_hostname") or engine.config.main.get("primary_hostname")
                  or "localhost")
    coro = callout(addr, addr.hosts, tctx, options=opts,
                   kind="sender" if is_sender else "recipient",
                   sender=str(ctx.values.get("sender_address") or ""), helo=primary,
                   port=port, primary_hostname=primary)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        import asyncio
        rc = pool.submit(asyncio.run, coro).result()
    if rc == FAIL:
        res.user = addr.user_message or addr.message
        res.log = addr.message
        if is_sender:
            engine.host.sender_verify_failed(addr.address, addr.message or "")
            res.user = res.log = "Sender verify failed"
        return W.FAIL
    if rc == DEFER:
        if opts.defer_ok:
            return W.OK
        res.user = addr.user_message
        res.log = ": ".join(x for x in (addr.user_message, addr.message) if x) or \
            "Could not complete %s verify" % ("sender" if is_sender else "recipient")
        engine.host.state.temp_details = True
        return W.DEFER
    return None
