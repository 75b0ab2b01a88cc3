"""`control = name[/options]`: record the control for the session/message,
with Exim's checks of where each control may be used."""

from __future__ import annotations

from pexim.acl import where as W

_MSG = (W.MAIL, W.RCPT, W.PREDATA, W.DATA, W.NOTSMTP, W.MIME)
_SMTP_ONLY = frozenset({W.NOTSMTP, W.NOTSMTP_START})

# name -> (forbidden places, takes /options)
CONTROLS = {
    "allow_auth_unadvertised": (W.all_but(W.CONNECT, W.HELO), False),
    "caseful_local_part": (W.all_but(W.RCPT), False),
    "caselower_local_part": (W.all_but(W.RCPT), False),
    "cutthrough_delivery": (_SMTP_ONLY, True),     # exim 4.96 accepts it in any SMTP ACL
    "debug": (frozenset(), True),
    "dkim_disable_verify": (frozenset({W.DATA, W.NOTSMTP, W.PRDR, W.NOTSMTP_START}), False),
    "dmarc_disable_verify": (frozenset({W.DATA, W.NOTSMTP, W.NOTSMTP_START}), False),
    "dmarc_enable_forensic": (frozenset({W.DATA, W.NOTSMTP, W.NOTSMTP_START}), False),
    "dscp": (_SMTP_ONLY, True),
    "enforce_sync": (_SMTP_ONLY, False),
    "error": (frozenset(), False),
    "fakedefer": (W.all_but(W.MAIL, W.RCPT, W.PREDATA, W.DATA, W.PRDR, W.MIME), True),
    "fakereject": (W.all_but(W.MAIL, W.RCPT, W.PREDATA, W.DATA, W.PRDR, W.MIME), True),
    "freeze": (W.all_but(*_MSG), True),
    "no_callout_flush": (frozenset({W.NOTSMTP}), False),
    "no_delay_flush": (frozenset({W.NOTSMTP}), False),
    "no_enforce_sync": (_SMTP_ONLY, False),
    "no_mbox_unspool": (W.all_but(W.MAIL, W.RCPT, W.PREDATA, W.DATA, W.MIME), False),
    "no_multiline_responses": (_SMTP_ONLY, False),
    "no_pipelining": (_SMTP_ONLY, False),
    "queue": (W.all_but(*_MSG), True),
    "queue_only": (W.all_but(*_MSG), True),
    "submission": (W.all_but(W.MAIL, W.RCPT, W.PREDATA), True),
    "suppress_local_fixups": (W.all_but(W.MAIL, W.RCPT, W.PREDATA, W.NOTSMTP_START), False),
    "utf8_downconvert": (W.all_but(W.RCPT, W.VRFY), True),
}


def apply(engine, arg: str, res) -> str:
    """Record one control; ERROR with Exim's text when it is unknown or misplaced."""
    found = None
    for name in sorted(CONTROLS, key=len, reverse=True):
        if arg.startswith(name):
            rest = arg[len(name):]
            if not rest or rest[0] == "/" and CONTROLS[name][1]:
                found = name
                break
    if found is None:
        res.log = 'syntax error in "control=%s"' % arg
        return W.ERROR
    forbids, _opts = CONTROLS[found]
    if engine.where in forbids:
        res.log = 'cannot use "control=%s" in %s ACL' % (found, W.NAMES[engine.where])
        return W.ERROR
    options = arg[len(found):]
    if found == "error":
        return W.ERROR
    if found in ("caseful_local_part", "caselower_local_part"):
        # $local_part as given or lowercased (addr->cc_local_part / lc_local_part)
        given = getattr(engine, "rcpt_local_part", None)
        if given is not None:
            engine.ctx.values["local_part"] = given if found.startswith("caseful") \
                else given.lower()
    engine.host.state.controls[found] = options[1:] if options else True
    return W.OK
