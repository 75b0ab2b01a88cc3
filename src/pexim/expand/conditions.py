"""Conditions for ${if}, ${filter} and forall/forany: parsing and tests.

Each condition node has ``test(ctx) -> bool`` with any leading ``!``s
already folded in (``want``), so evaluation does no extra bookkeeping.
"""

from __future__ import annotations

import hashlib
import os

from pexim.bytestr import SPACE, isalpha, strcmpic

from .. import lists as _lists
from . import arith, regex
from .errors import ExpansionError, ForcedFail
from .ip import ip_version as _ip_version

NAMES = (
    "<", "<=", "=", "==", ">", ">=", "acl", "and", "bool", "bool_lax", "crypteq", "def",
    "eq", "eqi", "exists", "first_delivery", "forall", "forall_json", "forall_jsons",
    "forany", "forany_json", "forany_jsons", "ge", "gei", "gt", "gti", "inbound_srs",
    "inlist", "inlisti", "isip", "isip4", "isip6", "ldapauth", "le", "lei", "lt", "lti",
    "match", "match_address", "match_domain", "match_ip", "match_local_part", "or", "pam",
    "pwcheck", "queue_running", "radius", "saslauthd",
)
_KNOWN = frozenset(NAMES)


def _suffixed(e: ExpansionError, suffix: str) -> ExpansionError:
    return type(e)(e.message + suffix)


class Cond:
    __slots__ = ("want",)

    def test(self, ctx) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


class Def(Cond):
    __slots__ = ("name", "getter", "header")

    def __init__(self, want, name, getter, header):
        self.want, self.name, self.getter, self.header = want, name, getter, header

    def test(self, ctx):
        if self.header is not None:
            from .headers import find_header
            return (find_header(ctx, self.name, exists_only=True) is not None) == self.want
        v = self.getter(ctx, self.name)
        if v is None:
            from .variables import unknown_suffix
            raise ExpansionError('unknown variable "%s" after "def:"' % self.name
                                 + unknown_suffix(self.name))
        return (v != "") == self.want


class Flag(Cond):
    __slots__ = ("name",)

    def __init__(self, want, name):
        self.want, self.name = want, name

    def test(self, ctx):
        if self.name == "first_delivery":
            v = ctx.values.get("first_delivery", False)
        else:
            v = ctx.values.get("queue_running", False)
        return bool(v) == self.want


class OneArg(Cond):
    __slots__ = ("name", "arg")

    def __init__(self, want, name, arg):
        self.want, self.name, self.arg = want, name, arg

    def test(self, ctx):
        s = self.arg.ev(ctx)
        name = self.name
        if name == "exists":
            from .items import RDO_EXISTS
            if ctx.forbid & RDO_EXISTS:
                raise ExpansionError("File existence tests are not permitted")
            return os.path.exists(s) == self.want
        if name.startswith("isip"):
            from .ip import ip_version
            v = ip_version(s)
            r = v != 0 if name == "isip" else v == (4 if name == "isip4" else 6)
            return r == self.want
        if name in ("pam", "ldapauth"):
            hook = ctx.extra.get("auth_" + name)
            if hook is None:
                if name == "ldapauth":
                    if s.lstrip()[:4].lower() == "ldap":
                        raise ExpansionError("ldapauth lookups must specify the username "
                                             "and password")
                    raise ExpansionError("malformed parameter setting precedes LDAP URL")
                return not self.want
            return bool(hook(s)) == self.want
        raise ExpansionError('support for "%s" not compiled' % name)


def _num(s: str) -> int:
    return 0 if s == "" else arith.to_integer(s)


_STRCMP = {
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "eq": lambda a, b: a == b,
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
}
_NUMCMP = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
    "==": lambda a, b: a == b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _bytes_lt(a: str, b: str) -> bool:
    return a < b


