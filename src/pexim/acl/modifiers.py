"""ACL modifiers (acl.c's cases that act rather than test): add_header,
remove_header, control, delay, logwrite, set, continue, queue,
log_reject_target. message/log_message/endpass are handled by the engine."""

from __future__ import annotations

from pexim import lists
from pexim.acl import where as W
from pexim.acl.conditions import Spec

_HEADER_WHERES = W.all_but(W.MAIL, W.RCPT, W.PREDATA, W.DATA, W.PRDR, W.MIME, W.NOTSMTP,
                           W.DKIM, W.NOTSMTP_START)
_REMOVE_WHERES = W.all_but(W.MAIL, W.RCPT, W.PREDATA, W.DATA, W.PRDR, W.MIME, W.NOTSMTP,
                           W.NOTSMTP_START)


def _add_header(engine, c, arg, res):
    text = arg
    if not text:
        return W.OK
    from pexim.acl.engine import _is_header_line
    added = engine.host.state.added_headers
    for line in text.split("\n"):
        if line:
            line = line if _is_header_line(line) else "X-ACL-Warn: " + line
            if line not in added:       # exim never adds the same header twice
                added.append(line)
    return W.OK


def _remove_header(engine, c, arg, res):
    engine.host.state.removed_headers.extend(
        h for h in lists.iter_list(arg) if h)
    return W.OK


def _continue(engine, c, arg, res):
    return W.OK


def _delay(engine, c, arg, res):
    from pexim.config.timeval import read_time
    trace = engine.hd
    seconds = read_time(arg)
    if seconds < 0:
        res.log = 'syntax error in argument for "delay" modifier: "%s" is not a time value' % arg
        return W.ERROR
    if trace:
        trace.line("delay modifier requests %d-second delay" % seconds)
    if engine.host.checking_only():
        if trace:
            trace.line("delay skipped in -bh checking mode")
        return W.OK
    engine.host.delay(seconds)
    return W.OK


def _logwrite(engine, c, arg, res):
    text = arg
    targets = ("main",)
    if text.startswith(":"):
        end = text.find(":", 1)
        if end > 0:
            names = [t.strip() for t in text[1:end].split(",")]
            targets = tuple(n for n in names if n in ("main", "panic", "reject")) or ("main",)
            text = text[end + 1:].lstrip()
    engine.host.log(text, reject="reject" in targets, panic="panic" in targets,
                    main="main" in targets)
    return W.OK


def _log_reject_target(engine, c, arg, res):
    targets = set()
    for name in lists.iter_list(arg):
        if name in ("main", "panic", "reject"):
            targets.add(name)
        else:
            # acl.c: an unknown name means main and reject, with a panic log line
            targets.update(("main", "reject"))
            engine.host.log('unknown log name "%s" in "log_reject_target" in %s ACL' % (
                name, W.NAMES[engine.where]), panic=True)
    engine.host.state.log_reject_target = tuple(
        t for t in ("main", "reject", "panic") if t in targets)
    return W.OK


def _queue(engine, c, arg, res):
    if "/" in arg:
        res.log = "Directory separator not permitted in queue name: '%s'" % arg
        return W.ERROR
    engine.host.state.queue_name = arg
    return W.OK


def _set(engine, c, arg, res):
    var = c.varname
    ctx = engine.ctx
    if var.startswith("c"):
        ctx.acl_c["acl_" + var] = arg
    elif var.startswith("m"):
        ctx.acl_m["acl_" + var] = arg
    else:
        ctx.values[var] = arg
    return W.OK


def _udpsend(engine, c, arg, res):
    res.log = "pexim does not implement the udpsend ACL modifier yet"
    return W.ERROR


def _control(engine, c, arg, res):
    from pexim.acl.controls import apply
    return apply(engine, arg, res)


SPECS: dict[str, Spec] = {
    "add_header": Spec(_add_header, True, True, _HEADER_WHERES),
    "continue": Spec(_continue, True, True),
    "control": Spec(_control, True, True),
    "delay": Spec(_delay, True, True, frozenset({W.NOTQUIT})),
    "log_reject_target": Spec(_log_reject_target, True, True),
    "logwrite": Spec(_logwrite, True, True),
    "queue": Spec(_queue, True, True),
    "remove_header": Spec(_remove_header, True, True, _REMOVE_WHERES),
    "set": Spec(_set, True, True),
    "udpsend": Spec(_udpsend, True, True),
}
