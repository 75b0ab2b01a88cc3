"""Lookups: one module per type, registered by name; the generic search
logic (partial matching, ``*`` and ``*@`` defaults, options) lives here.

A lookup module defines a class with ``name``, ``query_style`` and
``find(ctx, filename, key, opts) -> str | None`` (raising ``LookupDefer``),
plus optional ``open_check(ctx, filename)`` and ``quote(s, opt)``.  ``find`` may
return ``NoCache(value)`` for a result Exim does not cache (a write, no rows).
Results are cached per unit of work in ``ctx.lookup_cache`` as Exim caches
them per process: by type and file, then key, with the options; ``cache=no_rd``
skips reading the cache; a NoCache result empties the cache of its file.
"""

from __future__ import annotations

from dataclasses import dataclass

from pexim.bytestr import isdigit, ispunct, printing

from ..expand.errors import ExpansionError, LookupDefer
from ..expand.taint import is_tainted

STAR, STARAT = 1, 2

_REGISTRY: dict[str, object] = {}
_LOADED: list[bool] = []

# Types Exim 4.96 (Debian heavy) knows; those pexim lacks fail at lookup time.
KNOWN_TYPES = {
    "lsearch": False, "wildlsearch": False, "nwildlsearch": False, "iplsearch": False,
    "cdb": False, "dbm": False, "dbmjz": False, "dbmnz": False, "dnsdb": True,
    "dsearch": False, "ldap": True, "ldapdn": True, "ldapm": True, "mysql": True,
    "nis": False, "nis0": False, "passwd": True, "pgsql": True, "sqlite": True,
    "redis": True, "json": False, "lmdb": False,
}
_DEBIAN_MISSING: set[str] = set()


class LookupSpecError(ExpansionError):
    pass


def register(impl) -> None:
    _REGISTRY[impl.name] = impl


def _load() -> None:
    if _LOADED:                     # modules may also have been imported one by one
        return
    from . import (  # noqa: F401 - registration side effects
        cdb,
        dbm,
        dnsdb,
        dsearch,
        json,
        lmdb,
        lsearch,
        passwd,
        redis,
        sqlite,
    )
    _LOADED.append(True)


