"""One incoming SMTP connection's context: the hooks the protocol machine asks
(configuration, host lists, ACLs, logging), built from a loaded Config.

Logging goes through `log_write(text, flags)`, a callable given by the caller;
flags is a set drawn from {"main", "reject", "panic"}. The -bh command prints
them as Exim does ("LOG: text"); the daemon will pass pexim.log's writer.
"""

from __future__ import annotations

from pexim import hdebug, lists
from pexim.acl import where as W
from pexim.acl.engine import AclState, Engine
from pexim.expand import ExpandContext, ExpansionError, Tainted, compile_cached
from pexim.message.address import Options as AddressOptions
from pexim.smtp.server_protocol import Settings, SmtpServer

# Log selectors on by default (Exim's defaults among those the session uses).
_DEFAULT_SELECTORS = {"etrn", "size_reject", "sender_verify_fail", "lost_incoming_connection"}

_ACL_OPTIONS = {
    W.CONNECT: "acl_smtp_connect", W.HELO: "acl_smtp_helo", W.MAIL: "acl_smtp_mail",
    W.RCPT: "acl_smtp_rcpt", W.PREDATA: "acl_smtp_predata", W.DATA: "acl_smtp_data",
    W.QUIT: "acl_smtp_quit", W.NOTQUIT: "acl_smtp_notquit", W.VRFY: "acl_smtp_vrfy",
    W.EXPN: "acl_smtp_expn", W.ETRN: "acl_smtp_etrn", W.MIME: "acl_smtp_mime",
    W.AUTH: "acl_smtp_auth", W.MAILAUTH: "acl_smtp_mailauth",
    W.STARTTLS: "acl_smtp_starttls",
}


def _size_value(text: str) -> int:
    t = text.strip()
    mult = 1
    if t[-1:] in "kK":
        mult, t = 1024, t[:-1]
    elif t[-1:] in "mM":
        mult, t = 1024 * 1024, t[:-1]
    elif t[-1:] in "gG":
        mult, t = 1024 ** 3, t[:-1]
    return int(t or "0") * mult


