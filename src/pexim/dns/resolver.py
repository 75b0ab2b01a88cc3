"""The resolver: one query = one asyncio coroutine, no threads, no blocking.

Exim's dns_lookup() semantics: CNAME chains followed up to dns_cname_loops,
names that fail dns_check_names_pattern are "not found" without a query,
dns_again_means_nonexist turns temporary errors into "not found", and negative
answers are remembered for the unit of work (a DnsCache per message).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
from dataclasses import dataclass, field

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from pexim.dns.servers import nameservers_from_environment

OK, NOMATCH, NODATA, AGAIN, FAIL = "OK", "NOMATCH", "NODATA", "AGAIN", "FAIL"
_DEFAULT_TIMEOUT = 5.0      # the C resolver's RES_TIMEOUT
_DEFAULT_TRIES = 2          # and RES_DFLRETRY


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    rc: str
    name: str                       # the name answered for, after any CNAMEs
    rdtype: str
    records: tuple = ()             # dnspython rdata objects of the asked type
    ttl: int = 0
    authentic: bool = False         # DNSSEC: AD bit (or AA trusted via dns_trust_aa)

    @property
    def ok(self) -> bool:
        return self.rc == OK


@dataclass
class DnsCache:
    """Negative (and temporary-failure) answers remembered for one unit of work."""

    answers: dict = field(default_factory=dict)

    def get(self, name: str, rdtype: str) -> DnsAnswer | None:
        return self.answers.get((name.lower(), rdtype))

    def put(self, answer: DnsAnswer, name: str) -> None:
        if answer.rc != OK:
            self.answers[(name.lower(), answer.rdtype)] = answer


def _domain_matcher(pattern_list: str | None):
    """dns_again_means_nonexist / dns_trust_aa are (expanded) domain lists."""
    if not pattern_list:
        return lambda name: False
    from pexim.expand import ExpandContext
    from pexim.lists import match_domain

    return lambda name: match_domain(ExpandContext(), name, pattern_list)[0]


class Resolver:
    """Exim-style DNS lookups against the configured (or overridden) servers."""

    def __init__(self, nameservers: list[tuple[str, int]], *, timeout: float = _DEFAULT_TIMEOUT,
                 tries: int = _DEFAULT_TRIES, edns0: int = -1, dnssec_ok: int = -1,
                 cname_loops: int = 1, check_names: str | None = None,
                 again_means_nonexist: str | None = None, trust_aa: str | None = None):
        self.nameservers = nameservers
        self.timeout = timeout
        self.tries = max(1, tries)
        self.edns0 = edns0
        self.dnssec_ok = dnssec_ok
        self.cname_loops = cname_loops
        self._check = re.compile(check_names) if check_names else None
        self._again_is_nomatch = _domain_matcher(again_means_nonexist)
        self._trust_aa = _domain_matcher(trust_aa)

    @classmethod
    def for_context(cls, ctx) -> Resolver:
        """The resolver of an expansion context (one per unit of work, made on first use)."""
        resolver = ctx.extra.get("resolver")
        if resolver is None:
            config = getattr(ctx, "config", None)
            resolver = (cls.from_config(config.main) if config is not None
                        else cls(nameservers_from_environment(os.environ)))
            ctx.extra["resolver"] = resolver
        return resolver

    @classmethod
    def from_config(cls, main) -> Resolver:
        """A resolver set up from the main options (dns_retrans, dns_retry, ...)."""
        return cls(nameservers_from_environment(os.environ),
                   timeout=main.get("dns_retrans") or _DEFAULT_TIMEOUT,
                   tries=main.get("dns_retry") or _DEFAULT_TRIES,
                   edns0=main.get("dns_use_edns0"), dnssec_ok=main.get("dns_dnssec_ok"),
                   cname_loops=main.get("dns_cname_loops"),
                   check_names=main.get("dns_check_names_pattern"),
                   again_means_nonexist=main.get("dns_again_means_nonexist"),
                   trust_aa=main.get("dns_trust_aa"))

    def lookup_sync(self, name: str, rdtype: str, cache: DnsCache | None = None) -> DnsAnswer:
        """For synchronous callers (list matching); works inside an event loop too."""
        coro = self.lookup(name, rdtype, cache)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coro).result()

    def addresses_sync(self, name: str, cache: DnsCache | None = None) -> tuple[str, list[str]]:
        """(rc, addresses) of a host name: A then AAAA; OK if either has any."""
        found, rcs = [], []
        for rdtype in ("A", "AAAA"):
            answer = self.lookup_sync(name, rdtype, cache)
            rcs.append(answer.rc)
            found += [r.address for r in answer.records]
        if found:
            return OK, found
        return (AGAIN if AGAIN in rcs else NOMATCH), []

    async def lookup(self, name: str, rdtype: str, cache: DnsCache | None = None) -> DnsAnswer:
        rdtype = rdtype.upper()
        name = name.rstrip(".")
        if cache is not None and (hit := cache.get(name, rdtype)) is not None:
            return hit
        answer = await self._lookup(name, rdtype)
        if answer.rc == AGAIN and self._again_is_nomatch(name):
            answer = DnsAnswer(NOMATCH, name, rdtype)
        if cache is not None:
            cache.put(answer, name)
        return answer

    async def _lookup(self, name: str, rdtype: str) -> DnsAnswer:
        if self._check is not None and rdtype not in ("PTR", "TXT", "TLSA", "SRV") \
                and not self._check.search(name):
            return DnsAnswer(NOMATCH, name, rdtype)      # Exim: syntax check failed
        current = name
        for _ in range(self.cname_loops + 1):
            response = await self._query(current, rdtype)
            if response is None:
                return DnsAnswer(AGAIN, current, rdtype)
            rcode = response.rcode()
            if rcode == dns.rcode.NXDOMAIN:
                return DnsAnswer(NOMATCH, current, rdtype)
            if rcode != dns.rcode.NOERROR:
                return DnsAnswer(FAIL, current, rdtype)       # REFUSED, FORMERR, ...
            authentic = bool(response.flags & dns.flags.AD) or (
                bool(response.flags & dns.flags.AA) and self._trust_aa(current))
            qname = dns.name.from_text(current)
            want = dns.rdatatype.from_text(rdtype)
            for rrset in response.answer:
                if rrset.name == qname and rrset.rdtype == want:
                    return DnsAnswer(OK, current, rdtype, tuple(rrset), rrset.ttl, authentic)
            cname = next((r for r in response.answer if r.name == qname
                          and r.rdtype == dns.rdatatype.CNAME), None)
            if cname is None:
                return DnsAnswer(NODATA, current, rdtype, authentic=authentic)
            current = cname[0].target.to_text(omit_final_dot=True)
        return DnsAnswer(FAIL, current, rdtype)           # CNAME loop

    async def _query(self, name: str, rdtype: str) -> dns.message.Message | None:
        """One question to the servers in turn, `tries` rounds; None = no usable
        answer from any of them (timeouts, SERVFAIL), which Exim calls DNS_AGAIN."""
        use_edns = self.edns0 > 0 or self.dnssec_ok > 0
        query = dns.message.make_query(name, rdtype, dns.rdataclass.IN,
                                       use_edns=0 if use_edns else None,
                                       want_dnssec=self.dnssec_ok > 0)
        for _ in range(self.tries):
            for host, port in self.nameservers:
                try:
                    response, _tcp = await dns.asyncquery.udp_with_fallback(
                        query, host, timeout=self.timeout, port=port)
                except (dns.exception.Timeout, OSError, dns.exception.DNSException):
                    continue
                if response.rcode() != dns.rcode.SERVFAIL:
                    return response     # SERVFAIL: ask the next server
        return None
