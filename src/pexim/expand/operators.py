"""Expansion operators: ${name:subject} and ${name_args:subject}.

``OPERATORS`` maps each name Exim 4.96 knows to ``fn(ctx, sub, arg, name)``;
``arg`` is the text after the first underscore (``substr_1_2`` -> ``1_2``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import random
import stat as _stat

from pexim.bytestr import lower, printing, upper
from pexim.config.timeval import print_time, read_time

from . import arith, i18n, ip, rfc2047
from .errors import ExpansionError
from .nodes import Node
from .taint import Tainted, like

UNDERSCORE_NAMES = {
    "from_utf8", "local_part", "quote_local_part", "reverse_ip", "time_eval", "time_interval",
    "utf8_domain_from_alabel", "utf8_domain_to_alabel", "utf8_localpart_from_alabel",
    "utf8_localpart_to_alabel",
}

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _b(s: str) -> bytes:
    return s.encode("latin-1")


def op_address(ctx, sub, arg, name):
    from .address import extract_address
    addr, _, dom = extract_address(sub)
    if addr is None:
        return ""
    if name == "domain":
        return addr[dom:] if dom > 0 else ""
    if name == "local_part" and dom > 0:
        return addr[:dom - 1]
    return addr


def op_addresses(ctx, sub, arg, name):
    from .address import extract_address, split_addresses
    outsep = ":"
    s = sub.lstrip(" \t\n\r\v\f")
    if s.startswith(">"):
        if len(s) < 2:
            raise ExpansionError("output separator missing in expanding ${addresses:%s}" % s)
        outsep = s[1]
        s = s[2:]
    out: list[str] = []
    for piece in split_addresses(s):
        addr, _, _ = extract_address(piece, True)
        if not addr:
            continue
        if out and addr[0] == outsep:
            out.append(" ")
        out.append(addr.replace(outsep, outsep + outsep))
        out.append(outsep)
    if out:
        out.pop()
    return "".join(out)


def _ulong(sub: str, what: str) -> int:
    s = sub.lstrip(" \t\n\r\v\f")
    neg = s.startswith("-")
    digits = s[1:] if s[:1] in "+-" and s else s
    if not digits.isdigit() or not digits.isascii():
        if sub == "":
            return 0
        raise ExpansionError('argument for %s operator is "%s", which is not a decimal number'
                             % (what, sub))
    v = int(digits) & ((1 << 64) - 1)
    return (-v) & ((1 << 64) - 1) if neg else v


def op_base32(ctx, sub, arg, name):
    n = _ulong(sub, "base32")
    out = []
    while n:
        out.append(BASE32[n & 31])
        n >>= 5
    return "".join(reversed(out))


def _decode_base(sub, alphabet, what, base):
    n = 0
    for ch in sub:
        k = alphabet.find(ch)
        if k < 0 or not ch:
            raise ExpansionError('argument for %s operator is "%s", which is not a base %d number'
                                 % (what, sub, base))
        n = (n * base + k) & ((1 << 64) - 1)
    return str(n - (1 << 64) if n >> 63 else n)


def op_base32d(ctx, sub, arg, name):
    return _decode_base(sub, BASE32, "base32d", 32)


def op_base62(ctx, sub, arg, name):
    n = _ulong(sub, "base62")
    out = []
    for _ in range(6):
        out.append(BASE62[n % 62])
        n //= 62
    return "".join(reversed(out))


def op_base62d(ctx, sub, arg, name):
    return _decode_base(sub, BASE62, "base62d", 62)


def op_base64(ctx, sub, arg, name):
    return base64.b64encode(_b(sub)).decode("ascii")


def op_base64d(ctx, sub, arg, name):
    s = "".join(sub.split())
    try:
        data = base64.b64decode(_b(s), validate=True)
    except (binascii.Error, ValueError):
        raise ExpansionError('string "%s" is not well-formed for "%s" operator'
                             % (sub, name)) from None
    return like(sub, data.decode("latin-1"))


def op_escape(ctx, sub, arg, name):
    return like(sub, printing(sub))


def op_escape8bit(ctx, sub, arg, name):
    return like(sub, "".join(c if ord(c) < 127 and c != "\\" else "\\%03o" % ord(c)
                             for c in sub))


def op_eval(ctx, sub, arg, name):
    return str(arith.eval_expr(sub, name == "eval10"))


def op_expand(ctx, sub, arg, name):
    from . import compile_cached
    try:
        if isinstance(sub, Tainted):
            raise ExpansionError("attempt to expand tainted string '%s'" % sub)
        return compile_cached(sub).evaluate(ctx)
    except ExpansionError as e:
        raise type(e)('internal expansion of "%s" failed: %s' % (sub, e.message)) from None


def _numargs(name: str, arg: str | None, length: bool) -> tuple[int, int]:
    """The _m_n numbers of substr/hash/nhash/length, read as expand.c does."""
    if arg is None:
        raise ExpansionError("missing values after %s" % name)
    vals = [0, 0 if length else -1]
    which = 1 if length else 0
    sign = 1
    if not length and name[0] == "s" and arg.startswith("-"):
        sign = -1
        arg = arg[1:]
    k = 0
    n = len(arg)
    while k < n:
        c = arg[k]
        if k > 0 and c == "_" and which == 0:
            which = 1
            vals[1] = 0
            if k + 1 < n:
                k += 1
            continue
        if not ("0" <= c <= "9"):
            raise ExpansionError('non-digit after underscore in "%s"' % name)
        vals[which] = vals[which] * 10 + ord(c) - 48
        k += 1
    return vals[0] * sign, vals[1]


def op_hashlike(ctx, sub, arg, name):
    from .items import compute_hash, compute_nhash, extract_substr
    base = name.split("_", 1)[0]
    full = name
    if base in ("l", "length"):
        v1, v2 = _numargs(full, arg, True)
        return like(sub, extract_substr(sub, 0, v2))
    v1, v2 = _numargs(full, arg, False)
    if base in ("h", "hash"):
        return compute_hash(sub, v1, v2)
    if base in ("nh", "nhash"):
        return compute_nhash(sub, v1, v2)
    return like(sub, extract_substr(sub, v1, v2))


def op_hex2b64(ctx, sub, arg, name):
    if any(c not in "0123456789abcdefABCDEF" for c in sub):
        raise ExpansionError('"%s" is not a hex string' % sub)
    if len(sub) & 1:
        raise ExpansionError('"%s" contains an odd number of characters' % sub)
    return base64.b64encode(bytes.fromhex(sub)).decode("ascii")


def op_hexquote(ctx, sub, arg, name):
    return like(sub, "".join(c if 0x21 <= ord(c) <= 0x7E else "\\x%02x" % ord(c) for c in sub))


def op_ipv6norm(ctx, sub, arg, name):
    version = ip.ip_version(sub)
    if version == 0:
        raise ExpansionError('"%s" is not an IP address' % sub)
    v, value = ip.to_int(sub)
    if v == 4:
        value |= 0xFFFF << 32
    if name == "ipv6norm":
        return ip.normal_v6(value) if value else ":"   # Exim 4.96 prints ":" for ::
    return ip.dotted(6, value, ":")


def op_case(ctx, sub, arg, name):
    return like(sub, lower(sub) if name == "lc" else upper(sub))


def op_listcount(ctx, sub, arg, name):
    from ..lists import iter_list
    return str(sum(1 for _ in iter_list(sub)))


def op_listnamed(ctx, sub, arg, name):
    from ..lists import listnamed
    return listnamed(ctx, sub, arg)


def op_mask(ctx, sub, arg, name):
    version, off = ip.is_ip_address(sub)
    if version == 0:
        raise ExpansionError('"%s" is not an IP address' % sub)
    if off == 0:
        raise ExpansionError('missing mask value in "%s"' % sub)
    m = sub[off + 1:] or "0"
    width = 32 if version == 4 else 128
    if not m.isdigit() or int(m) > width:
        raise ExpansionError('mask value too big in "%s"' % sub)
    bits = int(m)
    _, value = ip.to_int(sub[:off])
    value = ip.mask_int(value, bits, width)
    if version == 6 and arg and arg.startswith("n"):
        return "%s/%d" % (ip.normal_v6(value), bits)
    return "%s/%d" % (ip.dotted(version, value), bits)


def op_md5(ctx, sub, arg, name):
    return hashlib.md5(_b(sub)).hexdigest()


def op_sha1(ctx, sub, arg, name):
    return hashlib.sha1(_b(sub)).hexdigest().upper()


def op_sha2(ctx, sub, arg, name):
    bits = arg if name == "sha2" else None
    algo = {None: "sha256", "256": "sha256", "384": "sha384", "512": "sha512"}.get(bits)
    if algo is None:
        raise ExpansionError("unrecognised sha2 variant")
    return hashlib.new(algo, _b(sub)).hexdigest().upper()


def op_sha3(ctx, sub, arg, name):
    algo = {None: "sha3_256", "224": "sha3_224", "256": "sha3_256", "384": "sha3_384",
            "512": "sha3_512"}.get(arg)
    if algo is None:
        raise ExpansionError("unrecognised sha3 variant")
    return hashlib.new(algo, _b(sub)).hexdigest().upper()


def _quote_body(sub: str) -> str:
    out = ['"']
    for c in sub:
        if c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        else:
            if c in '\\"':
                out.append("\\")
            out.append(c)
    out.append('"')
    return "".join(out)


_LP_OK = set("!#$%&'*+-/=?^_`{|}~")


def op_quote(ctx, sub, arg, name):
    if arg is not None and name.startswith("quote_") and name != "quote_local_part":
        from ..lookups import quote_for
        lt, _, opt = arg.partition("_")
        return like(sub, quote_for(lt, opt or None, sub))
    if name == "quote":
        needs = not sub or any(not (c.isascii() and c.isalnum()) and c not in "_-." for c in sub)
    else:
        needs = not sub
        for k, c in enumerate(sub):
            if not (c.isascii() and c.isalnum()) and c not in _LP_OK and \
                    (c != "." or k == 0 or k == len(sub) - 1):
                needs = True
                break
    return like(sub, _quote_body(sub) if needs else sub)


def op_randint(ctx, sub, arg, name):
    mx = arith.to_integer(sub, True)
    if mx <= 0:
        return "0"
    return str(random.randrange(mx))


def op_rfc2047(ctx, sub, arg, name):
    charset = ctx.headers_charset or ctx.main_option("headers_charset") or "ISO-8859-1"
    return like(sub, rfc2047.encode(sub, charset))


def op_rfc2047d(ctx, sub, arg, name):
    charset = ctx.headers_charset or ctx.main_option("headers_charset") or "ISO-8859-1"
    return like(sub, rfc2047.decode(sub, charset))


def op_rxquote(ctx, sub, arg, name):
    return like(sub, "".join(c if c.isascii() and c.isalnum() else "\\" + c for c in sub))


_MODES = ("---", "--x", "-w-", "-wx", "r--", "r-x", "rw-", "rwx")


def op_stat(ctx, sub, arg, name):
    try:
        st = os.stat(sub)
    except OSError as e:
        raise ExpansionError("stat(%s) failed: %s" % (sub, e.strerror)) from None
    mode = st.st_mode
    kind = {_stat.S_IFIFO: "p", _stat.S_IFCHR: "c", _stat.S_IFDIR: "d", _stat.S_IFBLK: "b",
            _stat.S_IFREG: "-"}.get(_stat.S_IFMT(mode), "?")
    perms = []
    for shift, special, lo, up in ((6, 0o4000, "s", "S"), (3, 0o2000, "s", "S"),
                                   (0, 0o1000, "t", "T")):
        bits = _MODES[(mode >> shift) & 7]
        if mode & special:
            bits = bits[:2] + (lo if bits[2] == "x" else up)
        perms.append(bits)
    return ("mode=%04o smode=%s%s inode=%d device=%d links=%d uid=%d gid=%d size=%d "
            "atime=%d mtime=%d ctime=%d" % (
                mode & 0o77777, kind, "".join(perms), st.st_ino, st.st_dev, st.st_nlink,
                st.st_uid, st.st_gid, st.st_size, int(st.st_atime), int(st.st_mtime),
                int(st.st_ctime)))


def op_str2b64(ctx, sub, arg, name):
    return base64.b64encode(_b(sub)).decode("ascii")


def op_strlen(ctx, sub, arg, name):
    return str(len(sub))


def op_time_eval(ctx, sub, arg, name):
    n = read_time(sub)
    if n < 0:
        raise ExpansionError('string "%s" is not an Exim time interval in "%s" operator'
                             % (sub, name))
    return str(n)


def op_time_interval(ctx, sub, arg, name):
    if not sub.isdigit() or not sub.isascii():
        if sub:
            raise ExpansionError('string "%s" is not a positive number in "%s" operator'
                                 % (sub, name))
    return print_time(int(sub or "0") & 0x7FFFFFFF)


def op_from_utf8(ctx, sub, arg, name):
    return like(sub, i18n.from_utf8(sub))


def op_utf8clean(ctx, sub, arg, name):
    return like(sub, i18n.utf8clean(sub))


def _alabel(fn, direction):
    def op(ctx, sub, arg, name):
        try:
            return like(sub, fn(sub))
        except ExpansionError as e:
            raise ExpansionError("error converting %s (%s) to %s: %s"
                                 % (direction[0], printing(sub), direction[1], e.message)) \
                from None
    return op


def op_reverse_ip(ctx, sub, arg, name):
    if ip.is_ip_address(sub)[0] == 0:
        raise ExpansionError("reverse_ip() not given an IP address [%s]" % sub)
    return ip.reverse(sub)


OPERATORS = {
    "address": op_address, "addresses": op_addresses, "base32": op_base32,
    "base32d": op_base32d, "base62": op_base62, "base62d": op_base62d, "base64": op_base64,
    "base64d": op_base64d, "domain": op_address, "escape": op_escape,
    "escape8bit": op_escape8bit, "eval": op_eval, "eval10": op_eval, "expand": op_expand,
    "h": op_hashlike, "hash": op_hashlike, "hex2b64": op_hex2b64, "hexquote": op_hexquote,
    "ipv6denorm": op_ipv6norm, "ipv6norm": op_ipv6norm, "l": op_hashlike, "lc": op_case,
    "length": op_hashlike, "listcount": op_listcount, "listnamed": op_listnamed,
    "mask": op_mask, "md5": op_md5, "nh": op_hashlike, "nhash": op_hashlike,
    "quote": op_quote, "randint": op_randint, "rfc2047": op_rfc2047, "rfc2047d": op_rfc2047d,
    "rxquote": op_rxquote, "s": op_hashlike, "sha1": op_sha1, "sha2": op_sha2,
    "sha256": op_sha2, "sha3": op_sha3, "stat": op_stat, "str2b64": op_str2b64,
    "strlen": op_strlen, "substr": op_hashlike, "uc": op_case, "utf8clean": op_utf8clean,
    # names containing an underscore
    "from_utf8": op_from_utf8, "local_part": op_address, "quote_local_part": op_quote,
    "reverse_ip": op_reverse_ip, "time_eval": op_time_eval,
    "time_interval": op_time_interval,
    "utf8_domain_from_alabel": _alabel(i18n.domain_from_alabel, ("alabel", "utf8")),
    "utf8_domain_to_alabel": _alabel(i18n.domain_to_alabel, ("utf8", "alabel")),
    "utf8_localpart_from_alabel": _alabel(i18n.localpart_from_alabel, ("alabel", "utf8")),
    "utf8_localpart_to_alabel": _alabel(i18n.localpart_to_alabel, ("utf8", "alabel")),
}


class Op(Node):
    __slots__ = ("fn", "sub", "arg", "name")

    def __init__(self, fn, sub, arg, name):
        self.fn, self.sub, self.arg, self.name = fn, sub, arg, name

    def ev(self, ctx):
        return self.fn(ctx, self.sub.ev(ctx), self.arg, self.name)


class CertOp(Node):
    """md5/sha1/sha256/base64 of a certificate variable (its fingerprint)."""

    __slots__ = ("fn", "var", "name")

    def __init__(self, fn, var, name):
        self.fn, self.var, self.name = fn, var, name

    def ev(self, ctx):
        cert = ctx.values.get(self.var)
        fp = ctx.extra.get("cert_fingerprint")
        if cert and fp is not None:
            return fp(cert, self.name)
        return self.fn(ctx, self.var, None, self.name)


def resolve(name: str) -> tuple[object, str | None]:
    """(function or None, argument text) for operator ``name``."""
    if name in UNDERSCORE_NAMES:
        return OPERATORS[name], None
    base, us, arg = name.partition("_")
    fn = OPERATORS.get(base)
    if fn is not None and base in UNDERSCORE_NAMES:
        fn = None
    return fn, (arg if us else None)


def parse_operator(p, name: str, i: int):
    """``i`` is at the ':' after the operator name."""
    from .variables import CERT_VARIABLES
    fn, arg = resolve(name)
    base = name.partition("_")[0]
    if fn is not None and base in ("md5", "sha1", "sha256", "base64") and p.ch(i + 1) == "$":
        var, j = p.read_name(i + 2, "_")
        if var in CERT_VARIABLES and p.ch(j) == "}":
            return CertOp(fn, var, name), j + 1
    sub, i = p.seq(i + 1, True)
    if fn is None:
        p.fail('unknown expansion operator "%s"' % name)
    if base in ("sha2", "sha256") and fn is op_sha2:
        name = base
    return Op(fn, sub, arg, name), i + 1
