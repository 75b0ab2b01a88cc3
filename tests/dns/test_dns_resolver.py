"""The resolver against a real authoritative server on loopback (tests/dnsserver.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dnsserver import FakeNameServer

from pexim.dns import AGAIN, NODATA, NOMATCH, OK, DnsCache, Resolver
from pexim.dns.servers import nameservers_from_environment, parse_server

ZONES = Path(__file__).resolve().parent.parent / "data" / "dns"
CHECK = r"(?i)^(?>(?(1)\.|())[^\W](?>[a-z0-9/_-]*[^\W])?)+(\.?)$"


@pytest.fixture(scope="module")
def server():
    with FakeNameServer(ZONES) as ns:
        yield ns


def resolver(server, **kw):
    kw.setdefault("check_names", CHECK)
    return Resolver([parse_server(server.address)], timeout=0.5, tries=1, **kw)


def test_mx_and_address_records(server):
    r = resolver(server)
    mx = r.lookup_sync("test.ex", "MX")
    assert mx.rc == OK and not mx.authentic
    assert sorted((x.preference, x.exchange.to_text()) for x in mx.records) == [
        (10, "mail.test.ex."), (20, "backup.test.ex.")]
    assert [x.address for x in r.lookup_sync("mail.test.ex", "A").records] == ["127.0.0.2"]
    assert [x.address for x in r.lookup_sync("mail.test.ex", "AAAA").records] == ["::2"]


def test_not_found_and_no_data(server):
    r = resolver(server)
    assert r.lookup_sync("nosuch.test.ex", "A").rc == NOMATCH
    assert r.lookup_sync("txt.test.ex", "MX").rc == NODATA


def test_cname_is_followed_and_loops_fail(server):
    r = resolver(server)
    answer = r.lookup_sync("alias.test.ex", "A")
    assert (answer.rc, answer.name) == (OK, "mail.test.ex")
    assert r.lookup_sync("loop1.test.ex", "A").rc == "FAIL"


def test_temporary_errors(server):
    r = resolver(server)
    assert r.lookup_sync("x.servfail.test.ex", "A").rc == AGAIN
    assert r.lookup_sync("x.timeout.test.ex", "A").rc == AGAIN
    lenient = resolver(server, again_means_nonexist="*.servfail.test.ex")
    assert lenient.lookup_sync("x.servfail.test.ex", "A").rc == NOMATCH


def test_name_syntax_check_needs_no_query(server):
    r = resolver(server)
    assert r.lookup_sync("bad_name-.test.ex", "A").rc == NOMATCH
    assert resolver(server, check_names="").lookup_sync("mail.test.ex", "A").rc == OK


def test_dnssec_ad_bit_and_trusted_aa(server):
    r = resolver(server, dnssec_ok=1)
    assert r.lookup_sync("secure.ex", "MX").authentic
    assert not r.lookup_sync("test.ex", "MX").authentic
    assert resolver(server, trust_aa="test.ex").lookup_sync("test.ex", "MX").authentic


def test_truncated_answer_falls_back_to_tcp(server):
    answer = resolver(server).lookup_sync("big.test.ex", "TXT")
    assert answer.rc == OK and len(answer.records) == 6


def test_ptr_and_tlsa(server):
    r = resolver(server)
    ptr = r.lookup_sync("2.0.0.127.in-addr.arpa", "PTR")
    assert [x.target.to_text() for x in ptr.records] == ["mail.test.ex."]
    tlsa = r.lookup_sync("_25._tcp.mail.test.ex", "TLSA")
    assert (tlsa.records[0].usage, tlsa.records[0].selector, tlsa.records[0].mtype) == (3, 1, 1)


def test_negative_answers_cached_per_unit_of_work(server):
    r = resolver(server)
    cache = DnsCache()
    assert r.lookup_sync("nosuch.test.ex", "A", cache).rc == NOMATCH
    r.nameservers = [("127.0.0.1", 9)]      # nothing listens there: only the cache answers
    assert r.lookup_sync("nosuch.test.ex", "A", cache).rc == NOMATCH
    assert r.lookup_sync("mail.test.ex", "A", cache).rc == AGAIN


def test_server_selection(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("search example\nnameserver 192.0.2.1\nnameserver fe80::1%eth0\n")
    assert nameservers_from_environment({}, str(conf)) == [("192.0.2.1", 53), ("fe80::1", 53)]
    env = {"PEXIM_RESOLVER": "127.0.0.1:5353,[::1]:53"}
    assert nameservers_from_environment(env, str(conf)) == [("127.0.0.1", 5353), ("::1", 53)]
