"""`exim -be`: expand each argument, or each line of standard input.

Lines read from stdin get a "> " prompt, backslash continuation, macro
substitution, and `NAME = value` lines define macros, exactly as Exim's
expansion_test_line() and get_stdinput() do.
"""

from __future__ import annotations

import os
import sys
import time
from typing import BinaryIO

from pexim.expand import ExpandContext, ExpansionError, compile_cached
from pexim.expand.errors import PanicDie

_FGETS = 1023   # Exim reads stdin with a 1024-byte fgets buffer


def _binary(stream, attr_default):
    return getattr(stream, "buffer", stream) if stream is not None else attr_default


def make_context(config, values: dict | None = None) -> ExpandContext:
    """The context -be expands in: the caller as sender, no message, and what
    -oMa/-oMaa/-oMai/-oMas/-oMi/-oMr/-oMs/-oMt/-f (``values``) set."""
    from pexim.commands.bem import apply_command_line, originator
    ctx = ExpandContext(config=config)
    login, _gecos = originator()
    qualify = ctx.main_option("qualify_domain") or ctx.main_option("primary_hostname")
    if not qualify:
        from pexim.expand.variables import primary_hostname
        qualify = primary_hostname(ctx)
    ctx.extra["be_flags"] = apply_command_line(ctx, values or {}, qualify, login)
    ctx.extra["be_login"] = login
    ctx.extra["be_qualify"] = qualify
    if config is not None:
        filename = getattr(config, "filename", None)
        if filename:
            ctx.values["config_file"] = filename
            ctx.values["config_dir"] = getattr(config, "directory", None) or \
                os.path.dirname(filename)
    ctx.acl_eval = _acl_hook(config, ctx)
    return ctx


def load_message(ctx, path: str, out) -> bool:
    """-bem: read the test message from ``path`` into ``ctx``; False if it cannot be opened."""
    from pexim.commands.bem import originator, originator_name, read_message
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        sys.stderr.write("exim: failed to open %s: %s\n" % (path, e.strerror))
        return False
    login, gecos = originator()
    name = originator_name(ctx, login, gecos)
    ctx.message = read_message(data, ctx, ctx.extra["be_flags"], ctx.extra["be_qualify"],
                               login, name, out)
    return True


def _acl_hook(config, ctx):
    """The ACL evaluator for ${acl} and the acl condition.

    Uses pexim.acl's engine when it provides ``expand_acl``; otherwise
    MiniAcl, which covers what -be can meaningfully run.
    """
    try:
        from pexim.acl import engine  # type: ignore[attr-defined]
        evaluate = getattr(engine, "expand_acl", None)
    except ImportError:
        evaluate = None
    if evaluate is not None:
        return lambda name, args: evaluate(config, name, args, ctx)
    return MiniAcl(config, ctx)


class MiniAcl:
    """A small ACL evaluator for -be: accept/deny/defer/discard/drop/require/warn
    with the condition, acl, set and message modifiers (no message, no host)."""

    _RC = {"accept": "OK", "deny": "FAIL", "defer": "DEFER", "discard": "DISCARD",
           "drop": "FAIL_DROP"}

    def __init__(self, config, ctx):
        self.acls = getattr(config, "acls", None) or {}
        self.ctx = ctx

    def __call__(self, name, args):
        from pexim.expand import ForcedFail
        acl = self.acls.get(name)
        if acl is None:
            return "ERROR", None
        ctx = self.ctx
        for st in acl.statements:
            message = None
            inner_msg = None
            ok = True
            for c in st.conditions:
                cname = c.name
                if cname == "message":
                    message = c.arg
                    continue
                if cname in ("log_message", "logwrite", "control", "delay", "add_header",
                             "remove_header", "continue", "udpsend", "queue",
                             "log_reject_target"):
                    continue
                if cname == "set":
                    try:
                        value = compile_cached(c.arg).evaluate(ctx)
                    except ExpansionError:
                        return "ERROR", None
                    var = c.varname or ""
                    store = ctx.acl_c if var.startswith("c") else ctx.acl_m
                    store["acl_" + var] = value
                    continue
                if cname == "endpass":
                    continue
                try:
                    text = compile_cached(c.arg or "").evaluate(ctx)
                except ForcedFail:
                    text = None
                except ExpansionError:
                    return "ERROR", None
                if cname == "condition":
                    result = bool(text) and text != "0" and text.lower() not in ("no", "false")
                elif cname == "acl":
                    from pexim.expand.items import split_command
                    words = split_command(text or "")
                    if not words:
                        return "ERROR", None
                    save = ctx.acl_args
                    ctx.acl_args = words[1:10]
                    try:
                        rc, inner_msg = self(words[0], ctx.acl_args)
                    finally:
                        ctx.acl_args = save
                    if rc == "DEFER" or rc == "ERROR":
                        return rc, inner_msg
                    result = rc == "OK"
                else:
                    return "ERROR", None
                if c.negated:
                    result = not result
                if not result:
                    ok = False
                    break
            verb = st.verb
            if verb == "require":
                if not ok:
                    return "FAIL", self._msg(message) if message else inner_msg
                continue
            if verb == "warn" or not ok:
                continue
            msg = self._msg(message) if message else inner_msg
            return self._RC[verb], msg
        return "FAIL", None

    def _msg(self, text):
        try:
            return compile_cached(text).evaluate(self.ctx)
        except ExpansionError:
            return None


