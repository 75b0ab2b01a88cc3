"""DNS for pexim: an asyncio resolver on dnspython with Exim's semantics.

    resolver = Resolver.from_config(config.main)
    answer = await resolver.lookup("example.com", "MX")   # or lookup_sync(...)
    answer.rc        # "OK", "NOMATCH", "NODATA", "AGAIN" or "FAIL" (Exim's DNS_*)
    answer.records   # the answer's rdata of the type asked for
    answer.authentic # AD bit set (or AA trusted by dns_trust_aa)

PEXIM_RESOLVER=host:port (environment) replaces /etc/resolv.conf: tests point it
at their own authoritative server on loopback.
"""

from pexim.dns.resolver import AGAIN, FAIL, NODATA, NOMATCH, OK, DnsAnswer, DnsCache, Resolver

__all__ = ["AGAIN", "FAIL", "NODATA", "NOMATCH", "OK", "DnsAnswer", "DnsCache", "Resolver"]