class Session:
    """The hooks object of SmtpServer for one connection."""

    def __init__(self, config, host_address: str, log_write, trace=None,
                 primary_hostname: str | None = None, config_display_name=None):
        self.config = config
        self.main = config.main
        self.host_address = host_address
        self._log_write = log_write
        self.config_display_name = config_display_name
        self.ctx = ExpandContext(config=config)
        self.hd = hdebug.HDebug(trace) if trace is not None else None
        hdebug.attach(self.ctx, self.hd)
        self.state = AclState()
        self.engine = Engine(config, self.ctx, self)
        self.helo_verified: bool | None = None
        self.sender_verify_failure = None
        self.selectors = self._selectors()
        v = self.ctx.values
        if primary_hostname:
            v["primary_hostname"] = primary_hostname
        v.update({
            "sender_host_address": Tainted(host_address),
            "sender_host_port": "0",
            "sender_fullhost": "[%s]" % host_address,
            "sender_rcvhost": "[%s]" % host_address,
            "received_protocol": "smtp",
            "interface_address": "", "interface_port": "-1",
        })
        self.active_hostname = self._active_hostname()
        v["smtp_active_hostname"] = self.active_hostname
        self.server = SmtpServer(self._settings(), self)

    # --- configuration ------------------------------------------------------------

    def opt(self, name: str):
        try:
            return self.main.get(name)
        except Exception:  # noqa: BLE001 - unknown in this table
            return None

    def expand(self, text: str) -> str:
        return compile_cached(text).evaluate(self.ctx)

    def _active_hostname(self) -> str:
        from pexim.expand.variables import primary_hostname
        text = self.opt("smtp_active_hostname")
        if text:
            try:
                value = self.expand(text)
                if value:
                    return value
            except ExpansionError:
                pass
        return primary_hostname(self.ctx)

    def _int(self, name: str, default: int) -> int:
        v = self.opt(name)
        if v is None or v == "":
            return default
        try:
            return int(v)
        except (TypeError, ValueError):
            return default

    def _settings(self) -> Settings:
        limit_text = self.opt("message_size_limit") or "50M"
        try:
            limit = _size_value(self.expand(str(limit_text)))
        except (ExpansionError, ValueError):
            limit = 0
        return Settings(
            active_hostname=self.active_hostname,
            host_address=self.host_address,
            message_size_limit=limit,
            accept_8bitmime=bool(self.opt("accept_8bitmime") if self.opt("accept_8bitmime")
                                 is not None else True),
            prdr_enable=bool(self.opt("prdr_enable")),
            max_unknown_commands=self._int("smtp_max_unknown_commands", 3),
            max_synprot_errors=self._int("smtp_max_synprot_errors", 3),
            accept_max_nonmail=self._int("smtp_accept_max_nonmail", 10),
            accept_max_per_connection=self._int("smtp_accept_max_per_connection", 1000),
            recipients_max=self._int("recipients_max", 50000),
            recipients_max_reject=bool(self.opt("recipients_max_reject")),
            helo_allow_chars=self.opt("helo_allow_chars") or "",
            etrn_command=self.opt("smtp_etrn_command") or None,
            has_acl={k: bool(self.opt("acl_smtp_" + k)) for k in ("etrn", "vrfy", "expn")},
            address_options=AddressOptions(
                allow_domain_literals=bool(self.opt("allow_domain_literals")),
                allow_utf8_domains=bool(self.opt("allow_utf8_domains")),
                strip_trailing_dot=bool(self.opt("strip_trailing_dot")),
                strip_excess_angle_brackets=bool(self.opt("strip_excess_angle_brackets"))),
        )

    def _selectors(self) -> set[str]:
        sel = set(_DEFAULT_SELECTORS)
        text = self.opt("log_selector") or ""
        for word in str(text).split():
            if word in ("+all", "-all"):
                continue
            if word[:1] == "+":
                sel.add(word[1:])
            elif word[:1] == "-":
                sel.discard(word[1:])
        return sel

    # --- hooks for SmtpServer ---------------------------------------------------------

    def debug(self, text: str) -> None:
        if self.hd:
            self.hd.line(text)

    def log(self, text: str, reject: bool = False, panic: bool = False, main: bool = True,
            selector: str | None = None) -> None:
        if selector is not None and selector not in self.selectors:
            return
        flags = set()
        if main:
            flags.add("main")
        if reject:
            flags.add("reject")
        if panic:
            flags.add("panic")
        msgid = self.ctx.values.get("message_exim_id")
        if msgid and not panic:
            text = "%s %s" % (msgid, text)
        self._log_write(text, flags)

    def log_reject(self, text: str, where: str) -> None:
        target = self.state.log_reject_target
        if target:
            self.log(text, reject="reject" in target, panic="panic" in target,
                     main="main" in target)

    def host_and_ident(self) -> str:
        return self.server.host_and_ident(True)

    def check_host(self, option: str) -> bool:
        text = self.opt(option)
        if not text:
            if self.hd:
                self.hd.line("host in %s? no (%s)" % (
                    option, "option unset" if text is None else "end of list"))
            return False
        try:
            text = self.expand(str(text))
            ok, _ = lists.match_ip(self.ctx, self.host_address, text, label=option, names=True)
        except (ExpansionError, lists.ListDefer):
            return True
        return ok

    def helo_lookup(self, name: str) -> bool:
        text = self.opt("helo_lookup_domains")
        if text is None:
            text = "@ : @[]"
        if not text:
            if self.hd:
                self.hd.line("%s in helo_lookup_domains? no (end of list)" % name)
            return False
        ok, _ = lists.match_domain(self.ctx, name, str(text), label="helo_lookup_domains")
        return ok

    def banner(self) -> str:
        text = self.opt("smtp_banner") or \
            "$smtp_active_hostname ESMTP Exim $version_number $tod_full"
        return self.expand(str(text))

    def acl(self, where: str, recipient: str | None):
        text = self.opt(_ACL_OPTIONS.get(where, ""))
        if not text:
            return None
        return self.engine.check(where, str(text), recipient)

    def acl_missing(self, where: str):
        """No ACL for RCPT/VRFY/EXPN/ETRN means refusal (acl_check with NULL)."""
        return self.engine.check(where, None)

    def set_vars(self, **values) -> None:
        v = self.ctx.values
        for k, val in values.items():
            if val is None:
                v.pop(k, None)
            else:
                v[k] = Tainted(val) if isinstance(val, str) and k in (
                    "sender_address", "sender_helo_name", "smtp_command",
                    "smtp_command_argument") else val

    def reset_message(self) -> None:
        self.state.added_headers.clear()
        self.state.removed_headers.clear()
        for k in list(self.state.controls):
            if k not in ("no_multiline_responses", "no_pipelining", "allow_auth_unadvertised",
                         "enforce_sync", "no_enforce_sync"):
                del self.state.controls[k]
        self.state.warn_logged.clear()
        self.ctx.acl_m.clear()
        self.sender_verify_failure = None

    def helo_changed(self) -> None:
        self.helo_verified = None

    def temp_details(self) -> bool:
        return self.state.temp_details

    def no_multiline(self) -> bool:
        return bool(self.state.controls.get("no_multiline_responses"))

    def pipelining_disabled(self) -> bool:
        return bool(self.state.controls.get("no_pipelining"))

    def tls_available(self) -> bool:
        return True

    def auth_mechanisms(self) -> list[str]:
        servers = [a for a in self.config.authenticators
                   if any(n.startswith("server_") for n in a.settings.explicitly_set)]
        if not servers or not self.check_host("auth_advertise_hosts"):
            return []
        out = []
        for a in servers:
            name = a.settings.get("public_name") or a.name
            out.append(str(name).upper())
        return out

    def qualify_domain(self, recipient: bool) -> str:
        from pexim.expand.variables import primary_hostname
        q = self.opt("qualify_recipient" if recipient else "qualify_domain") or \
            self.opt("qualify_domain")
        return str(q) if q else primary_hostname(self.ctx)

    def checking_only(self) -> bool:
        return True

    def delay(self, seconds: int) -> None:
        pass

    def verify_helo(self):
        """smtp_verify_helo() for what needs no DNS; None when DNS would be needed."""
        if self.helo_verified is not None:
            return self.helo_verified
        helo = self.server.helo_name
        self.debug('verifying EHLO/HELO argument "%s"' % (helo or ""))
        if helo is None:
            self.debug("no EHLO/HELO command was issued")
            self.helo_verified = False
        elif helo.startswith("["):
            ip = self.host_address
            ok = helo[1:].startswith(ip) or (
                ip.lower().startswith("::ffff:") and helo[1:].startswith(ip[7:]))
            if ok:
                self.debug("matched host address")
            self.helo_verified = ok
        else:
            return None
        return self.helo_verified

    def sender_verify_failed(self, address: str, message: str) -> None:
        self.sender_verify_failure = (address, message)

    def sender_verify_report(self, rc: str, code: str, respond) -> None:
        """The preliminary lines and log line of a failed sender verification."""
        failure = self.sender_verify_failure
        if failure is None:
            return
        self.sender_verify_failure = None
        address, message = failure
        self.log("%s sender verify fail for <%s>: %s" % (
            self.host_and_ident(), address, message), reject=True,
            selector="sender_verify_fail")
        if rc == W.FAIL:
            respond(code, False, "Verification failed for <%s>\n%s" % (address, message))

    def etrn_setup(self, command: str, arg: str) -> str | None:
        """transport_set_up_command() for smtp_etrn_command with $domain set to
        the ETRN argument: the error text, or None when the command is usable."""
        import shlex
        try:
            words = shlex.split(command, posix=True)
        except ValueError:
            words = command.split()
        v = self.ctx.values
        saved = v.get("domain")
        v["domain"] = Tainted(arg)
        try:
            for i, word in enumerate(words):
                try:
                    value = self.expand(word)
                except ExpansionError as e:
                    return 'Expansion of "%s" from command "%s" in ETRN processing ' \
                        "failed: %s" % (word, command, e)
                if i > 0 and isinstance(value, Tainted):
                    return "Tainted arg %d for ETRN processing command: '%s'" % (i, value)
        finally:
            if saved is None:
                v.pop("domain", None)
            else:
                v["domain"] = saved
        return None

    # --- after DATA, VRFY, EXPN ---------------------------------------------------------

    def receive(self, env, data, server) -> bytes:
        from pexim.smtp.receive_check import receive_for_hostcheck
        return receive_for_hostcheck(self, env, data, server)

    def vrfy(self, address: str, arg: str, server) -> bytes:
        if self.config.routers:
            return b"451 pexim cannot verify addresses by routing yet\r\n"
        self.debug(">" * 35)
        self.debug("routing %s" % address)
        self.debug("no more routers")
        self.log("VRFY failed for %s %s" % (arg, server.host_and_ident(True)))
        return ("550 <%s> Unrouteable address\r\n" % address).encode("latin-1", "replace")

    def expn(self, arg: str, server) -> bytes:
        return b"550 pexim does not implement EXPN yet\r\n"
