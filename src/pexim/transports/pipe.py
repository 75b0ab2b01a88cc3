"""The pipe transport: delivers to a command's standard input."""

import errno as errno_
import os
import re
import resource
import signal
import subprocess
import threading
import time

from pexim.bytestr import printing
from pexim.config.drivers import DriverError
from pexim.config.options import Option, T
from pexim.delivery import errors as E
from pexim.delivery.address import DEFER, FAIL, OK
from pexim.expand import ExpansionError, expand_string
from pexim.expand.taint import is_tainted
from pexim.lists import iter_list
from pexim.transports.base import LOCAL_DEFAULTS, user_without_group
from pexim.transports.command import CommandError, set_up_command
from pexim.transports.local import Outcome, apply, delivery_context, options, set_outcome
from pexim.transports.write import WriteError, write_message

S, B = T.STRING, T.BOOL
GENERIC_DEFAULTS = LOCAL_DEFAULTS

OPTIONS = [Option(n, S) for n in (
    "allow_commands batch_id check_string command environment escape_string "
    "message_prefix message_suffix"
).split()] + [Option(n, B, "false") for n in (
    "force_command freeze_exec_fail freeze_signal ignore_status log_defer_output "
    "log_fail_output log_output permit_coredump pipe_as_creator restrict_to_path "
    "return_fail_output return_output timeout_defer use_bsmtp use_crlf use_shell"
).split()] + [
    Option("batch_max", T.INT, "1"),
    Option("max_output", T.MKINT, "20K"),
    Option("path", S, "/bin:/usr/bin"),
    Option("temp_errors", S, "75:73"),
    Option("timeout", T.TIME, "1h"),
    Option("umask", T.OCTINT, "022"),
]

MBOX_PREFIX = "From ${if def:return_path{$return_path}{MAILER-DAEMON}} ${tod_bsdinbox}\n"


def derive(inst, v) -> dict:
    """BSMTP forces dot-stuffing; otherwise messages get mbox-style affixes."""
    if v["use_bsmtp"]:
        return {"check_string": ".", "escape_string": ".."}
    out = {}
    if v["message_prefix"] is None:
        out["message_prefix"] = MBOX_PREFIX
    if v["message_suffix"] is None:
        out["message_suffix"] = "\n"
    return out


def check(inst, v) -> None:
    if v["log_output"] and v["log_fail_output"]:
        raise DriverError("both log_output and log_fail_output set for the "
                          f"{inst.name} transport")
    if v["pipe_as_creator"] and (v.is_set("user") or v.is_set("group")):
        raise DriverError("both pipe_as_creator and an explicit uid/gid are set "
                          f"for the {inst.name} transport")
    user_without_group(inst, v)


# --- delivery (pipe_transport_entry) ---------------------------------------------------

EX_EXECFAILED = 127

# os_strexit(): what a sysexits.h status could mean.
_STREXIT = {
    64: "usage or syntax error", 65: "error in input data", 66: "input data missing",
    67: "user nonexistent", 68: "host nonexistent",
    69: "service or program unavailable", 70: "internal software error",
    71: "internal operating system error", 72: "system file missing",
    73: "can't create output file", 74: "input/output error", 75: "temporary error",
    76: "protocol error", 77: "permission denied", 78: "configuration error",
    127: "unable to exec or command does not exist",
}


def strexit(rc: int) -> str:
    text = _STREXIT.get(rc)
    return f"(could mean {text})" if text else ""


def strsignal(sig: int) -> str:
    """os_strsignal(): the signal's description."""
    try:
        return signal.strsignal(sig) or f"unknown signal {sig}"
    except ValueError:
        return f"unknown signal {sig}"


def deliver(tp, message, addrs, tctx) -> None:
    """Run the command with the message on its standard input; the exit
    status decides OK / DEFER (temp_errors) / FAIL, as in Exim."""
    try:
        _Pipe(tp, message, addrs, tctx).run()
    except Outcome as o:
        if o.status != OK and o.user_message is None:
            o.user_message = "local delivery failed"
        apply(addrs, o)


