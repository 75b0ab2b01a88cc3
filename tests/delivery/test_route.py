"""route_addresses() as the delivery orchestrator calls it: where each address
ends up (local, remote, failed, deferred, succeeded), children in their
parent's place, duplicates delivered once, already-delivered children dropped."""

from __future__ import annotations

from pathlib import Path

from pexim.config.loader import load
from pexim.delivery.address import DEFER, FAIL, OK, AddressItem
from pexim.delivery.route import RoutingContext, route_addresses

CONF = """\
keep_environment =
primary_hostname = vm
begin routers
aliases:
  driver = redirect
  data = ${lookup{$local_part}lsearch{ALIASES}}
  allow_fail
  allow_defer
  pipe_transport = tp
remote:
  driver = manualroute
  domains = remote.example
  route_list = * 192.0.2.1::2525
  transport = ts
local:
  driver = accept
  domains = vm
  transport = tl
begin transports
tl:
  driver = appendfile
  file = /dev/null
tp:
  driver = pipe
ts:
  driver = smtp
"""

ALIASES = """\
list: root@vm, daemon@vm, root@vm, x@remote.example, "|/bin/cat"
gone: :fail: left the company
later: :defer: not now
bh: :blackhole:
"""


def _route(tmp_path: Path, addresses: list[str], done: set[str] = frozenset()):
    (tmp_path / "aliases").write_text(ALIASES)
    conf = tmp_path / "c.conf"
    conf.write_text(CONF.replace("ALIASES", str(tmp_path / "aliases")))
    config = load(str(conf))
    rctx = RoutingContext(config, None, mode="deliver", sender="s@vm")
    rctx.nonrecipients = set(done)
    return route_addresses(rctx, [AddressItem(a) for a in addresses])


def test_children_replace_parent_and_duplicates_are_delivered_once(tmp_path):
    r = _route(tmp_path, ["list@vm"])
    assert [(a.address, a.transport) for a in r.local] == [
        ("root@vm", "tl"), ("daemon@vm", "tl"), ("|/bin/cat", "tp")]
    assert [a.parent.address for a in r.local] == ["list@vm"] * 3
    assert r.local[2].special == "pipe"
    assert [(a.address, a.transport, [(h.address, h.port) for h in a.hosts])
            for a in r.remote] == [("x@remote.example", "ts", [("192.0.2.1", 2525)])]
    assert [(a.address, a.status, a.extra.get("duplicate")) for a in r.succeeded] == [
        ("root@vm", OK, True)]
    assert r.failed == r.deferred == []


def test_fail_defer_discard_and_unrouteable(tmp_path):
    r = _route(tmp_path, ["gone@vm", "later@vm", "bh@vm", "x@nowhere.example"])
    assert [(a.address, a.status, a.message) for a in r.failed] == [
        ("gone@vm", FAIL, "left the company"),
        ("x@nowhere.example", FAIL, "Unrouteable address")]
    assert [(a.address, a.status, a.message) for a in r.deferred] == [
        ("later@vm", DEFER, "not now")]
    assert [a.address for a in r.succeeded] == ["bh@vm"]
    assert r.local == r.remote == []


def test_children_delivered_in_an_earlier_attempt_are_dropped(tmp_path):
    r = _route(tmp_path, ["list@vm"], done={"root@vm", "x@remote.example"})
    assert [a.address for a in r.local] == ["daemon@vm", "|/bin/cat"]
    assert r.remote == []