class TwoArg(Cond):
    __slots__ = ("name", "a", "b", "fixed_re")

    def __init__(self, want, name, a, b):
        self.want, self.name, self.a, self.b = want, name, a, b
        self.fixed_re = None
        if name == "match":
            lit = b.literal()
            if lit is not None:
                try:
                    self.fixed_re = regex.compile_pcre(lit)
                except ExpansionError:
                    pass

    def test(self, ctx):
        name = self.name
        a = self.a.ev(ctx)
        if not isalpha(name[0]):
            x = _num(a)
            y = _num(self.b.ev(ctx))
            return _NUMCMP[name](x, y) == self.want
        b = self.b.ev(ctx)
        if name in _STRCMP:
            return _STRCMP[name](a, b) == self.want
        if name.endswith("i") and name[:-1] in _STRCMP:
            c = strcmpic(a, b)
            return _STRCMP[name[:-1]](c, 0) == self.want
        if name == "match":
            rx = self.fixed_re or regex.compile_pcre(b)
            m = rx.search(a)
            if m:
                ctx.nvars = regex.groups(m)
            return bool(m) == self.want
        if name in ("inlist", "inlisti"):
            found = False
            for item in _lists.list_items(b) if b else ():
                if (item == a) if name == "inlist" else strcmpic(item, a) == 0:
                    found = True
                    ctx.value = item
                    break
            return found == self.want
        if name == "crypteq":
            return crypteq(a, b) == self.want
        lists = _lists
        if name == "match_ip":
            if a and _ip_version(a) == 0:
                raise ExpansionError('"%s" is not an IP address' % a)
        try:
            ok, value = lists.match_condition(ctx, name, a, b)
        except lists.ListDefer as e:
            raise ExpansionError('unable to complete match against "%s": %s'
                                 % (b, e.message)) from None
        if ok and value is not None:
            ctx.value = value
        return ok == self.want


def crypteq(plain: str, enc: str) -> bool:
    import base64
    low = enc.lower()
    pb = plain.encode("latin-1")
    if low.startswith("{md5}"):
        digest = hashlib.md5(pb).digest()
        rest = enc[5:]
        if len(rest) == 24:
            return base64.b64encode(digest).decode() == rest
        if len(rest) == 32:
            return digest.hex().lower() == rest.lower()
        return False
    if low.startswith("{sha1}"):
        digest = hashlib.sha1(pb).digest()
        rest = enc[6:]
        if len(rest) == 28:
            return base64.b64encode(digest).decode() == rest
        if len(rest) == 40:
            return digest.hex().lower() == rest.lower()
        return False
    which = "default"
    if low.startswith("{crypt}"):
        enc, which = enc[7:], "crypt"
    elif low.startswith("{crypt16}"):
        enc, which = enc[9:], "crypt16"
    elif enc.startswith("{"):
        raise ExpansionError('unknown encryption mechanism in "%s"' % enc)
    if len(enc) < 2:
        return False
    from .crypt import crypt, crypt16
    coded = crypt16(plain, enc) if which == "crypt16" else crypt(plain, enc)
    return coded == enc


class AndOr(Cond):
    __slots__ = ("name", "subs")

    def __init__(self, want, name, subs):
        self.want, self.name, self.subs = want, name, subs

    def test(self, ctx):
        is_and = self.name == "and"
        result = is_and
        for c in self.subs:
            try:
                r = c.test(ctx)
            except ExpansionError as e:
                raise _suffixed(e, ' inside "%s{...}" condition' % self.name) from None
            if is_and and not r:
                result = False
                break
            if not is_and and r:
                result = True
                break
        return result == self.want


class ForMany(Cond):
    __slots__ = ("name", "lst", "cond", "any", "json", "jsons")

    def __init__(self, want, name, lst, cond):
        self.want, self.name, self.lst, self.cond = want, name, lst, cond
        self.any = name.startswith("forany")
        self.json = name.endswith(("_json", "_jsons"))
        self.jsons = name.endswith("_jsons")

    def test(self, ctx):
        from ..lists import iter_list
        from .items import dewrap, json_items
        lst = self.lst.ev(ctx)
        save = ctx.item
        result = not self.want
        try:
            if self.json:
                items = json_items(dewrap(lst, "[]"))
            else:
                items = iter_list(lst)
            for item in items:
                if self.jsons:
                    try:
                        item = dewrap(item, '""')
                    except ExpansionError as e:
                        raise type(e)("%s wrapping string result for extract jsons"
                                      % e.message) from None
                ctx.item = item
                try:
                    r = self.cond.test(ctx)
                except ExpansionError as e:
                    raise _suffixed(e, ' inside "%s" condition' % self.name) from None
                result = r == self.want
                if r == self.any:
                    break
        finally:
            ctx.item = save
        return result