class _Pipe:
    def __init__(self, tp, message, addrs, tctx):
        self.tp, self.message, self.addrs, self.tctx = tp, message, addrs, tctx
        self.addr = addrs[0]
        self.o = options(tp)
        self.ctx = delivery_context(tp, message, self.addr, tctx)

    def _command(self) -> tuple[str, bool, str]:
        """(command, expand it, status when expansion fails)."""
        a, o = self.addr, self.o
        if a.special == "pipe" and a.address.startswith("|"):
            if o["force_command"]:
                self.ctx.values["address_pipe"] = a.address[1:]
                return o["command"], True, "panic"
            return a.address[1:].lstrip(), bool(a.extra.get("expand_pipe")), FAIL
        return o["command"], True, "panic"

    def _argv(self, cmd: str, expand: bool, expand_fail: str) -> list[str]:
        o, name = self.o, self.tp.name
        if o["use_shell"]:
            if not expand:
                return ["/bin/sh", "-c", cmd]
            text = cmd
            m = re.search(r"\$(pipe_addresses|\{pipe_addresses\})", cmd)
            if m:
                text = (cmd[:m.start()] + " ".join(x.address for x in self.addrs)
                        + cmd[m.end():])
            try:
                return ["/bin/sh", "-c", expand_string(text, self.ctx)]
            except ExpansionError as e:
                raise Outcome(f'Expansion of command "{text}" in {name} transport failed: '
                              f"{e}", status=FAIL if expand_fail == FAIL else DEFER,
                              panic=expand_fail != FAIL) from e
        etext = f"{name[:50]} transport"
        try:
            argv = set_up_command(cmd, self.ctx, etext, self.addrs, expand=expand)
        except CommandError as e:
            failed = str(e).startswith("Too many")
            raise Outcome(str(e), status=FAIL if failed or expand_fail == FAIL else DEFER,
                          panic=not failed and expand_fail != FAIL) from e
        if not argv:
            raise Outcome(f"no command specified for {name} transport")
        permitted = False
        if o["allow_commands"] is not None:
            try:
                allowed = expand_string(o["allow_commands"], self.ctx)
            except ExpansionError as e:
                raise Outcome(f'failed to expand string "{o["allow_commands"]}" for {etext}: '
                              f"{e}") from e
            permitted = argv[0] in list(iter_list(allowed))
        if not permitted:
            if o["restrict_to_path"]:
                if "/" in argv[0]:
                    raise Outcome(f'"/" found in "{cmd}" (command for {etext}) - failed for '
                                  "security reasons", status=FAIL)
            elif o["allow_commands"] is not None:
                raise Outcome(f'"{argv[0]}" command not permitted by {etext}', status=FAIL)
        if not argv[0].startswith("/"):
            for d in iter_list(expand_string(o["path"] or "", self.ctx)):
                full = f"{d[:256]}/{argv[0][:256]}"
                if os.path.exists(full):
                    argv[0] = full
                    break
            else:
                raise Outcome(f'"{argv[0]}" command not found for {etext}', status=FAIL)
        return argv

    def _environment(self) -> dict[str, str]:
        a, v, o = self.addr, self.ctx.values, self.o
        lp = str(a.local_part)
        env = {
            "LOCAL_PART": lp, "LOGNAME": lp, "USER": lp,
            "LOCAL_PART_PREFIX": a.prefix or "", "LOCAL_PART_SUFFIX": a.suffix or "",
            "DOMAIN": str(a.domain), "HOME": str(v.get("home") or a.home_dir or ""),
            "MESSAGE_ID": self.message.id,
            "PATH": expand_string(o["path"] or "", self.ctx),
            "RECIPIENT": f"{a.prefix or ''}{lp}{a.suffix or ''}@{a.domain}",
            "QUALIFY_DOMAIN": str(self.ctx.main_option("qualify_domain")
                                  or self.ctx.main_option("primary_hostname") or ""),
            "SENDER": self.message.sender, "SHELL": "/bin/sh",
        }
        if a.hosts:
            env["HOST"] = a.hosts[0].name
        if self.ctx.main_option("timestamps_utc"):
            env["TZ"] = "UTC"
        elif self.ctx.main_option("timezone"):
            env["TZ"] = str(self.ctx.main_option("timezone"))
        if o["environment"] is not None:
            try:
                extra = expand_string(o["environment"], self.ctx)
            except ExpansionError as e:
                raise Outcome(f'failed to expand string "{o["environment"]}" for '
                              f"{self.tp.name} transport: {e}") from e
            items = list(iter_list(extra))
            if len(env) + len(items) > 48:
                raise Outcome(f"too many environment settings for {self.tp.name} transport",
                              errno_.E2BIG)
            for item in items:
                k, _, val = item.partition("=")
                env[k] = val
        return env

    def run(self) -> None:
        o, name = self.o, self.tp.name
        cmd, expand, expand_fail = self._command()
        if not cmd:
            raise Outcome(f"no command specified for {name} transport")
        if is_tainted(cmd):
            raise Outcome(f"Tainted '{cmd}' (command for {name} transport) not permitted",
                          panic=True)
        argv = self._argv(cmd, expand, expand_fail)
        env = self._environment()
        if self.message.spool.dont_deliver:
            set_outcome(self.addrs, OK)
            return
        timeout = o["timeout"] or 0
        umask = o["umask"] if o["umask"] is not None else 0o22
        cwd = self.addr.current_dir or self.ctx.values.get("home") or "/"
        if not os.path.isdir(cwd):
            cwd = "/"
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env=env, cwd=cwd, close_fds=True, start_new_session=True,
                preexec_fn=lambda: _child_setup(umask, bool(o["permit_coredump"])))
        except OSError:
            proc = None
        output = bytearray()
        too_much = threading.Event()
        reader = None
        if proc is not None:
            reader = threading.Thread(target=self._read_output,
                                      args=(proc, output, o["max_output"], too_much),
                                      daemon=True)
            reader.start()
        deadline = time.monotonic() + timeout if timeout > 0 else None
        watchdog = _Watchdog(proc, deadline)
        note = None
        if proc is not None:
            try:
                self._write(proc.stdin)
            except BrokenPipeError:
                pass
            except WriteError as e:
                watchdog.cancel()
                _killpg(proc)
                text = {E.CHHEADER_FAIL: f"Failed to expand headers_add or headers_remove: "
                        f"{str(e).split(': ', 1)[-1]}",
                        E.FILTER_FAIL: f"Transport filter process failed ({e.more_errno})"
                        + (": unable to execute command" if e.more_errno == 127 else ""),
                        E.WRITEINCOMPLETE: "Failed repeatedly to write data"}.get(
                            e.basic_errno, f"Error {e.basic_errno}")
                if e.basic_errno == errno_.ETIMEDOUT:
                    note = "transport filter timeout while writing to pipe"
                else:
                    raise Outcome(text, e.basic_errno, panic=True) from e
            except _AffixError as e:
                watchdog.cancel()
                _killpg(proc)
                raise Outcome(str(e), panic=True) from e
            except OSError as e:
                if not watchdog.fired:
                    watchdog.cancel()
                    _killpg(proc)
                    raise Outcome(f"Error {e.errno}", e.errno or 0, panic=True) from e
            finally:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
            if watchdog.fired and note is None:
                note = "timeout while writing to pipe"
                watchdog.extend(1)
            elif timeout > 0:
                watchdog.extend(timeout)    # child_close(pid, timeout)
            rc = watchdog.wait()
            if reader is not None:
                reader.join(5)
        else:
            rc = EX_EXECFAILED
        self._outcome(argv, cmd, rc, note, bytes(output))

    def _write(self, fh) -> None:
        o = self.o
        eol = "\r\n" if o["use_crlf"] else "\n"

        def out(data: bytes) -> None:
            fh.write(data)

        if o["message_prefix"] is not None:
            out(self._affix(o["message_prefix"], "prefix").encode("latin-1", "replace"))
        if o["use_bsmtp"]:
            out(f"MAIL FROM:<{self.ctx.values.get('return_path', '')}>{eol}".encode())
            for a in self.addrs:
                rcpt = a.address if self.tp.get("rcpt_include_affixes") else (
                    f"{a.local_part}@{a.domain}" if a.domain else str(a.local_part))
                out(f"RCPT TO:<{rcpt}>{eol}".encode())
            out(f"DATA{eol}".encode())
        esc = None
        if o["check_string"] and o["escape_string"]:
            esc = (o["check_string"].encode("latin-1"), o["escape_string"].encode("latin-1"))
        write_message(self.tp, self.message, self.addrs, self.tctx, out,
                      crlf=bool(o["use_crlf"]), escape=esc, ctx=self.ctx,
                      return_path=self.ctx.values.get("return_path"),
                      escape_headers=bool(o["use_bsmtp"]))
        if o["message_suffix"] is not None:
            out(self._affix(o["message_suffix"], "suffix").encode("latin-1", "replace"))
        if o["use_bsmtp"]:
            out(f".{eol}".encode())
        fh.flush()

    def _affix(self, text: str, what: str) -> str:
        try:
            return expand_string(text, self.ctx)
        except ExpansionError as e:
            raise _AffixError(f'Expansion of "{text}" ({what} for {self.tp.name} '
                              f"transport) failed: {e}") from e

    @staticmethod
    def _read_output(proc, output: bytearray, limit, too_much) -> None:
        fd = proc.stdout.fileno()
        count = 0
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            output += data
            count += len(data)
            if limit and count > limit:
                output += b"\n\n*** Too much output - remainder discarded ***\n"
                too_much.set()
                _killpg(proc)
                break
        proc.stdout.close()

    def _outcome(self, argv, cmd, rc, note, output: bytes) -> None:
        o, name = self.o, self.tp.name
        tmsg = f" (preceded by {note})" if note else ""
        status, message, freeze = OK, note, False
        if rc == _TIMED_OUT:
            status = DEFER if o["timeout_defer"] else FAIL
            message = f"pipe delivery process timed out{tmsg}"
        elif rc < 0:
            text = (f'Child process of {name} transport (running command "{cmd}") was '
                    f"terminated by signal {-rc} ({strsignal(-rc)}){tmsg}")
            if o["freeze_signal"]:
                status, message, freeze = DEFER, text, True
            elif not o["ignore_status"]:
                status, message = FAIL, text
        elif rc > 0:
            if o["freeze_exec_fail"] and rc == EX_EXECFAILED:
                status, freeze = DEFER, True
                message = f'pipe process failed to exec "{cmd}"{tmsg}'
            elif not o["ignore_status"]:
                temp = o["temp_errors"] or ""
                if temp.startswith("*"):
                    status = DEFER
                else:
                    status = DEFER if any(p.strip().isdigit() and int(p) == rc
                                          for p in iter_list(temp)) else FAIL
                ss = (f"(could mean shell command ended by signal {rc - 128} "
                      f"({strsignal(rc - 128)}))" if rc > 128 else strexit(rc))
                parts = [f"Child process of {name} transport returned {rc}"]
                if ss:
                    parts.append(" " + ss)
                parts.append(" from command:")
                # Exim bounds its loop by sizeof(argv)/sizeof(int *) on a
                # pointer, so only the command itself is shown.
                for arg in argv[:1]:
                    parts.append(f' "{arg}"' if (" " in arg or "\t" in arg) else " " + arg)
                message = "".join(parts) + tmsg
        if output:
            self._handle_output(status, output)
            if (status == FAIL and o["return_fail_output"]) or o["return_output"]:
                status = FAIL
                if not message:
                    message = "return message generated"
                for a in self.addrs:
                    # For the bounce; also in extra, which survives the
                    # orchestrator's change-uid child.
                    a.return_output = a.extra["return_output"] = output
        if status == OK and message is None:
            set_outcome(self.addrs, OK)
            return
        raise Outcome(message, status=status, freeze=freeze,
                      user_message=None if status == OK else "local delivery failed")

    def _handle_output(self, status, output: bytes) -> None:
        """Keep the command's output for the orchestrator (extra["pipe_output"])
        and the log line log_output asks for (extra["log_lines"])."""
        o = self.o
        for a in self.addrs:
            a.extra["pipe_output"] = output
        if (o["log_output"] or (status == FAIL and o["log_fail_output"])
                or (status == DEFER and o["log_defer_output"])):
            first = output.split(b"\n", 1)[0].rstrip().decode("latin-1")
            line = f"<{self.addr.address}>: {self.tp.name} transport output: {printing(first)}"
            for a in self.addrs:
                a.extra.setdefault("log_lines", []).append(line)


class _AffixError(Exception):
    """message_prefix/message_suffix did not expand."""


_TIMED_OUT = -256


class _Watchdog:
    """The transport's timeout: kills the command's process group when due."""

    def __init__(self, proc, deadline):
        self.proc, self.deadline = proc, deadline
        self.fired = False
        self._cancelled = threading.Event()
        if proc is not None and deadline is not None:
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self._cancelled.is_set():
            left = self.deadline - time.monotonic()
            if left <= 0:
                if self.proc.poll() is None:
                    self.fired = True
                    _killpg(self.proc)
                return
            self._cancelled.wait(min(left, 0.5))

    def extend(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def cancel(self) -> None:
        self._cancelled.set()

    def wait(self) -> int:
        """child_close(): the status, -signal, or _TIMED_OUT."""
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.cancel()
                if self.fired:
                    return _TIMED_OUT
                return rc
            if self.deadline is not None and time.monotonic() > self.deadline + 1:
                _killpg(self.proc)
                self.fired = True
            time.sleep(0.01)


def _killpg(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def _child_setup(umask: int, coredump: bool) -> None:
    os.umask(umask)
    if not coredump:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
