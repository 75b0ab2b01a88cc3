"""The `verify` ACL condition (acl_verify()).

What needs no DNS or routing works: helo (address literals), header_syntax,
and sender/recipient verification when the configuration has no routers (every
address is then unrouteable, as in Exim). The rest fails clearly with ERROR
until the DNS and router layers exist.
"""

from __future__ import annotations

from pexim.acl import where as W

_EXPECTED = ('expected "sender[=address]", "recipient", "helo", "header_syntax", '
             '"header_sender", "header_names_ascii" or "reverse_host_lookup" at start '
             'of ACL condition "verify %s"')


def run(engine, c, arg, res):
    what, _, _options = arg.partition("/")
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
        return _route(engine, res, _recipient(engine), is_sender=False)
    if low == "sender" or low.startswith("sender="):
        if engine.where in (W.CONNECT, W.HELO, W.AUTH, W.ETRN, W.EXPN, W.STARTTLS, W.QUIT):
            res.log = "cannot verify sender in ACL for %s" % W.NAMES[engine.where]
            return W.ERROR
        sender = what[7:] if low.startswith("sender=") else \
            str(engine.ctx.values.get("sender_address") or "")
        if not sender:
            return W.OK
        return _route(engine, res, sender, is_sender=True)
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


def _route(engine, res, address: str, is_sender: bool):
    """Verification by routing; only the no-router configuration is known."""
    config = engine.config
    if config is not None and getattr(config, "routers", None):
        res.log = "pexim cannot verify addresses by routing yet"
        return W.ERROR
    trace = engine.hd
    if trace:
        trace.line(">" * 35)
        trace.line("routing %s" % address)
        trace.line("no more routers")
        trace.line("----------- end verify ------------")
    if is_sender:
        engine.host.sender_verify_failed(address, "Unrouteable address")
        res.user = res.log = "Sender verify failed"
    else:
        res.user = res.log = "Unrouteable address"
    return W.FAIL
