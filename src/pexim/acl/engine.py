"""Running ACLs: Exim's acl_check(), acl_check_internal() and
acl_check_condition(), with the same results, messages and `-bh` trace.

The engine works on one unit of work: an `ExpandContext` (the variables) and a
*host* object (the SMTP session, or a plain stand-in for `-be`) that supplies
what conditions and modifiers need beyond variables:

    host.log(text, reject=False, panic=False)   write a log line
    host.host_and_ident()                       "H=(helo) [ip]" for log lines
    host.state                                  an AclState (headers, controls)
    host.verify_helo()                          -> True/False (see conditions)

A call returns (rc, user_message, log_message) with rc one of where.OK/FAIL/...
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pexim import hdebug as hd
from pexim.acl import parse as acl_parse
from pexim.acl import where as W
from pexim.expand import ExpansionError, ForcedFail, compile_cached

MAX_LEVEL = 20

# For each verb, the outcomes for which "message"/"log_message" are expanded.
_MSGCOND = {
    "accept": {W.OK, W.FAIL, W.FAIL_DROP}, "defer": {W.OK}, "deny": {W.OK},
    "discard": {W.OK, W.FAIL, W.FAIL_DROP}, "drop": {W.OK},
    "require": {W.FAIL, W.FAIL_DROP}, "warn": {W.OK},
}


class _MessageSet(set):
    """warn_logged: the session clears it when a message is reset (smtp_reset);
    clearing it also forgets the per-message ratelimit results."""

    __slots__ = ("on_clear",)

    def __init__(self, *a):
        super().__init__(*a)
        self.on_clear = []

    def clear(self):
        super().clear()
        for hook in self.on_clear:
            hook()


@dataclass
class AclState:
    """What ACLs leave behind for the session/message (reset per message)."""

    added_headers: list[str] = field(default_factory=list)
    removed_headers: list[str] = field(default_factory=list)
    controls: dict[str, object] = field(default_factory=dict)
    warn_logged: set[str] = field(default_factory=_MessageSet)
    log_reject_target: tuple[str, ...] = ("main", "reject")
    temp_details: bool = False
    queue_name: str | None = None


class PlainHost:
    """The host of ACLs run outside an SMTP session (`${acl}` in -be)."""

    def __init__(self, log=None):
        self.state = AclState()
        self._log = log

    def log(self, text: str, reject: bool = False, panic: bool = False,
            main: bool = True, selector: str | None = None) -> None:
        if self._log is not None and (main or reject or panic):
            self._log(text)

    def host_and_ident(self) -> str:
        return "U=" + (os.environ.get("USER") or "")

    def verify_helo(self) -> bool:
        return False


def expand(ctx, text: str) -> str:
    return compile_cached(text).evaluate(ctx)


class Engine:
    """ACL evaluation for one unit of work."""

    def __init__(self, config, ctx, host):
        self.config = config
        self.ctx = ctx
        self.host = host
        self.level = 0
        self.where = W.UNKNOWN
        self.rcpt_local_part: str | None = None    # for control = caseful/caselower_local_part
        self._file_acls: dict[str, list] = {}
        ctx.acl_eval = self.acl_eval

    @property
    def hd(self):
        return hd.of(self.ctx)

    # --- entry points -----------------------------------------------------

    def check(self, where: str, text: str | None, recipient: str | None = None):
        """acl_check(): run the ACL named/held in `text` for `where`."""
        state = self.host.state
        rl = getattr(self, "_ratelimit_trees", None)
        if rl is not None:
            rl.cmd.clear()               # acl_check(): ratelimiters_cmd = NULL
        state.log_reject_target = ("main", "reject")
        state.temp_details = False
        self.ctx.values["acl_verify_message"] = ""
        # Cached named domain/local-part/address list results last one ACL run
        # (host list results the whole connection): see lists._named_cache.
        cache = self.ctx.extra.get("named_cache")
        if cache:
            for k in [k for k in cache if k[0] != "host"]:
                del cache[k]
        save = None
        if recipient is not None:
            save = {k: self.ctx.values.get(k) for k in ("domain", "local_part")}
            at = recipient.rfind("@")
            self.ctx.values["local_part"] = recipient[:at] if at >= 0 else recipient
            self.rcpt_local_part = self.ctx.values["local_part"]
            self.ctx.values["domain"] = recipient[at + 1:] if at >= 0 else ""
        self.where, self.level = where, 0
        try:
            rc, user, log = self.internal(where, text)
        finally:
            self.where, self.level = W.UNKNOWN, 0
            if save is not None and where != W.RCPT:
                self.ctx.values.update(save)
        return rc, split_message(user), log

    def acl_eval(self, name: str, args: list[str]):
        """The `${acl}` item and `acl` expansion hook: (rc, user message)."""
        self.level += 1
        try:
            rc, user, _log = self.internal(self.where, name)
        finally:
            self.level -= 1
        return rc, user

    # --- acl_check_internal -------------------------------------------------

    def internal(self, where: str, text: str | None):
        if self.level > MAX_LEVEL:
            return W.ERROR, None, "ACL nested too deep: possible loop"
        trace = self.hd
        if text is None:
            if trace:
                trace.line("ACL is NULL: implicit DENY")
            return W.FAIL, None, None
        if self.level == 0:
            try:
                ss = expand(self.ctx, text)
            except ForcedFail:
                return W.OK, None, None
            except ExpansionError as e:
                return W.ERROR, None, 'failed to expand ACL string "%s": %s' % (text, e.message)
        else:
            ss = text
        ss = ss.lstrip()
        statements = None
        acl_name = "inline ACL"
        if " " not in ss:
            acl = self.config.acls.get(ss) if self.config is not None else None
            if acl is not None:
                if not acl.statements:
                    if trace:
                        trace.line('ACL "%s" is empty: implicit DENY' % ss)
                    return W.FAIL, None, None
                statements = acl.statements
                acl_name = 'ACL "%s"' % ss
                if trace:
                    trace.line('using ACL "%s"' % ss)
            elif ss.startswith("/"):
                statements = self._file_acls.get(ss)
                if statements is None:
                    try:
                        with open(ss, "rb") as f:
                            file_text = f.read().decode("latin-1")
                    except OSError as e:
                        return W.ERROR, None, 'failed to open ACL file "%s": %s' % (
                            ss, e.strerror)
                    statements, err = self._parse(file_text)
                    if err:
                        return W.ERROR, None, err
                    self._file_acls[ss] = statements
                acl_name = 'ACL "%s"' % ss
                if trace:
                    trace.line("read ACL from file %s" % ss)
        if statements is None:
            statements, err = self._parse(ss)
            if err:
                return W.ERROR, None, err
        return self._run(where, statements, acl_name)

    def _parse(self, text: str):
        """acl_read() for inline and file ACLs: statements carry the
        configuration's name and last line, as Exim's do."""
        statements: list = []
        file, line = self._config_position()
        try:
            for raw in text.split("\n"):
                stripped = raw.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                acl_parse.add_line(statements, stripped, file, line)
        except acl_parse.AclSyntaxError as e:
            return None, str(e)
        return statements, None

    def _config_position(self):
        cfg = self.config
        if cfg is None:
            return "", 0
        pos = getattr(cfg, "_pexim_end_position", None)
        if pos is None:
            name = cfg.filename
            try:
                with open(name, "rb") as f:
                    count = f.read().count(b"\n")
            except OSError:
                count = 0
            pos = (self.display_name(name), count)
            try:
                cfg._pexim_end_position = pos
            except AttributeError:
                pass
        return pos

    def display_name(self, name: str) -> str:
        shown = getattr(self.host, "config_display_name", None)
        return shown(name) if shown else name

    def _run(self, where: str, statements, acl_name: str):
        trace = self.hd
        quit_check = self.level == 0 and where in (W.QUIT, W.NOTQUIT)
        user = log = None
        for st in statements:
            self.host.state.temp_details = False
            if trace:
                trace.line('processing "%s" (%s %d)' % (
                    st.verb, self.display_name(st.file), st.line))
            cond, s_user, s_log, endpass = self._statement(st, where)
            # *user_msgptr/*log_msgptr keep what earlier statements left (an
            # implicit DENY reports a nested ACL's message, as Exim does)
            if s_user is not None:
                user = s_user
            if s_log is not None:
                log = s_log
            verb = st.verb
            if trace:
                what = {W.DEFER: "deferred", W.ERROR: "error", W.OK: "succeeded",
                        W.FAIL: "failed"}.get(cond)
                if what:
                    trace.line("%s: condition test %s in %s" % (verb, what, acl_name))
                else:
                    trace.line('%s: condition test yielded "%s" in %s' % (
                        verb, "discard" if cond == W.DISCARD else "drop", acl_name))
            if cond == W.DEFER:
                if verb != "warn":
                    return W.DEFER, user, log
            elif cond == W.ERROR:
                return W.ERROR, user, log
            result = None
            if verb == "accept":
                if cond in (W.OK, W.DISCARD):
                    result = ("ACCEPT", cond)
                elif endpass:
                    if trace:
                        trace.line("accept: endpass encountered - denying access")
                    return cond, user, log
            elif verb == "defer" and cond == W.OK:
                self.host.state.temp_details = True
                result = ("DEFER", W.DEFER)
            elif verb == "deny" and cond == W.OK:
                result = ("DENY", W.FAIL)
            elif verb == "discard":
                if cond in (W.OK, W.DISCARD):
                    result = ("DISCARD", W.DISCARD)
                elif endpass:
                    if trace:
                        trace.line("discard: endpass encountered - denying access")
                    return cond, user, log
            elif verb == "drop" and cond == W.OK:
                result = ("DROP", W.FAIL_DROP)
            elif verb == "require" and cond != W.OK:
                result = ("not OK", cond)
            elif verb == "warn":
                if cond == W.OK:
                    self._warn(where, user, log)
                user = log = None
            if result is not None:
                if trace:
                    trace.line("end of %s: %s" % (acl_name, result[0]))
                if quit_check and verb != "accept":
                    return W.ERROR, user, ("QUIT or not-QUIT toplevel ACL may not fail "
                                           "('%s' verb used incorrectly)" % verb)
                if verb in ("accept", "discard"):
                    return result[1], s_user, s_log     # acl.c cleared older texts
                return result[1], user, log
        if trace:
            trace.line("end of %s: implicit DENY" % acl_name)
        return W.FAIL, user, log

    def _warn(self, where: str, user: str | None, log: str | None) -> None:
        """acl_warn(): a warn statement's log_message goes to the main log once."""
        if user:
            # "message" on warn adds a header (as "X-ACL-Warn:" when bare text).
            text = user if _is_header_line(user) else "X-ACL-Warn: " + user
            if where in W.MESSAGE_WHERES:
                self.host.state.added_headers.append(text)
        if log and log is not user:     # acl_warn(): a log copied from message is not logged
            state = self.host.state
            if log in state.warn_logged:
                return
            state.warn_logged.add(log)
            self.host.log("%s Warning: %s" % (self.host.host_and_ident(), log))

    # --- acl_check_condition --------------------------------------------------

    def _statement(self, st, where: str):
        from pexim.acl import conditions, modifiers
        trace = self.hd
        ctx = self.ctx
        verb = st.verb
        user_message = log_message = None
        endpass = False
        res = Result()
        rc = W.OK
        for c in st.conditions:
            name = c.name
            if name == "message":
                if trace:
                    trace.line("  message: %s" % c.arg)
                user_message = c.arg
                continue
            if name == "log_message":
                if trace:
                    trace.line("l_message: %s" % c.arg)
                log_message = c.arg
                continue
            if name == "endpass":
                endpass = True
                continue
            spec = conditions.SPECS.get(name) or modifiers.SPECS.get(name)
            if spec is None:
                res.log = 'ACL condition "%s" is not implemented yet in pexim' % name
                rc = W.ERROR
                break
            if spec.expand:
                try:
                    arg = expand(ctx, c.arg or "")
                except ForcedFail:
                    continue
                except ExpansionError as e:
                    res.log = 'failed to expand ACL string "%s": %s' % (c.arg, e.message)
                    rc = W.ERROR
                    break
            else:
                arg = c.arg or ""
            if trace:
                self._trace_check(c, arg, spec.modifier, spec.expand)
            if where in spec.forbids:
                res.log = "cannot %s %s condition in %s ACL" % (
                    "use" if spec.modifier else "test", name, W.NAMES[where])
                rc = W.ERROR
                break
            rc = spec.run(self, c, arg, res)
            if not spec.modifier and c.negated:
                if rc == W.OK:
                    rc = W.FAIL
                elif rc in (W.FAIL, W.FAIL_DROP):
                    rc = W.OK
            if rc != W.OK:
                break
        if verb == "warn" and res.user:
            ctx.values["acl_verify_message"] = res.user
            res.user = None
        if endpass and rc == W.OK:
            user_message = None
        if rc in _MSGCOND[verb]:
            old_user = res.user
            old_log = res.log if res.log is not None else old_user
            if verb == "warn" or (rc == W.OK and verb in ("accept", "discard")):
                res.user = res.log = None
            if user_message:
                text = self._message_text(ctx, user_message, old_user, "message")
                if text:
                    res.user = text
            if log_message:
                text = self._message_text(ctx, log_message, old_log, "log message")
                if text:
                    res.log = text if res.log is None else "%s: %s" % (text, res.log)
            if not res.log:
                res.log = res.user
        ctx.values["acl_verify_message"] = ""
        return rc, res.user, res.log, endpass

    def _message_text(self, ctx, text: str, verify_message: str | None, what: str):
        """A message or log_message expanded with $acl_verify_message set; None
        on forced failure, or (with a panic log line) on an expansion error."""
        ctx.values["acl_verify_message"] = verify_message or ""
        try:
            return expand(ctx, text)
        except ForcedFail:
            return None
        except ExpansionError as e:
            self.host.log('failed to expand ACL %s "%s": %s' % (what, text, e.message),
                          panic=True)
            return None

    def _trace_check(self, c, arg: str, modifier: bool, expanded: bool) -> None:
        """The "check name = arg" line, and the expanded value when it differs
        (Exim compares pointers: only strings with $ or \\ are expanded)."""
        trace = self.hd
        head = "check %s%s " % ("!" if c.negated and not modifier else "", c.name)
        if c.name == "set":
            head += (c.varname if c.varname.startswith("dkim_") else "acl_" + c.varname) + " "
        # debug_printf starts every line of a multi-line text with ">>> "
        trace.line(("%s= %s" % (head, c.arg)).replace("\n", "\n>>> "))
        if expanded and _has_specials(c.arg):
            trace.plain(("%s= %s" % (" " * min(len(head), 29), arg)).replace("\n", "\n>>> "))