class Macros:
    """Macro substitution and definition with Exim's rules (readconf.c)."""

    def __init__(self, config):
        self.items: list[list[str]] = []   # [name, value], definition order
        self.builtin: list[list[str]] = []
        for m in getattr(config, "macros", None) or ():
            if isinstance(m, (tuple, list)):
                name, value, builtin = m[0], m[1], False
            else:
                name, value, builtin = m.name, m.value, getattr(m, "builtin", False)
            (self.builtin if builtin else self.items).append([name, value])
        if isinstance(getattr(config, "macros", None), dict):
            self.items = [[k, v] for k, v in config.macros.items()]

    def expand(self, line: str) -> str:
        i = 0
        n = len(line)
        while i < n and line[i].isspace():
            i += 1
        s = i
        if i < n and line[i].isupper():
            j = i
            while j < n and (line[j].isalnum() or line[j] == "_"):
                j += 1
            while j < n and line[j].isspace():
                j += 1
            if j < n and line[j] == "=":
                s = j
        while s < n and not _name_start(line, s):
            s += 1
        if s >= n:
            return line
        macros = (self.builtin + self.items) if line[s] == "_" else self.items
        head, body = line[:s], line[s:]
        for name, value in macros:
            if name not in body:
                continue
            out = []
            k = 0
            while True:
                p = body.find(name, k)
                if p < 0:
                    out.append(body[k:])
                    break
                out.append(body[k:p])
                out.append(value)
                k = p + len(name)
            body = "".join(out)
        return head + body

    def define(self, line: str) -> str | None:
        """Handle `NAME = value`; returns the name defined or None (error reported)."""
        i = 0
        n = len(line)
        while i < n and (line[i].isalnum() or line[i] == "_"):
            i += 1
        name = line[:i]
        while i < n and line[i].isspace():
            i += 1
        if i >= n or line[i] != "=":
            _config_error("malformed macro definition")
            return None
        i += 1
        redef = i < n and line[i] == "="
        if redef:
            i += 1
        value = line[i:].lstrip()
        for m in self.items:
            if m[0] == name:
                if not redef:
                    _config_error('macro "%s" is already defined (use "==" if you want to '
                                  "redefine it)" % name)
                    return None
                m[1] = value
                return name
            if len(m[0]) < len(name) and m[0] in name:
                _config_error('"%s" cannot be defined as a macro because previously defined '
                              'macro "%s" is a substring' % (name, m[0]))
                return None
        if redef:
            _config_error('can\'t redefine an undefined macro "%s"' % name)
            return None
        self.items.append([name, value])
        return name


def _name_start(line: str, k: int) -> bool:
    c = line[k]
    return c.isupper() or (c == "_" and k + 1 < len(line) and line[k + 1].isupper())


def _config_error(msg: str) -> None:
    sys.stderr.write("%s Exim configuration error:\n  %s\n"
                     % (time.strftime("%Y-%m-%d %H:%M:%S"), msg))


def expansion_test_line(line: str, macros: Macros, ctx: ExpandContext) -> str | None:
    """One -be line: the text to print, or None after a macro definition error."""
    line = macros.expand(line)
    if line[:1].isupper() and line[:1].isascii():
        name = macros.define(line)
        return None if name is None else "Defined macro '%s'" % name
    try:
        return compile_cached(line).evaluate(ctx)
    except PanicDie:
        raise
    except ExpansionError as e:
        return "Failed: " + e.message


def _physical_lines(stream: BinaryIO):
    for raw in stream:
        while len(raw) > _FGETS:
            yield raw[:_FGETS].decode("latin-1")
            raw = raw[_FGETS:]
        yield raw.decode("latin-1")


def _logical_lines(stream: BinaryIO, out: BinaryIO):
    """get_stdinput(): prompt, join continuations, strip white space."""
    phys = _physical_lines(stream)
    while True:
        out.write(b"> ")
        out.flush()
        parts: list[str] = []
        for k, raw in enumerate(phys):
            text = raw.rstrip(" \t\n\r\v\f")
            if k > 0:
                text = text.lstrip(" \t\n\r\v\f")
            parts.append(text)
            if not text or not text.endswith("\\"):
                break
            parts[-1] = text[:-1]
        else:
            if not parts:
                out.write(b"\n")
                return
        yield "".join(parts)


def run(config, args, stdin, stdout, values: dict | None = None,
        message: str | None = None) -> int:
    from pexim.commands.bem import CommandLineError
    out = _binary(stdout, sys.stdout.buffer)
    try:
        ctx = make_context(config, values)
    except CommandLineError as e:
        sys.stderr.write(str(e) + "\n")
        return 1
    if message is not None and not load_message(ctx, message, out):
        return 1
    macros = Macros(config)
    try:
        return _run_lines(args, stdin, out, macros, ctx)
    except PanicDie as e:
        out.flush()
        sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), e.message))
        return 1


def _run_lines(args, stdin, out, macros, ctx) -> int:
    if args:
        for arg in args:
            result = expansion_test_line(arg, macros, ctx)
            if result is not None:
                out.write(result.encode("latin-1", "replace") + b"\n")
        out.flush()
        return 0
    inp = _binary(stdin, sys.stdin.buffer)
    for line in _logical_lines(inp, out):
        result = expansion_test_line(line, macros, ctx)
        if result is not None:
            out.write(result.encode("latin-1", "replace") + b"\n")
        out.flush()
    out.flush()
    return 0
