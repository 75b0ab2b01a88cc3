"""Host lists, ports and retry keys for the smtp transport (delivery/hosts.py)."""

from __future__ import annotations

import asyncio

from pexim.delivery import hosts
from pexim.delivery.address import Host


def test_parse_host_list_names_literals_and_ports():
    got = hosts.parse_host_list("a.example : [192.0.2.1]::2525 : b.example::26 : 192.0.2.7")
    assert [(h.name, h.address, h.port) for h in got] == [
        ("a.example", None, None), ("192.0.2.1", "192.0.2.1", 2525),
        ("b.example", None, 26), ("192.0.2.7", "192.0.2.7", None)]


def test_port_number():
    assert hosts.port_number("2525") == 2525
    assert hosts.port_number("smtp") == 25
    assert hosts.port_number(None, 24) == 24


def test_retry_keys_as_exim_writes_them():
    h = Host("mx.example", "192.0.2.1")
    assert hosts.host_retry_key(h, 25) == "T:mx.example:192.0.2.1"
    assert hosts.host_retry_key(h, 2525) == "T:mx.example:192.0.2.1:2525"
    assert hosts.host_retry_key(h, 25, include_ip=False) == "T:mx.example"
    assert hosts.message_retry_key("T:mx.example:192.0.2.1", "1xV2t8-0007Xv-2H") == \
        "T:mx.example:192.0.2.1:1xV2t8-0007Xv-2H"


def test_resolve_keeps_literals_and_expands_names():
    got = asyncio.run(hosts.resolve([Host("127.0.0.9", "127.0.0.9"), Host("localhost"),
                                     Host("no-such-host.invalid")]))
    assert got[0].address == "127.0.0.9"
    assert "127.0.0.1" in [h.address for h in got[1:] if h.name == "localhost"]
    assert all(h.name != "no-such-host.invalid" for h in got)


def test_randomize_keeps_mx_groups_in_order():
    hs = [Host(f"h{i}", f"192.0.2.{i}", mx=10 if i < 5 else 20) for i in range(10)]
    out = hosts.randomize(list(hs))
    assert [h.mx for h in out] == [10] * 5 + [20] * 5
    assert sorted(h.name for h in out[:5]) == [f"h{i}" for i in range(5)]