def _has_specials(s: str | None) -> bool:
    return bool(s) and ("$" in s or "\\" in s)


def _is_header_line(s: str) -> bool:
    i = 0
    while i < len(s) and s[i] > " " and s[i] != ":" and ord(s[i]) < 127:
        i += 1
    return 0 < i < len(s) and s[i] == ":"


class Result:
    """The user and log messages conditions leave (*user_msgptr, *log_msgptr)."""

    __slots__ = ("user", "log", "basic_errno")

    def __init__(self):
        self.user: str | None = None
        self.log: str | None = None
        self.basic_errno = 0


def split_message(msg: str | None) -> str | None:
    """string_split_message(): break long SMTP messages into lines of ~75."""
    if msg is None or len(msg) <= 75:
        return msg
    s = list(msg)
    start = pos = 0
    n = len(s)
    while True:
        i = 0
        while i < 75 and pos < n and s[pos] != "\n":
            pos += 1
            i += 1
        if pos >= n:
            break
        if s[pos] == "\n":
            pos += 1
            start = pos
            continue
        cut = None
        t = pos + 1
        while True:
            t -= 1
            if t <= start + 35:
                break
            if t < n and s[t] == " ":
                if s[t - 1] == ":":
                    cut = t
                    break
                if cut is None:
                    cut = t
        if cut is None:
            t = pos + 1
            while t < n:
                if s[t] in " \n":
                    cut = t
                    break
                t += 1
        if cut is None:
            break
        s[cut] = "\n"
        start = pos = cut + 1
    return "".join(s)


def expand_acl(config, name: str, args: list[str], ctx=None):
    """`${acl{name}{args}}` outside a session (-be): (rc, user message)."""
    if ctx is None:
        from pexim.expand import ExpandContext
        ctx = ExpandContext(config=config)
    engine = ctx.extra.get("acl_engine")
    if engine is None:
        engine = Engine(config, ctx, PlainHost())
        ctx.extra["acl_engine"] = engine
    return engine.acl_eval(name, args)
