"""ACL conditions (acl.c's ACLC_* cases that test something).

Each handler gets the engine, the parsed condition, its argument (expanded or
not, as Exim's table says) and the Result for messages; it returns a where.*
result code before negation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from pexim import lists
from pexim.acl import dnslists, ratelimit, seen, verify
from pexim.acl import where as W
from pexim.expand import ExpansionError


@dataclass(frozen=True)
class Spec:
    run: Callable
    expand: bool
    modifier: bool = False
    forbids: frozenset = frozenset()


def _list_result(engine, res, match, value, arg, data_var=None):
    """Run a list match; lookup/expansion trouble is a DEFER as in Exim.
    The list is expanded first, as match_check_list() does."""
    if "$" in arg or "\\" in arg:
        try:
            from pexim.expand import compile_cached
            arg = compile_cached(arg).evaluate(engine.ctx)
        except ExpansionError as e:
            res.log = 'failed to expand "%s" while checking a list: %s' % (arg, e.message)
            return W.DEFER
    try:
        ok, value = match(engine.ctx, value, arg)
    except lists.ListDefer as e:
        res.log = e.message
        return W.DEFER
    except ExpansionError as e:
        res.log = e.message
        return W.DEFER
    if ok and data_var and value is not None:
        engine.ctx.values[data_var] = value
    return W.OK if ok else W.FAIL


def _acl(engine, c, arg, res):
    """acl = name args: a nested ACL with $acl_arg1.. set (acl_check_wargs)."""
    from pexim.expand.items import split_command
    words = split_command(arg) if arg else []
    if not words:
        res.log = "ACL name missing"
        return W.ERROR
    ctx = engine.ctx
    save = ctx.acl_args
    ctx.acl_args = words[1:10]
    trace = engine.hd
    engine.level += 1
    if trace:
        trace.indent += 1
    try:
        rc, user, log = engine.internal(engine.where, words[0])
    finally:
        engine.level -= 1
        if trace:
            trace.indent -= 1
        ctx.acl_args = save
    res.user, res.log = user, log
    return rc


def _authenticated(engine, c, arg, res):
    who = engine.ctx.values.get("sender_host_authenticated")
    if not who:
        return W.FAIL
    return _list_result(engine, res, lists.match_string_list, str(who), arg)


def _condition(engine, c, arg, res):
    if arg.isdigit() or arg == "":
        return W.FAIL if int(arg or "0") == 0 else W.OK
    low = arg.lower()
    if low in ("no", "false"):
        return W.FAIL
    if low in ("yes", "true"):
        return W.OK
    res.log = 'invalid "condition" value "%s"' % arg
    return W.DEFER


def _domains(engine, c, arg, res):
    return _list_result(engine, res, lists.match_domain,
                        str(engine.ctx.values.get("domain") or ""), arg,
                        data_var="domain_data")


def _local_parts(engine, c, arg, res):
    return _list_result(engine, res, lists.match_localpart,
                        str(engine.ctx.values.get("local_part") or ""), arg,
                        data_var="local_part_data")


def _recipients(engine, c, arg, res):
    v = engine.ctx.values
    address = "%s@%s" % (v.get("local_part") or "", v.get("domain") or "")
    return _list_result(engine, res, lists.match_address, address, arg,
                        data_var="recipient_data")


def _senders(engine, c, arg, res):
    sender = str(engine.ctx.values.get("sender_address") or "")
    return _list_result(engine, res, lists.match_address, sender, arg,
                        data_var="sender_data")


def _sender_domains(engine, c, arg, res):
    sender = str(engine.ctx.values.get("sender_address") or "")
    at = sender.rfind("@")
    return _list_result(engine, res, lists.match_domain,
                        sender[at + 1:] if at >= 0 else "", arg, data_var="sender_data")


def _hosts(engine, c, arg, res):
    address = str(engine.ctx.values.get("sender_host_address") or "")
    if not address:
        return W.FAIL if arg.strip() else W.FAIL
    return _list_result(engine, res, partial(lists.match_ip, names=True), address, arg,
                        data_var="host_data")


def _encrypted(engine, c, arg, res):
    cipher = engine.ctx.values.get("tls_in_cipher")
    if not cipher:
        return W.FAIL
    return _list_result(engine, res, lists.match_string_list, str(cipher), arg)


def _not_yet(what: str):
    def run(engine, c, arg, res):
        res.log = "pexim does not implement the %s ACL condition yet" % what
        return W.ERROR
    return run


_NO_SENDER = frozenset({W.AUTH, W.CONNECT, W.HELO, W.MAILAUTH, W.QUIT, W.ETRN, W.EXPN,
                        W.STARTTLS, W.VRFY})

SPECS: dict[str, Spec] = {
    "acl": Spec(_acl, True),
    "authenticated": Spec(_authenticated, False,
                          forbids=frozenset({W.NOTSMTP, W.NOTSMTP_START, W.CONNECT, W.HELO})),
    "condition": Spec(_condition, True),
    "dnslists": Spec(dnslists.run, True,
                     forbids=frozenset({W.NOTSMTP, W.NOTSMTP_START})),
    "domains": Spec(_domains, False, forbids=W.all_but(W.RCPT, W.VRFY, W.PRDR)),
    "encrypted": Spec(_encrypted, False,
                      forbids=frozenset({W.NOTSMTP, W.NOTSMTP_START, W.HELO})),
    "hosts": Spec(_hosts, False, forbids=frozenset({W.NOTSMTP, W.NOTSMTP_START})),
    "local_parts": Spec(_local_parts, False, forbids=W.all_but(W.RCPT, W.VRFY, W.PRDR)),
    "ratelimit": Spec(ratelimit.run, True),
    "recipients": Spec(_recipients, False, forbids=W.all_but(W.RCPT, W.PRDR)),
    "sender_domains": Spec(_sender_domains, False, forbids=_NO_SENDER),
    "senders": Spec(_senders, False, forbids=_NO_SENDER),
    "verify": Spec(verify.run, True),
    "decode": Spec(_not_yet("decode"), True, forbids=W.all_but(W.MIME)),
    "malware": Spec(_not_yet("malware"), True),
    "mime_regex": Spec(_not_yet("mime_regex"), True, forbids=W.all_but(W.MIME)),
    "regex": Spec(_not_yet("regex"), True),
    "spam": Spec(_not_yet("spam"), True),
    "spf": Spec(_not_yet("spf"), True),
    "spf_guess": Spec(_not_yet("spf_guess"), True),
    "dkim_signers": Spec(_not_yet("dkim_signers"), True, forbids=W.all_but(W.DKIM)),
    "dkim_status": Spec(_not_yet("dkim_status"), True, forbids=W.all_but(W.DKIM)),
    "seen": Spec(seen.run, True),
}
