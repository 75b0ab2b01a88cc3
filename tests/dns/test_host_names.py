"""Host-list items that need names (forward lookups, reverse lookups with forward
confirmation, +ignore_unknown/+include_unknown/+ignore_defer/+include_defer),
against the DNS server on loopback; outcomes as the spec's host-list sections say."""

from __future__ import annotations

from pathlib import Path

import pytest
from dnsserver import FakeNameServer

from pexim.dns import Resolver
from pexim.dns.servers import parse_server
from pexim.expand import ExpandContext
from pexim.lists import ListDefer, match_ip

ZONES = Path(__file__).resolve().parent.parent / "data" / "dns"


@pytest.fixture(scope="module")
def server():
    with FakeNameServer(ZONES) as ns:
        yield ns


def ctx_for(server, client=None):
    ctx = ExpandContext(values={"sender_host_address": client} if client else {})
    ctx.extra["resolver"] = Resolver([parse_server(server.address)], timeout=0.5, tries=1)
    return ctx


@pytest.mark.parametrize("client, hosts, matched", [
    ("127.0.0.2", "mail.test.ex", True),                 # forward lookup
    ("127.0.0.3", "mail.test.ex", False),
    ("127.0.0.2", "*.test.ex", True),                    # PTR, confirmed forwards
    ("127.0.0.2", r"^mail\.test\.ex$", True),
    ("127.0.0.2", "*.other.ex", False),
    ("127.0.0.9", "*.test.ex", False),                   # no name: the list fails
    ("127.0.0.9", "*.test.ex : 127.0.0.9", False),       # ... even with the address after
    ("127.0.0.9", "+ignore_unknown : *.test.ex : 127.0.0.9", True),
    ("127.0.0.9", "+include_unknown : *.test.ex", True),
    ("127.0.0.2", "nosuch.test.ex : 127.0.0.2", False),  # forward lookup finds nothing
    ("127.0.0.2", "+ignore_unknown : nosuch.test.ex : 127.0.0.2", True),
    ("127.0.0.2", "127.0.0.2 : *.test.ex", True),        # addresses first need no DNS
])
def test_names_in_host_lists(server, client, hosts, matched):
    assert match_ip(ctx_for(server, client), client, hosts, names=True)[0] is matched


def test_reverse_lookup_sets_sender_host_name(server):
    ctx = ctx_for(server, "127.0.0.2")
    assert match_ip(ctx, "127.0.0.2", "*.test.ex", names=True)[0]
    assert ctx.values["sender_host_name"] == "mail.test.ex"


def test_temporary_dns_failure_defers_unless_told(server):
    with pytest.raises(ListDefer):
        match_ip(ctx_for(server), "127.0.0.2", "x.servfail.test.ex", names=True)
    assert match_ip(ctx_for(server), "127.0.0.2", "+include_defer : x.servfail.test.ex",
                    names=True)[0]
    assert not match_ip(ctx_for(server), "127.0.0.2", "+ignore_defer : x.servfail.test.ex",
                        names=True)[0]


def test_match_ip_condition_looks_nothing_up(server):
    """The expansion condition treats names as unknown, as exim -be does."""
    assert not match_ip(ctx_for(server), "127.0.0.2", "mail.test.ex")[0]