class Bool(Cond):
    __slots__ = ("name", "arg")

    def __init__(self, want, name, arg):
        self.want, self.name, self.arg = want, name, arg

    def test(self, ctx):
        t = self.arg.ev(ctx).strip(SPACE)
        lax = self.name == "bool_lax"
        if not t:
            v = False
        elif (t[1:] if t[0] == "-" else t).isdigit() and t.isascii():
            v = int(t) != 0
            if lax and len(t) > 1:
                v = True
        elif strcmpic(t, "true") == 0 or strcmpic(t, "yes") == 0:
            v = True
        elif strcmpic(t, "false") == 0 or strcmpic(t, "no") == 0:
            v = False
        elif lax:
            v = True
        else:
            raise ExpansionError('unrecognised boolean value "%s"' % t)
        return v == self.want


class AclCond(Cond):
    __slots__ = ("args",)

    def __init__(self, want, args):
        self.want, self.args = want, args

    def test(self, ctx):
        from .items import call_acl
        subs = [a.ev(ctx) for a in self.args]
        rc, msg = call_acl(ctx, subs)
        if rc in ("OK", "FAIL"):
            ctx.value = msg
            return (rc == "OK") == self.want
        err = '%s from acl "%s"' % (rc, subs[0])
        if rc == "DEFER":
            raise ForcedFail(err)
        raise ExpansionError(err)


class Unsupported(Cond):
    __slots__ = ("name", "args", "msg")

    def __init__(self, want, name, args, msg):
        self.want, self.name, self.args, self.msg = want, name, args, msg

    def test(self, ctx):
        for a in self.args:
            a.ev(ctx)
        if self.msg is None:
            return not self.want
        raise ExpansionError(self.msg)


def identify(p, i: int) -> tuple[str, int]:
    """identify_operator(): a symbolic or named condition at i."""
    c = p.ch(i)
    if c in ("=", ">", "<") and c:
        if p.ch(i + 1) == "=":
            return c + "=", i + 2
        return c, i + 1
    name, j = p.read_name(i, "_")
    if not name:
        p.fail('condition name expected, but found "%s"' % p.s[i:i + 16])
    return name, j


