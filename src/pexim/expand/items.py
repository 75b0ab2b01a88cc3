"""Expansion items: ${if, ${lookup, ${extract, ${map, ${sg and the rest.

Each ``parse_*`` function reads the item's syntax from a Parser (``i`` is just
after the item name) and returns ``(node, i)``; each node's ``ev`` does what
Exim does when the item is reached while not skipping.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
import os
import subprocess
import time

from pexim.bytestr import SPACE, isdigit, lower

from . import regex
from .errors import CurlyError, ExpansionError, ForcedFail
from .nodes import Node, Seq
from .taint import Tainted, like

RDO_LOOKUP, RDO_READFILE, RDO_RUN, RDO_READSOCK, RDO_PERL, RDO_DLFUNC, RDO_EXISTS = (
    1, 2, 4, 8, 16, 32, 64)


def _suffix(err: ExpansionError, suffix: str) -> ExpansionError:
    e = type(err)(err.message + suffix)
    return e


class YesNo:
    """The {yes}{no} / fail tail shared by if, lookup, extract, env, run..."""

    __slots__ = ("kind", "yes", "no", "fail", "bare")

    def __init__(self, kind, yes, no, fail, bare):
        self.kind, self.yes, self.no, self.fail, self.bare = kind, yes, no, fail, bare

    def apply(self, ctx, ok: bool, save_value) -> str:
        if self.bare:
            if self.kind == "if":
                return "true" if ok else ""
            out = (ctx.value or "") if ok else ""
            ctx.value = save_value
            return out
        out = self.yes.ev(ctx) if ok else ""
        ctx.value = save_value
        if not ok:
            if self.no is not None:
                out = self.no.ev(ctx)
            elif self.fail:
                raise ForcedFail('"%s" failed and "fail" requested' % self.kind)
        return out


# --- if ---------------------------------------------------------------------

class If(Node):
    __slots__ = ("cond", "yn")

    def __init__(self, cond, yn):
        self.cond, self.yn = cond, yn

    def ev(self, ctx):
        save_n, save_v = ctx.nvars, ctx.value
        try:
            ok = self.cond.test(ctx)
            return self.yn.apply(ctx, ok, ctx.value)
        finally:
            ctx.nvars, ctx.value = save_n, save_v


def parse_if(p, name, i):
    i = p.skip_ws(i)
    cond, i = p.condition(i)
    yn, i = p.yesno(i, "if")
    return If(cond, yn), i


# --- lookup -----------------------------------------------------------------

class Lookup(Node):
    __slots__ = ("key", "spec", "arg", "yn")

    def __init__(self, key, spec, arg, yn):
        self.key, self.spec, self.arg, self.yn = key, spec, arg, yn

    def ev(self, ctx):
        from ..lookups import find
        if ctx.forbid & RDO_LOOKUP:
            raise ExpansionError("lookup expansions are not permitted")
        save_n, save_v = ctx.nvars, ctx.value
        try:
            key = self.key.ev(ctx) if self.key is not None else None
            arg = self.arg.ev(ctx)
            try:
                value, nvars = find(ctx, self.spec, arg, key)
            except ExpansionError as e:
                raise search_error(ctx, e) from None
            ctx.extra["search_error"] = ""
            ctx.value = value
            if nvars is not None:
                ctx.nvars = nvars
            return self.yn.apply(ctx, value is not None, save_v)
        finally:
            ctx.nvars = save_n


def search_error(ctx, e: ExpansionError) -> ExpansionError:
    """Exim keeps the last lookup error in search_error_message: a tainted
    file name is only logged, so the failure shows the previous text."""
    msg = e.message
    if msg.startswith("Tainted filename for search:"):
        import sys

        from pexim.cli import timestamp
        sys.stderr.write("%s %s\n" % (timestamp(), msg))
        prev = ctx.extra.get("search_error")
        return type(e)("(null)" if prev is None else prev)
    ctx.extra["search_error"] = msg
    return e


def parse_lookup(p, name, i):
    from ..lookups import LookupSpecError, parse_spec
    i = p.skip_ws(i)
    key = None
    if p.ch(i) == "{":
        key, i = p.seq(i + 1, True)
        if p.ch(i) != "}":
            p.curly("missing '}' after lookup key")
        i = p.skip_ws(i + 1)
    from pexim.bytestr import isalpha
    if not isalpha(p.ch(i)):
        p.fail("missing lookup type")
    j = i
    while j < p.n and p.s[j] != "{" and p.s[j] not in SPACE:
        j += 1
    tname = p.s[i:j][:255]
    i = p.skip_ws(j)
    try:
        spec = parse_spec(tname)
    except LookupSpecError as e:
        p.fail(e.message)
    if not spec.query_style:
        if key is None:
            p.fail('missing {key} for single-key "%s" lookup' % tname)
    elif key is not None:
        p.fail('a single key was given for lookup type "%s", which is not a single-key '
               "lookup type" % tname)
    if p.ch(i) != "{":
        p.curly("missing '{' for lookup file-or-query arg")
    arg, i = p.seq(i + 1, True)
    if p.ch(i) != "}":
        p.curly("missing '}' closing lookup file-or-query arg")
    i = p.skip_ws(i + 1)
    yn, i = p.yesno(i, "lookup")
    return Lookup(key, spec, arg, yn), i


# --- extract ----------------------------------------------------------------

def _getkeyed(key: str, s: str) -> str | None:
    from pexim.bytestr import dequote, strcmpic
    n = len(s)
    i = 0
    while i < n and s[i] in SPACE:
        i += 1
    while i < n:
        k0 = i
        while i < n and s[i] != "=" and s[i] not in SPACE:
            i += 1
        dkey = s[k0:i]
        while i < n and s[i] in SPACE:
            i += 1
        if i < n and s[i] == "=":
            i += 1
            while i < n and s[i] in SPACE:
                i += 1
        data, i = dequote(s, i)
        if len(dkey) == len(key) and strcmpic(key, dkey) == 0:
            return data
        while i < n and s[i] in SPACE:
            i += 1
    return None


def _gettokened(field: int, seps: str, s: str) -> str | None:
    if field == 0:
        return s
    fields = []
    start = 0
    for k, ch in enumerate(s):
        if ch in seps:
            fields.append(s[start:k])
            start = k + 1
    fields.append(s[start:])
    if field > 0:
        return fields[field - 1] if field <= len(fields) else None
    return fields[field] if -field <= len(fields) else None


def dewrap(s: str, wrap: str) -> str:
    """Strip enclosing wrap[0]..wrap[1], honouring backslashes and nesting."""
    i = 0
    n = len(s)
    while i < n and s[i] in SPACE:
        i += 1
    if i < n and s[i] == wrap[0]:
        quotes = wrap[0] == wrap[1]
        i += 1
        start = i
        depth = 0
        while i < n:
            c = s[i]
            if c == "\\":
                i += 1
            elif not quotes and c == wrap[0]:
                depth += 1
            elif c == wrap[1]:
                if depth == 0:
                    return s[start:i]
                depth -= 1
            i += 1
    opened = s.lstrip(SPACE)[:1] == wrap[0]
    raise CurlyError("missing '%s'" % (wrap[1] if opened else wrap[0]))


def json_items(s: str):
    """json_nextinlist(): the top-level comma-separated elements."""
    i = 0
    n = len(s)
    while True:
        while i < n and s[i] in SPACE:
            i += 1
        start = i
        adepth = odepth = 0
        while i < n and (s[i] != "," or adepth or odepth):
            c = s[i]
            if c == "[":
                adepth += 1
            elif c == "]":
                adepth -= 1
            elif c == "{":
                odepth += 1
            elif c == "}":
                odepth -= 1
            i += 1
        if i == start:
            return
        yield s[start:i]
        if i < n:
            i += 1


def _numeric_field(s: str) -> int | None:
    neg = s.startswith("-")
    digits = s[1:] if neg else s
    if digits and not digits.isdigit() or not digits.isascii():
        return None
    v = int(digits) if digits else 0
    return -v if neg else v


class Extract(Node):
    __slots__ = ("fmt", "args", "ends", "fail_at", "src", "yn_fail")

    def __init__(self, fmt, args, ends, fail_at, src):
        self.fmt, self.args, self.ends, self.fail_at, self.src = fmt, args, ends, fail_at, src

    def _curly(self, where, pos):
        raise CurlyError("curly-bracket problem in conditional yes/no parsing: %s\n"
                         " remaining string is '%s'" % (where, self.src[pos:]))

    def ev(self, ctx):
        save_n, save_v = ctx.nvars, ctx.value
        args = self.args
        try:
            first = args[0].ev(ctx).strip(SPACE)
            if not first:
                raise ExpansionError('first argument of "extract" must not be empty')
            field = _numeric_field(first)
            need = 3 if field is not None and self.fmt == "" else 2
            if len(args) < need:
                raise CurlyError("missing '{' for arg %d of extract" % (len(args) + 1))
            subs = [first] + [a.ev(ctx) for a in args[1:need]]
            value = self._extract(field, subs)
            ctx.value = value
            rest = args[need:]
            ok = value is not None
            if len(rest) > 2:
                self._curly("did not close with '}'", self.ends[need + 1])
            if not rest:
                if self.fail_at is not None:
                    self._curly("'yes' part did not start with '{'", self.fail_at)
                out = (value or "") if ok else ""
                ctx.value = save_v
                return out
            out = rest[0].ev(ctx) if ok else ""
            ctx.value = save_v
            if not ok:
                if len(rest) > 1:
                    out = rest[1].ev(ctx)
                elif self.fail_at is not None:
                    raise ForcedFail('"extract" failed and "fail" requested')
            return out
        finally:
            ctx.nvars = save_n

    def _extract(self, field, subs):
        if self.fmt == "":
            if field is not None:
                return _gettokened(field, subs[1], subs[2])
            return _getkeyed(subs[0], subs[1])
        try:
            body = dewrap(subs[1], "[]" if field is not None else "{}")
        except CurlyError as e:
            raise CurlyError("%s wrapping %s for extract json"
                             % (e.message, "array" if field is not None else "object")) from None
        value = None
        if field is not None:
            if field <= 0:
                raise ExpansionError('first argument of "extract" must be greater than zero')
            for item in json_items(body):
                field -= 1
                if field == 0:
                    value = item.rstrip(SPACE)
                    break
        else:
            for item in json_items(body):
                try:
                    k = dewrap(item, '""')
                except CurlyError as e:
                    raise CurlyError("%s wrapping string key for extract json" % e.message) \
                        from None
                if k == subs[0]:
                    rest = item[item.index(k) + len(k) + 1:].lstrip(SPACE)
                    if not rest.startswith(":"):
                        raise CurlyError("missing object value-separator for extract json")
                    value = rest[1:].lstrip(SPACE)
                    break
        if self.fmt == "jsons" and value is not None:
            try:
                value = dewrap(value, '""')
            except CurlyError as e:
                raise CurlyError("%s wrapping string result for extract jsons" % e.message) \
                    from None
        return value


def parse_extract(p, name, i):
    i = p.skip_ws(i)
    fmt = ""
    if p.ch(i) != "{" and p.s.startswith("json", i):
        i += 4
        if p.ch(i) == "s":
            fmt, i = "jsons", i + 1
        else:
            fmt = "json"
    args, ends = [], []
    i = p.skip_ws(i)
    while len(args) < 5 and p.ch(i) == "{":
        node, i = p.arg(i + 1)
        args.append(node)
        i = p.skip_ws(i)
        ends.append(i)
    fail_at = None
    if p.s.startswith("fail", i) and p.ch(i + 4) in ("}", " ", "\t", ""):
        fail_at = i
        i = p.skip_ws(i + 4)
    if p.ch(i) == "{" and len(args) == 5 and fail_at is None:
        # Exim reads two arguments (three for a number), then yes/no strings.
        lit = args[0].literal()
        if lit is not None and not lit.strip().lstrip("-").isdigit():
            p._yesno_curly("did not close with '}'", ends[3])
    if p.ch(i) != "}":
        p.curly("missing '}' closing extract")
    if not args:
        p.curly("missing '{' for arg 1 of extract")
    return Extract(fmt, args, ends, fail_at, p.s), i + 1


# --- listextract, listquote ---------------------------------------------------

class ListExtract(Node):
    __slots__ = ("field", "lst", "yn")

    def __init__(self, field, lst, yn):
        self.field, self.lst, self.yn = field, lst, yn

    def ev(self, ctx):
        from ..lists import split_list
        save_n, save_v = ctx.nvars, ctx.value
        try:
            f = self.field.ev(ctx).strip(SPACE)
            if not f:
                raise ExpansionError('first argument of "listextract" must not be empty')
            n = _numeric_field(f)
            if n is None:
                raise ExpansionError('first argument of "listextract" must be numeric')
            items = split_list(self.lst.ev(ctx))
            value = None
            if n > 0 and n <= len(items):
                value = items[n - 1]
            elif n < 0 and -n <= len(items):
                value = items[n]
            ctx.value = value
            return self.yn.apply(ctx, value is not None, save_v)
        finally:
            ctx.nvars = save_n


def parse_listextract(p, name, i):
    args = []
    for k in (1, 2):
        i = p.skip_ws(i)
        if p.ch(i) != "{":
            p.curly("missing '{' for arg %d of listextract" % k)
        node, i = p.arg(i + 1)
        args.append(node)
    yn, i = p.yesno(i, "listextract")
    return ListExtract(args[0], args[1], yn), i


class ListQuote(Node):
    __slots__ = ("sep", "s")

    def __init__(self, sep, s):
        self.sep, self.s = sep, s

    def ev(self, ctx):
        sep = self.sep.ev(ctx)[:1]
        s = self.s.ev(ctx)
        if not s:
            return " "
        return like(s, s.replace(sep, sep + sep) if sep else s)


def parse_listquote(p, name, i):
    args, i = p.subs(i, 2, 2, True, name)
    return ListQuote(*args), i


# --- map / filter / reduce / sort -----------------------------------------------

def append_listele(out: list[str], sep: str, item: str) -> None:
    """Add ``item`` to a list being built, doubling separators as Exim does."""
    if out and (item[:1] == sep or item == ""):
        out.append(" ")
    out.append(item.replace(sep, sep + sep))
    out.append(sep)


class ListOp(Node):
    __slots__ = ("kind", "lst", "init", "expr")

    def __init__(self, kind, lst, init, expr):
        self.kind, self.lst, self.init, self.expr = kind, lst, init, expr

    def ev(self, ctx):
        from ..lists import iter_list, list_separator
        kind = self.kind
        save_item, save_v = ctx.item, ctx.value
        lst = self.lst.ev(ctx)
        if kind == "reduce":
            ctx.value = self.init.ev(ctx)
        sep, start = list_separator(lst) if lst else (":", 0)
        out: list[str] = []
        try:
            for item in iter_list(lst, sep, start):
                ctx.item = item
                if kind == "filter":
                    keep_v = ctx.value
                    try:
                        ok = self.expr.test(ctx)
                    except ExpansionError as e:
                        ctx.value = save_v
                        raise _suffix(e, ' inside "filter" condition') from None
                    ctx.value = keep_v
                    if not ok:
                        continue
                    temp = item
                else:
                    try:
                        temp = self.expr.ev(ctx)
                    except ExpansionError as e:
                        raise _suffix(e, ' inside "%s" item' % kind) from None
                    if kind == "reduce":
                        ctx.value = temp
                        continue
                if out and (temp[:1] == sep or temp == ""):
                    out.append(" ")
                out.append(temp.replace(sep, sep + sep))
                out.append(sep)
            if kind == "reduce":
                return ctx.value or ""
            if out:
                out.pop()
            return "".join(out)
        finally:
            ctx.item = save_item
            if kind == "reduce":
                ctx.value = save_v


def parse_listop(p, name, i):
    i = p.skip_ws(i)
    if p.ch(i) != "{":
        p.curly("missing '{' for first arg of %s" % name)
    lst, i = p.seq(i + 1, True)
    if p.ch(i) != "}":
        p.curly("missing '}' closing first arg of %s" % name)
    i += 1
    init = None
    if name == "reduce":
        i = p.skip_ws(i)
        if p.ch(i) != "{":
            p.curly("missing '{' for second arg of reduce")
        init, i = p.seq(i + 1, True)
        if p.ch(i) != "}":
            p.curly("missing '}' closing second arg of reduce")
        i += 1
    i = p.skip_ws(i)
    if p.ch(i) != "{":
        p.curly("missing '{' for last arg of %s" % name)
    try:
        if name == "filter":
            expr, i = p.condition(i + 1)
        else:
            expr, i = p.seq(i + 1, True)
    except ExpansionError as e:
        raise _suffix(e, ' inside "%s" item' % name) from None
    i = p.skip_ws(i)
    if p.ch(i) != "}":
        p.fail('missing } at end of condition or expression inside "%s"; could be an '
               "unquoted } in the content" % name)
    i = p.skip_ws(i + 1)
    if p.ch(i) != "}":
        p.fail('missing } at end of "%s"' % name)
    return ListOp(name, lst, init, expr), i + 1


class Sort(Node):
    __slots__ = ("lst", "before", "xtract", "xsrc")

    def __init__(self, lst, before, xtract, xsrc):
        self.lst, self.before, self.xtract, self.xsrc = lst, before, xtract, xsrc

    def ev(self, ctx):
        from ..lists import iter_list, list_separator
        lst = self.lst.ev(ctx)
        if not lst:
            return ""
        sep, start = list_separator(lst)
        save_item = ctx.item
        items: list[tuple[str, str]] = []
        try:
            for item in iter_list(lst, sep, start):
                ctx.item = item
                try:
                    key = self.xtract.ev(ctx)
                except ExpansionError:
                    key = ""
                if not key:
                    raise ExpansionError('field-extract in sort: "%s"' % self.xsrc)
                for k, (_, dkey) in enumerate(items):
                    if self.before(key, dkey):
                        items.insert(k, (item, key))
                        break
                else:
                    items.append((item, key))
        finally:
            ctx.item = save_item
        out: list[str] = []
        for item, _ in items:
            append_listele(out, sep, item)
        if out:
            out.pop()
        return "".join(out)


def parse_sort(p, name, i):
    from .conditions import sort_comparator
    i = p.skip_ws(i)
    if p.ch(i) != "{":
        p.curly("missing '{' for list arg of sort")
    lst, i = p.seq(i + 1, True)
    if p.ch(i) != "}":
        p.curly("missing '}' closing list arg of sort")
    i = p.skip_ws(i + 1)
    if p.ch(i) != "{":
        p.curly("missing '{' for comparator arg of sort")
    cmp, i = p.seq(i + 1, True, dollar=False)
    if p.ch(i) != "}":
        p.curly("missing '}' closing comparator arg of sort")
    i += 1
    before = sort_comparator(p, cmp.literal() or "", i)
    i = p.skip_ws(i)
    if p.ch(i) != "{":
        p.curly("missing '{' for extractor arg of sort")
    x0 = i + 1
    xtract, i = p.seq(x0, True)
    xsrc = p.s[x0:i]
    if p.ch(i) != "}":
        p.curly("missing '}' closing extractor arg of sort")
    i += 1
    if p.ch(i) != "}":
        p.fail('missing } at end of "sort"')
    return Sort(lst, before, xtract, xsrc), i + 1


# --- hash, length, nhash, substr ---------------------------------------------------

HASHCODES = "abcdefghijklmnopqrtsuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
          73, 79, 83, 89, 97, 101, 103, 107, 109, 113)


def compute_hash(subject: str, value1: int, value2: int) -> str:
    n = len(subject)
    if value2 < 0:
        value2 = 26
    elif value2 > len(HASHCODES):
        raise ExpansionError('hash count "%d" too big' % value2)
    if value1 >= n:
        return subject
    if value1 <= 0:
        return ""
    b = bytearray(subject.encode("latin-1"))
    i = 0
    for j in range(value1, n):
        c = b[j]
        shift = (c + j) & 7
        b[i] = (b[i] ^ ((c << shift) | (c >> (8 - shift)))) & 0xFF
        i += 1
        if i >= value1:
            i = 0
    return like(subject, "".join(HASHCODES[b[k] % value2] for k in range(value1)))


def compute_nhash(subject: str, value1: int, value2: int) -> str:
    total = 0
    i = 0
    for ch in subject:
        if i == 0:
            i = len(PRIMES) - 1
        total += PRIMES[i] * ord(ch)
        i -= 1
    total &= (1 << 64) - 1
    if value1 == 0 or value2 == 0:
        raise ExpansionError("division by zero in nhash")
    if value2 < 0:
        return str(total % value1)
    total %= value1 * value2
    return "%d/%d" % (total // value2, total % value2)


def extract_substr(subject: str, value1: int, value2: int) -> str:
    n = len(subject)
    if value1 < 0:
        value1 += n
        if value1 < 0:
            value2 += value1
            if value2 < 0:
                value2 = 0
            value1 = 0
        elif value2 < 0:
            value2 = value1
            value1 = 0
    else:
        if value1 > n:
            value1 = n
            value2 = 0
        elif value2 < 0:
            value2 = n
    if value1 + value2 > n:
        value2 = n - value1
    return subject[value1:value1 + value2]


def _strtol(s: str) -> tuple[int, bool]:
    """C strtol(s, &end, 10): (value, whole string consumed)."""
    import re
    m = re.match(r"[ \t\n\r\v\f]*([+-]?[0-9]+)", s)
    if not m:
        return 0, s == ""
    v = int(m.group(1))
    v = max(min(v, (1 << 63) - 1), -(1 << 63))
    return v, m.end() == len(s)


class HashItem(Node):
    __slots__ = ("name", "args")

    def __init__(self, name, args):
        self.name, self.args = name, args

    def ev(self, ctx):
        subs = [a.ev(ctx) for a in self.args]
        name = self.name
        if len(subs) == 2:
            subs = [None, subs[0], subs[1]] if name == "length" else [subs[0], None, subs[1]]
        val = [0, -1]
        for k in (0, 1):
            if subs[k] is not None:
                v, whole = _strtol(subs[k])
                if not whole or (k != 0 and v < 0):
                    raise ExpansionError('"%s" is not a%s number (in "%s" expansion)'
                                         % (subs[k], " positive" if k else "", name))
                val[k] = v
        if name == "hash":
            return compute_hash(subs[2], val[0], val[1])
        if name == "nhash":
            return compute_nhash(subs[2], val[0], val[1])
        return like(subs[2], extract_substr(subs[2], val[0], val[1]))


def parse_hashitem(p, name, i):
    args, i = p.subs(i, 2 if name == "length" else 3, 2, True, name)
    return HashItem(name, args), i


# --- hmac, sg, tr ---------------------------------------------------------------

class Hmac(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        algo, key, text = (a.ev(ctx) for a in self.args)
        if algo not in ("md5", "sha1"):
            raise ExpansionError('hmac algorithm "%s" is not recognised' % algo)
        return _hmac.new(key.encode("latin-1"), text.encode("latin-1"), algo).hexdigest()


def parse_hmac(p, name, i):
    args, i = p.subs(i, 3, 3, True, name)
    return Hmac(args), i


class Sg(Node):
    __slots__ = ("subject", "pattern", "repl", "fixed")

    def __init__(self, subject, pattern, repl):
        self.subject, self.pattern, self.repl = subject, pattern, repl
        lit = pattern.literal()
        self.fixed = None
        if lit is not None:
            try:
                self.fixed = regex.compile_pcre(lit)
            except ExpansionError:
                self.fixed = None

    def ev(self, ctx):
        from . import compile_cached
        subject = self.subject.ev(ctx)
        rx = self.fixed or regex.compile_pcre(self.pattern.ev(ctx))
        repl = self.repl.ev(ctx)
        insert = compile_cached(repl)
        save_n = ctx.nvars
        out = []
        pos = 0
        try:
            for m in rx.finditer(subject):
                ctx.nvars = regex.groups(m)
                out.append(subject[pos:m.start()])
                out.append(insert.evaluate(ctx))
                pos = m.end()
        finally:
            ctx.nvars = save_n
        out.append(subject[pos:])
        return like(subject, "".join(out))


def parse_sg(p, name, i):
    args, i = p.subs(i, 3, 3, True, name)
    return Sg(*args), i


class Tr(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        subject, frm, to = (a.ev(ctx) for a in self.args)
        if not to:
            return subject
        o2m = len(to) - 1
        out = []
        for ch in subject:
            k = frm.rfind(ch)
            out.append(to[min(k, o2m)] if k >= 0 else ch)
        return like(subject, "".join(out))


def parse_tr(p, name, i):
    args, i = p.subs(i, 3, 3, True, name)
    return Tr(args), i


# --- readfile, run, readsocket -------------------------------------------------------

def cat_lines(data: str, eol: str | None) -> str:
    if eol is None:
        return data
    return data.replace("\n", eol)


def tainted_open(path: str) -> str:
    """What Exim reports when asked to open a tainted file name (it logs
    "Tainted filename" and fails the open with EACCES)."""
    import os
    import sys

    from pexim.cli import timestamp
    sys.stderr.write("%s Tainted filename '%s'\n" % (timestamp(), path))
    egid = 105 if os.geteuid() == 0 else os.getegid()   # exim runs as its group
    return "failed to open %s: Permission denied (euid=%d egid=%d)" % (path, os.geteuid(), egid)


class ReadFile(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        if ctx.forbid & RDO_READFILE:
            raise ExpansionError("file insertions are not permitted")
        subs = [a.ev(ctx) for a in self.args]
        path = subs[0]
        if isinstance(path, Tainted):
            raise ExpansionError(tainted_open(path))
        try:
            with open(path, "rb") as f:
                data = f.read().decode("latin-1")
        except OSError as e:
            raise ExpansionError("failed to open %s: %s" % (path, e.strerror)) from None
        return cat_lines(data, subs[1] if len(subs) > 1 else None)


def parse_readfile(p, name, i):
    args, i = p.subs(i, 2, 1, True, name)
    return ReadFile(args), i


def split_command(cmd: str) -> list[str]:
    """transport_set_up_command() argument splitting: white space, quotes."""
    args = []
    i = 0
    n = len(cmd)
    while True:
        while i < n and cmd[i] in SPACE:
            i += 1
        if i >= n:
            return args
        out = []
        if cmd[i] == '"':
            i += 1
            while i < n and cmd[i] != '"':
                if cmd[i] == "\\" and i + 1 < n:
                    from pexim.bytestr import interpret_escape
                    ch, i = interpret_escape(cmd, i)
                    out.append(ch)
                    continue
                out.append(cmd[i])
                i += 1
            i += 1
        elif cmd[i] == "'":
            j = cmd.find("'", i + 1)
            j = n if j < 0 else j
            out.append(cmd[i + 1:j])
            i = j + 1
        else:
            while i < n and cmd[i] not in SPACE:
                out.append(cmd[i])
                i += 1
        args.append("".join(out))


class Run(Node):
    __slots__ = ("raw", "cmd", "late", "yn")

    def __init__(self, raw, cmd, late, yn):
        self.raw, self.cmd, self.late, self.yn = raw, cmd, late, yn

    def ev(self, ctx):
        from . import compile_cached
        if ctx.forbid & RDO_RUN:
            raise ExpansionError("running a command is not permitted")
        if self.late:
            argv = [compile_cached(a).evaluate(ctx) for a in split_command(self.raw)]
            tainted = bool(argv) and isinstance(argv[0], Tainted)
        else:
            cmd = self.cmd.ev(ctx)
            argv = split_command(cmd)
            tainted = isinstance(cmd, Tainted)
        if tainted:
            import sys

            from pexim.cli import timestamp
            sys.stderr.write("%s Attempt to exec tainted path: '%s'\n" % (timestamp(), argv[0]))
            raise ExpansionError("couldn't create child process: Operation not permitted")
        try:
            if not argv:
                raise FileNotFoundError("")
            if not argv[0].startswith("/"):
                raise FileNotFoundError(argv[0])   # Exim uses execv(): no PATH search
            proc = subprocess.run([a.encode("latin-1") for a in argv], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, timeout=60, start_new_session=True)
        except subprocess.TimeoutExpired:
            raise ExpansionError("command timed out") from None
        except OSError:
            ctx.runrc = 127
            ctx.value = Tainted("")
            return self.yn.apply(ctx, False, ctx.value)
        rc = proc.returncode
        if rc < 0:
            raise ExpansionError("command killed by signal %d" % -rc)
        ctx.runrc = rc
        ctx.value = Tainted(proc.stdout.decode("latin-1"))
        return self.yn.apply(ctx, rc == 0, ctx.value)


def parse_run(p, name, i):
    late = True
    while p.ch(i) == ",":
        if p.s.startswith("preexpand", i + 1):
            late = False
            i += 10
        else:
            j = i + 1
            while j < p.n and p.s[j].isalpha():
                j += 1
            p.fail("bad option '%s' for run" % p.s[i + 1:j])
    i = p.skip_ws(i)
    if p.ch(i) != "{":
        p.curly("missing '{' for command arg of run")
    start = i + 1
    cmd, i = p.seq(start, True)
    raw = p.s[start:i]
    if not late:
        i = p.skip_ws(i)
    if p.ch(i) != "}":
        p.curly("missing '}' closing command arg of run")
    yn, i = p.yesno(i + 1, "run")
    return Run(raw, cmd, late, yn), i


class ReadSocket(Node):
    __slots__ = ("args", "failstr")

    def __init__(self, args, failstr):
        self.args, self.failstr = args, failstr

    def ev(self, ctx):
        import socket
        if ctx.forbid & RDO_READSOCK:
            raise ExpansionError("socket insertions are not permitted")
        subs = [a.ev(ctx) for a in self.args]
        spec, req = subs[0], subs[1]
        timeout = 5.0
        eol = None
        shutdown = True
        if len(subs) > 2:
            from ..lists import iter_list
            opts = list(iter_list(subs[2], ","))
            if opts:
                from pexim.config.timeval import read_time
                t = read_time(opts[0])
                if t >= 0:
                    timeout = float(t)
            for o in opts[1:]:
                if o == "shutdown=no":
                    shutdown = False
        if len(subs) > 3:
            eol = subs[3]
        try:
            if spec.startswith("inet:"):
                if ":" not in spec[5:]:
                    raise ExpansionError("")     # Exim 4.96 gives no reason
                host, _, port = spec[5:].rpartition(":")
                sock = socket.create_connection((host.strip("[]"), int(port)), timeout)
            else:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                sock.connect(spec)
            with sock:
                if req:
                    sock.sendall(req.encode("latin-1"))
                if shutdown:
                    sock.shutdown(socket.SHUT_WR)
                chunks = []
                while True:
                    b = sock.recv(65536)
                    if not b:
                        break
                    chunks.append(b)
            data = b"".join(chunks).decode("latin-1")
            return Tainted(cat_lines(data, eol))
        except (OSError, ValueError) as e:
            msg = "failed to connect to socket %s: %s" % (spec, getattr(e, "strerror", None) or e)
            if self.failstr is None:
                raise ExpansionError(msg) from None
            return self.failstr.ev(ctx)


def parse_readsocket(p, name, i):
    args, i = p.subs(i, 4, 2, False, name)
    failstr = None
    if p.ch(i) == "{":
        failstr, i = p.arg(i + 1)
        i = p.skip_ws(i)
    if p.ch(i) != "}":
        p.curly("missing '}' closing readsocket")
    return ReadSocket(args, failstr), i + 1


# --- prvs -------------------------------------------------------------------------

def prvs_daystamp(offset: int) -> str:
    days = str(int((time.time() + offset * 86400) // 86400))
    return days[-3:] if len(days) >= 3 else "100"


def prvs_hmac(address: str, key: str, keynum: str | None, daystamp: str) -> str | None:
    if len(key) > 64:
        return None
    src = (keynum or "0")[:1] + daystamp[:3] + address
    return _hmac.new(key.encode("latin-1"), src.encode("latin-1"), "sha1").hexdigest()[:6]


class Prvs(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        subs = [a.ev(ctx) for a in self.args]
        addr = subs[0]
        at = addr.rfind("@")
        if at <= 0 or at == len(addr) - 1:
            raise ExpansionError("prvs first argument must be a qualified email address")
        keynum = subs[2] if len(subs) > 2 else None
        if keynum is not None and not (len(keynum) == 1 and isdigit(keynum)):
            raise ExpansionError("prvs third argument must be a single digit")
        h = prvs_hmac(addr, subs[1], keynum, prvs_daystamp(7))
        if h is None:
            raise ExpansionError("prvs hmac-sha1 conversion failed")
        return "prvs=%s%s%s=%s@%s" % (keynum or "0", prvs_daystamp(7), h, addr[:at],
                                       addr[at + 1:])


def parse_prvs(p, name, i):
    args, i = p.subs(i, 3, 2, True, name)
    return Prvs(args), i


class PrvsCheck(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        import re
        pv = ctx.prvscheck
        pv.clear()
        addr = self.args[0].ev(ctx)
        m = re.match(r"prvs=([0-9])([0-9]{3})([A-F0-9]{6})=(.+)@(.+)\Z", addr, re.I | re.S)
        if not m:
            return ""
        keynum, day, hsh, local, domain = m.groups()
        save_n = ctx.nvars
        ctx.nvars = (m.group(0),) + m.groups()
        pv["prvscheck_address"] = local + "@" + domain
        pv["prvscheck_keynum"] = keynum
        try:
            secret = self.args[1].ev(ctx)
            own = prvs_hmac(pv["prvscheck_address"], secret, keynum, day)
            if own is None:
                raise ExpansionError("hmac-sha1 conversion failed")
            if own == hsh:
                inow = int(prvs_daystamp(0))
                iexp = int(day)
                if iexp < 7 and inow >= 993:
                    inow = 0
                pv["prvscheck_result"] = "1" if iexp >= inow else None
            else:
                pv["prvscheck_result"] = None
            third = self.args[2].ev(ctx) if len(self.args) > 2 else ""
            out = third or pv["prvscheck_address"]
        finally:
            ctx.nvars = save_n
        pv["prvscheck_address"] = None
        pv["prvscheck_keynum"] = None
        return out


def parse_prvscheck(p, name, i):
    args, i = p.subs(i, 3, 1, True, name)
    if len(args) < 2:
        p.curly("Not enough arguments for '%s' (min is 1)" % name)
    return PrvsCheck(args), i


# --- env, acl, misc ---------------------------------------------------------------------

class Env(Node):
    __slots__ = ("key", "yn")

    def __init__(self, key, yn):
        self.key, self.yn = key, yn

    def ev(self, ctx):
        save_v = ctx.value
        v = environment(ctx).get(self.key.ev(ctx))
        ctx.value = Tainted(v) if v is not None else None
        return self.yn.apply(ctx, v is not None, save_v)


def environment(ctx) -> dict[str, str]:
    """The environment Exim keeps: keep_environment names plus add_environment."""
    from ..lists import iter_list
    keep = ctx.main_option("keep_environment")
    env: dict[str, str] = {}
    if keep:
        import re
        for item in iter_list(str(keep)):
            for k, v in os.environ.items():
                if (re.search(item, k) if item.startswith("^") else k == item):
                    env[k] = v
    add = ctx.main_option("add_environment")
    if add:
        for item in iter_list(str(add)):
            k, eq, v = item.partition("=")
            if eq:
                env[k] = v
    return env


def parse_env(p, name, i):
    i = p.skip_ws(i)
    if p.ch(i) != "{":
        p.fail("")
    key, i = p.seq(i + 1, True)
    if p.ch(i) != "}":
        p.curly("missing '}' for name arg of env")
    yn, i = p.yesno(i + 1, "env")
    return Env(key, yn), i


def call_acl(ctx, subs: list[str]) -> tuple[str, str | None]:
    """Run an ACL with $acl_arg1.. set from ``subs[1:]``; returns (rc, message)."""
    if ctx.acl_eval is None:
        return "ERROR", None
    save = ctx.acl_args
    ctx.acl_args = list(subs[1:10])
    try:
        return ctx.acl_eval(subs[0], ctx.acl_args)
    finally:
        ctx.acl_args = save


class Acl(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        subs = [a.ev(ctx) for a in self.args]
        rc, msg = call_acl(ctx, subs)
        if rc in ("OK", "FAIL", "DISCARD", "FAIL_DROP"):
            return msg or ""
        err = "%s from acl \"%s\"" % (rc, subs[0])
        if rc == "DEFER":
            raise ForcedFail(err)
        raise ExpansionError(err)


def parse_acl(p, name, i):
    args, i = p.subs(i, 10, 1, True, name)
    return Acl(args), i


class Fixed(Node):
    """An item whose evaluation always fails with a fixed message."""

    __slots__ = ("args", "msg")

    def __init__(self, args, msg):
        self.args, self.msg = args, msg

    def ev(self, ctx):
        for a in self.args:
            a.ev(ctx)
        raise ExpansionError(self.msg)


def parse_perl(p, name, i):
    args, i = p.subs(i, 9, 1, True, name)
    return Fixed(args, "A setting of perl_startup is needed when using the Perl interpreter"), i


class Dlfunc(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        subs = [a.ev(ctx) for a in self.args]
        if os.path.exists(subs[0]):
            reason = "dynamically-loaded functions are not supported by pexim"
        else:
            reason = "%s: cannot open shared object file: No such file or directory" % subs[0]
        raise ExpansionError('dlopen "%s" failed: %s' % (subs[0], reason))


def parse_dlfunc(p, name, i):
    args, i = p.subs(i, 10, 2, True, name)
    return Dlfunc(args), i


class AuthResults(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        sysname = self.args[0].ev(ctx)
        out = ["Authentication-Results: ", sysname]
        v = ctx.values
        if v.get("authentication_local"):
            out.append(";\n\tlocal=pass (non-smtp, %s)" % sysname)
            if v.get("authenticated_id"):
                out.append(" u=%s" % v["authenticated_id"])
        host = v.get("sender_host_name")
        if host:
            out.append(";\n\tiprev=pass (%s)" % host)
        elif v.get("host_lookup_deferred") in (1, "1"):
            out.append(";\n\tiprev=temperror")
        elif v.get("host_lookup_failed") in (1, "1"):
            out.append(";\n\tiprev=fail")
        if (host or v.get("host_lookup_deferred") in (1, "1")
                or v.get("host_lookup_failed") in (1, "1")) and v.get("sender_host_address"):
            out.append(" smtp.remote-ip=%s" % v["sender_host_address"])
        for extra in ctx.extra.get("authres", ()):
            out.append(extra)
        return "".join(out)


def parse_authresults(p, name, i):
    args, i = p.subs(i, 1, 1, True, name)
    return AuthResults(args), i


class CertExtract(Node):
    __slots__ = ("field", "var", "yn")

    def __init__(self, field, var, yn):
        self.field, self.var, self.yn = field, var, yn

    def ev(self, ctx):
        from . import variables
        save_n, save_v = ctx.nvars, ctx.value
        self.field.ev(ctx)
        name = self.var.ev(ctx)
        if variables.find(name) is None:
            raise ExpansionError('no variable named "%s"' % name)
        if name not in variables.CERT_VARIABLES:
            raise ExpansionError('"%s" is not a certificate' % name)
        ctx.value = None
        try:
            return self.yn.apply(ctx, False, save_v)
        finally:
            ctx.nvars = save_n


def parse_certextract(p, name, i):
    i = p.skip_ws(i)
    if p.ch(i) != "{":
        p.curly("missing '{' for field arg of certextract")
    field, i = p.seq(i + 1, True)
    if p.ch(i) != "}":
        p.curly("missing '}' closing field arg of certextract")
    i = p.skip_ws(i + 1)
    if p.ch(i) != "{":
        p.curly("missing '{' for cert variable arg of certextract")
    if p.ch(i + 1) != "$":
        p.fail('second argument of "certextract" must be a certificate variable')
    var, i = p.seq(i + 2, True, dollar=False)
    if p.ch(i) != "}":
        p.curly("missing '}' closing cert variable arg of certextract")
    yn, i = p.yesno(i + 1, "certextract")
    return CertExtract(field, var, yn), i


class ImapFolder(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        from .i18n import imap_utf7_encode
        subs = [a.ev(ctx) for a in self.args]
        if len(subs) == 1:
            subs += ["/"]
        elif len(subs[1]) != 1:
            raise ExpansionError('IMAP folder separator must be one character, found "%s"'
                                 % subs[1])
        charset = ctx.main_option("headers_charset") or "ISO-8859-1"
        return imap_utf7_encode(subs[0], charset, subs[1], subs[2] if len(subs) > 2 else None)


def parse_imapfolder(p, name, i):
    args, i = p.subs(i, 3, 1, True, name)
    return ImapFolder(args), i


class SrsEncode(Node):
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args

    def ev(self, ctx):
        from .address import extract_address
        secret, rp, orig = (a.ev(ctx) for a in self.args)
        if not rp:
            return ""
        ck = _hmac.new(secret.encode("latin-1"), lower(rp).encode("latin-1"),
                       hashlib.md5).hexdigest()[:4]
        day = int(time.time() // 86400) & 0x3FF
        b32 = "abcdefghijklmnopqrstuvwxyz234567"
        addr, err, dom = extract_address(rp)
        if addr is None:
            raise ExpansionError(err)
        local = addr[:dom - 1] if dom > 0 else addr
        quoted = '"' in local
        if quoted:
            local = local.replace('"', "")
        core = "SRS0=%s=%s%s=%s=%s" % (ck, b32[day >> 5], b32[day & 31],
                                      addr[dom:] if dom > 0 else "", local)
        if quoted:
            core = '"%s"' % core
        return core + "@" + orig


def parse_srs_encode(p, name, i):
    args, i = p.subs(i, 3, 3, True, name)
    return SrsEncode(args), i


ITEMS = {
    "acl": parse_acl,
    "authresults": parse_authresults,
    "certextract": parse_certextract,
    "dlfunc": parse_dlfunc,
    "env": parse_env,
    "extract": parse_extract,
    "filter": parse_listop,
    "hash": parse_hashitem,
    "hmac": parse_hmac,
    "if": parse_if,
    "imapfolder": parse_imapfolder,
    "length": parse_hashitem,
    "listextract": parse_listextract,
    "listquote": parse_listquote,
    "lookup": parse_lookup,
    "map": parse_listop,
    "nhash": parse_hashitem,
    "perl": parse_perl,
    "prvs": parse_prvs,
    "prvscheck": parse_prvscheck,
    "readfile": parse_readfile,
    "readsocket": parse_readsocket,
    "reduce": parse_listop,
    "run": parse_run,
    "sg": parse_sg,
    "sort": parse_sort,
    "srs_encode": parse_srs_encode,
    "substr": parse_hashitem,
    "tr": parse_tr,
}

__all__ = ["ITEMS", "YesNo", "Seq"]