class NoCache:
    """A find() result that must not be cached (Exim's do_cache = 0)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


@dataclass(frozen=True, slots=True)
class Spec:
    name: str               # the type name, e.g. "lsearch"
    partial: int            # -1: no partial matching
    affix: str
    star: int               # STAR / STARAT bits
    opts: str | None        # text after the first ','
    query_style: bool


def findtype(name: str) -> str:
    """search_findtype(): validate a bare lookup type name."""
    if name not in KNOWN_TYPES or name in _DEBIAN_MISSING:
        raise LookupSpecError('unknown lookup type "%s"' % name)
    return name


def parse_spec(text: str) -> Spec:
    """search_findtype_partial(): "partial2(*.)lsearch*@,ret=full" and friends."""
    s = text
    partial = -1
    affix = ""
    if s.startswith("partial"):
        s = s[7:]
        if s[:1] and isdigit(s[0]):
            k = 0
            while k < len(s) and isdigit(s[k]):
                k += 1
            partial = int(s[:k])
            s = s[k:]
        else:
            partial = 2
        if s.startswith("("):
            k = 1
            while k < len(s) and ispunct(s[k]) and s[k] != ")":
                k += 1
            if k >= len(s) or s[k] != ")":
                raise LookupSpecError('format error in lookup type "%s"' % text)
            affix = s[1:k]
            s = s[k + 1:]
        elif s.startswith("-"):
            affix = "*."
            s = s[1:]
        else:
            raise LookupSpecError('format error in lookup type "%s"' % text)
    star = 0
    end = len(s)
    t = s.find("*")
    if t >= 0:
        end = t
        star = STARAT if s[t + 1:t + 2] == "@" else STAR
    opts = None
    c = s.find(",", max(t, 0))
    if c >= 0:
        end = min(end, c)
        opts = s[c + 1:]
    name = s[:end]
    findtype(name)
    query = KNOWN_TYPES[name]
    if query:
        if partial >= 0:
            raise LookupSpecError('"partial" is not permitted for lookup type "%s"' % s)
        if star:
            raise LookupSpecError('defaults using "*" or "*@" are not permitted for lookup '
                                  'type "%s"' % s)
    return Spec(name, partial, affix, star, opts, query)


def impl_for(name: str):
    _load()
    impl = _REGISTRY.get(name)
    if impl is None:
        raise ExpansionError('lookup type "%s" is not supported by pexim' % name)
    return impl


def _one(ctx, impl, filename, key, opts):
    """internal_search_find(): an empty key fails; results are cached."""
    if not key:
        return None
    caches = getattr(ctx, "lookup_cache", None)
    cache = None
    if caches is not None:
        cache = caches.get((impl.name, filename))
        if cache is None:
            cache = caches[(impl.name, filename)] = {}
    no_rd = False
    ret_key = False
    if opts:
        for o in opts.split(","):
            if o == "cache=no_rd":
                no_rd = True
            elif o == "ret=key" and not impl.query_style:
                ret_key = True
    if cache is not None and not no_rd:
        hit = cache.get(key)
        if hit is not None and hit[0] == opts:
            value = hit[1]
            return str(key) if ret_key and value is not None else value
    value = impl.find(ctx, filename, key, opts)
    if isinstance(value, NoCache):
        # Exim: a lookup that changed data forgets everything cached for its file.
        value = value.value
        if cache is not None:
            cache.clear()
    elif cache is not None:
        cache[key] = (opts, value)
    return str(key) if ret_key and value is not None else value


def search(ctx, spec: Spec, filename: str, key: str):
    """search_find(): the value and, for partial/default matches, ($1, $2)."""
    impl = impl_for(spec.name)
    opts = spec.opts
    value = _one(ctx, impl, filename, key, opts)
    if value is not None:
        return value, None
    if spec.partial >= 0:
        affix = spec.affix
        if affix:
            value = _one(ctx, impl, filename, affix + key, opts)
            if value is not None:
                return value, ("", key)
        dots = key.count(".")
        rest = key
        alen = len(affix)
        while dots >= spec.partial:
            dots -= 1
            d = rest.find(".")
            if d < 0:
                if alen < 1:
                    break
                probe = affix[:-1] if alen > 1 and affix.endswith(".") else affix
                fixed = ""
            else:
                rest = rest[d + 1:]
                fixed = rest
                probe = affix + rest
            value = _one(ctx, impl, filename, probe, opts)
            if value is not None:
                wild = len(key) - len(fixed) - 1
                return value, (key[:max(wild, 0)], fixed)
    if spec.star & STARAT:
        at = key.rfind("@")
        if at > 0:
            value = _one(ctx, impl, filename, "*" + key[at:], opts)
            if value is not None:
                return value, (key[:at], "")
    if spec.star:
        value = _one(ctx, impl, filename, "*", opts)
        if value is not None:
            return value, (key, "")
    return None, None


def find(ctx, spec: Spec, arg: str, key: str | None):
    """The ${lookup} entry point: (value or None, new $0..$n or None)."""
    impl = impl_for(spec.name)
    if key is None:
        key, filename = arg, None
    else:
        filename = arg
        taint_check(filename)
    check = getattr(impl, "open_check", None)
    if check is not None:
        check(ctx, filename)
    try:
        value, nums = search(ctx, spec, filename, key)
    except LookupDefer as e:
        raise ExpansionError('lookup of "%s" gave DEFER: %s'
                             % (printing(key), e.message)) from None
    if nums is None:
        return value, None
    n0 = ctx.nvars[0] if ctx.nvars else ""
    return value, (n0,) + nums


def taint_check(filename: str | None) -> None:
    """search_open(): a tainted file name is refused (Exim logs this text)."""
    if filename is not None and is_tainted(filename):
        raise ExpansionError("Tainted filename for search: '%s'" % filename)


def quote_for(ltype: str, opt: str | None, s: str) -> str:
    """${quote_<type>:...}: lookup-specific quoting."""
    findtype(ltype)
    _load()
    impl = _REGISTRY.get(ltype)
    quote = getattr(impl, "quote", None) if impl is not None else None
    if quote is not None:
        r = quote(s, opt)
    elif opt:
        r = None
    else:
        r = s
    if r is None:
        raise ExpansionError('"%s" unrecognized after "${quote_%s"' % (opt, ltype))
    return r


def lookup_direct(ctx, spec_text: str, filename: str | None, key: str):
    """Lookups named in lists (``lsearch;/file``): value or None; DEFER raises."""
    spec = parse_spec(spec_text)
    if spec.query_style:
        return search(ctx, spec, None, filename if key is None else key)[0]
    impl = impl_for(spec.name)
    taint_check(filename)
    check = getattr(impl, "open_check", None)
    if check is not None:
        check(ctx, filename)
    return search(ctx, spec, filename, key)[0]