def parse_condition(p, i: int):
    want = True
    while True:
        i = p.skip_ws(i)
        if p.ch(i) == "!":
            want = not want
            i += 1
        else:
            break
    name, i = identify(p, i)
    if name not in _KNOWN:
        p.fail('unknown condition "%s"' % name)

    def curly_start():
        p.fail('missing { after "%s"' % name)

    def curly_end():
        p.fail('missing } at end of "%s" condition' % name)

    if name == "def":
        from . import variables
        if p.ch(i) != ":":
            p.fail('":" expected after "def"')
        vname, i = p.read_name(i + 1, "_")
        kind = p.header_kind(vname) if vname else None
        if kind is not None:
            hname, i = p.header_name(vname, i)
            if "}" in hname:
                p.malformed_header = True
            return Def(want, hname, None, kind), i
        getter = variables.find(vname) if vname else None
        if getter is None:
            if not vname:
                p.fail('variable name omitted after "def:"')
            p.fail('unknown variable "%s" after "def:"' % vname + variables.unknown_suffix(vname))
        return Def(want, vname, getter, None), i

    if name in ("first_delivery", "queue_running"):
        return Flag(want, name), i

    if name in ("exists", "isip", "isip4", "isip6", "pam", "radius", "ldapauth", "pwcheck"):
        i = p.skip_ws(i)
        if p.ch(i) != "{":
            curly_start()
        arg, i = p.seq(i + 1, True)
        if p.ch(i) != "}":
            curly_end()
        return OneArg(want, name, arg), i + 1

    if name in ("acl", "saslauthd", "inbound_srs"):
        i = p.skip_ws(i)
        if name != "inbound_srs":
            if p.ch(i) != "{":
                curly_start()
            i += 1
        n, m = {"acl": (10, 1), "saslauthd": (4, 2), "inbound_srs": (2, 2)}[name]
        try:
            args, i = p.subs(i, n, m, name != "inbound_srs", name)
        except ExpansionError as e:
            if "Not enough arguments" in e.message or "missing '}'" in e.message:
                p.fail("too few arguments or bracketing error for %s" % name)
            raise
        if name == "acl":
            return AclCond(want, args), i
        if name == "saslauthd":
            return Unsupported(want, name, args, "cannot connect to saslauthd daemon at "
                               "/var/run/saslauthd/mux: No such file or directory"), i
        return Unsupported(want, name, args, None), i

    if name in ("and", "or"):
        i = p.skip_ws(i)
        if p.ch(i) != "{":
            curly_start()
        i += 1
        subs = []
        while True:
            i = p.skip_ws(i)
            if p.ch(i) == "}":
                break
            if p.ch(i) != "{":
                p.fail('each subcondition inside an "%s{...}" condition must be in its own {}'
                       % name)
            try:
                c, i = parse_condition(p, i + 1)
            except ExpansionError as e:
                raise _suffixed(e, ' inside "%s{...}" condition' % name) from None
            subs.append(c)
            i = p.skip_ws(i)
            if p.ch(i) != "}":
                p.fail('missing } at end of condition inside "%s" group' % name)
            i += 1
        return AndOr(want, name, subs), i + 1

    if name.startswith(("forall", "forany")):
        i = p.skip_ws(i)
        if p.ch(i) != "{":
            curly_start()
        lst, i = p.seq(i + 1, True)
        if p.ch(i) != "}":
            curly_end()
        i = p.skip_ws(i + 1)
        if p.ch(i) != "{":
            curly_start()
        try:
            c, i = parse_condition(p, i + 1)
        except ExpansionError as e:
            raise _suffixed(e, ' inside "%s" condition' % name) from None
        i = p.skip_ws(i)
        if p.ch(i) != "}":
            p.fail('missing } at end of condition inside "%s"' % name)
        return ForMany(want, name, lst, c), i + 1

    if name in ("bool", "bool_lax"):
        i = p.skip_ws(i)
        if p.ch(i) != "{":
            curly_start()
        try:
            args, i = p.subs(i, 1, 1, False, name)
        except ExpansionError:
            p.fail("too few arguments or bracketing error for %s" % name)
        return Bool(want, name, args[0]), i

    # two-argument conditions
    args = []
    for k in (0, 1):
        i = p.skip_ws(i)
        if p.ch(i) != "{":
            if k == 0:
                curly_start()
            p.fail('missing 2nd string in {} after "%s"' % name)
        dollar = not (k == 1 and name.startswith("match_"))
        arg, i = p.seq(i + 1, True, dollar)
        if p.ch(i) != "}":
            curly_end()
        i += 1
        args.append(arg)
    return TwoArg(want, name, args[0], args[1]), i


def sort_comparator(p, text: str, i: int):
    """The ``before(a, b)`` function for ${sort}'s comparator name."""
    t = text.lstrip(SPACE)
    c = t[:1]
    if c in ("=", ">", "<") and c:
        name = c + "=" if t[1:2] == "=" else c
    else:
        j = 0
        while j < len(t) and (t[j].isascii() and t[j].isalnum() or t[j] == "_"):
            j += 1
        name = t[:j]
        if not name:
            p.fail('condition name expected, but found "%s"' % t[:16])
    if name not in _KNOWN:
        p.fail("")
    if name in ("<", "<=", ">", ">="):
        f = _NUMCMP[name]
        return lambda a, b: f(_num_quiet(a), _num_quiet(b))
    base = name[:-1] if name.endswith("i") and name[:-1] in _STRCMP else name
    if base in ("lt", "le", "gt", "ge"):
        f = _STRCMP[base]
        if base != name:
            return lambda a, b: f(strcmpic(a, b), 0)
        return f
    p.fail("comparator not handled for sort")


def _num_quiet(s: str) -> int:
    try:
        return arith.to_integer(s)
    except ExpansionError:
        return 0
