"""dnslists against the DNS server on loopback (tests/dns/dnsserver.py) with the
zones of tests/data/acl/dnsbl.  Real exim cannot be pointed at that server, so
the outcomes asserted are the spec's (chapter "Access control lists", sections
"Using DNS lists" to "DNS lists and IPv6") and dnsbl.c's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "dns"))
from dnsserver import FakeNameServer  # noqa: E402

ZONES = ROOT / "tests" / "data" / "acl" / "dnsbl"

CONFIG = """\
keep_environment =
acl_smtp_rcpt = r
begin acl
r:
  deny dnslists = %s
       message = L $dnslist_domain|$dnslist_matched|$dnslist_value|$dnslist_text
  accept
"""

# (client ip, sender, dnslists argument, expected RCPT reply)
CASES = [
    ("10.0.0.2", "a@b.ex", "bl.ex",
     "550 L bl.ex|10.0.0.2|127.0.0.2|listed: see http://bl.ex/10.0.0.2"),
    ("10.0.0.1", "a@b.ex", "bl.ex", "250 Accepted"),
    ("10.0.0.4", "a@b.ex", "bl.ex", "550 L bl.ex|10.0.0.4|127.0.0.4|"),
    # = and == / & and =& against two A records (127.0.0.3, 127.0.0.10)
    ("10.0.0.2", "a@b.ex", "bl.ex=127.0.0.2", "550 L bl.ex|10.0.0.2|127.0.0.2|"
     "listed: see http://bl.ex/10.0.0.2"),
    ("10.0.0.2", "a@b.ex", "bl.ex=127.0.0.3,127.0.0.4", "250 Accepted"),
    ("10.0.0.3", "a@b.ex", "bl.ex=127.0.0.3", "550 L bl.ex|10.0.0.3|127.0.0.3, 127.0.0.10|"),
    ("10.0.0.3", "a@b.ex", "bl.ex==127.0.0.3", "250 Accepted"),
    ("10.0.0.3", "a@b.ex", "bl.ex==127.0.0.3,127.0.0.10",
     "550 L bl.ex|10.0.0.3|127.0.0.3, 127.0.0.10|"),
    ("10.0.0.3", "a@b.ex", "bl.ex&0.0.0.2", "550 L bl.ex|10.0.0.3|127.0.0.3, 127.0.0.10|"),
    ("10.0.0.4", "a@b.ex", "bl.ex&0.0.0.2", "250 Accepted"),
    ("10.0.0.3", "a@b.ex", "bl.ex=&0.0.0.2", "550 L bl.ex|10.0.0.3|127.0.0.3, 127.0.0.10|"),
    ("10.0.0.3", "a@b.ex", "bl.ex=&0.0.0.1", "250 Accepted"),
    # ! negation of the value match
    ("10.0.0.2", "a@b.ex", "bl.ex!=127.0.0.2", "250 Accepted"),
    ("10.0.0.4", "a@b.ex", "bl.ex!=127.0.0.2", "550 L bl.ex|10.0.0.4|127.0.0.4|"),
    ("10.0.0.3", "a@b.ex", "bl.ex!&0.0.0.1", "250 Accepted"),
    ("10.0.0.3", "a@b.ex", "bl.ex!=&0.0.0.1", "550 L bl.ex|10.0.0.3|127.0.0.3, 127.0.0.10|"),
    ("10.0.0.3", "a@b.ex", "bl.ex!=&0.0.0.1,0.0.0.2", "250 Accepted"),
    ("10.0.0.1", "a@b.ex", "bl.ex!=127.0.0.2", "250 Accepted"),
    # addresses outside 127/8 are discarded
    ("10.0.0.5", "a@b.ex", "bl.ex", "250 Accepted"),
    ("10.0.0.6", "a@b.ex", "bl.ex", "550 L bl.ex|10.0.0.6|192.0.2.1, 127.0.0.6|"),
    # /key forms: a domain, an IP address (inverted), a sublist
    ("10.0.0.1", "x@spammer.example", "bl.ex/$sender_address_domain",
     "550 L bl.ex|spammer.example|127.0.0.2|domain listed"),
    ("10.0.0.1", "x@good.example", "bl.ex/$sender_address_domain", "250 Accepted"),
    ("10.0.0.1", "a@b.ex", "bl.ex/10.0.0.2",
     "550 L bl.ex|10.0.0.2|127.0.0.2|listed: see http://bl.ex/10.0.0.2"),
    ("10.0.0.1", "a@b.ex", "bl.ex/<;10.0.0.9;10.0.0.4", "550 L bl.ex|10.0.0.4|127.0.0.4|"),
    ("10.0.0.1", "a@b.ex", "bl.ex/10.0.0.9::spammer.example",
     "550 L bl.ex|spammer.example|127.0.0.2|domain listed"),
    ("10.0.0.1", "a@b.ex", "bl.ex=127.0.0.9/10.0.0.2", "250 Accepted"),
    # several lists: the first that matches names $dnslist_domain
    ("10.0.0.2", "a@b.ex", "nothing.bl.ex : bl.ex",
     "550 L bl.ex|10.0.0.2|127.0.0.2|listed: see http://bl.ex/10.0.0.2"),
    # merged list with a TXT domain: detail.ex,bl.ex=127.0.0.3
    ("10.0.0.3", "a@b.ex", "detail.ex,bl.ex=127.0.0.3",
     "550 L detail.ex|10.0.0.3|127.0.0.1|detailed reason for 10.0.0.3"),
    ("10.0.0.2", "a@b.ex", "detail.ex,bl.ex=127.0.0.3", "250 Accepted"),
    # IPv6 client: nibble-inverted
    ("2001:db8::1", "a@b.ex", "bl.ex", "550 L bl.ex|2001:0db8:0000:0000:0000:0000:0000:0001|127.0.0.2|"),
    # temporary errors: exclude (default), include, defer
    ("10.0.0.2", "a@b.ex", "servfail.bl.ex", "250 Accepted"),
    ("10.0.0.2", "a@b.ex", "+include_unknown : servfail.bl.ex", "550 L servfail.bl.ex|10.0.0.2||"),
    ("10.0.0.2", "a@b.ex", "+defer_unknown : servfail.bl.ex",
     "451 Temporary local problem - please try later"),
    ("10.0.0.2", "a@b.ex", "+defer_unknown : servfail.bl.ex : bl.ex",
     "451 Temporary local problem - please try later"),
    ("10.0.0.2", "a@b.ex", "+defer_unknown : bl.ex : servfail.bl.ex",
     "550 L bl.ex|10.0.0.2|127.0.0.2|listed: see http://bl.ex/10.0.0.2"),
    ("10.0.0.1", "a@b.ex", "+defer_unknown : bl.ex/<;10.0.0.9.servfail;10.0.0.2",
     "550 L bl.ex|10.0.0.2|127.0.0.2|listed: see http://bl.ex/10.0.0.2"),
    ("10.0.0.1", "a@b.ex", "+defer_unknown : servfail.bl.ex/<;10.0.0.9;10.0.0.8",
     "451 Temporary local problem - please try later"),
]


@pytest.fixture(scope="module")
def server():
    with FakeNameServer(ZONES) as ns:
        yield ns


def session(server, tmp_path, ip, sender, arg, extra=""):
    conf = tmp_path / "c.conf"
    conf.write_text(CONFIG % arg + extra)
    env = dict(os.environ, PEXIM_RESOLVER=server.address, PYTHONPATH=str(ROOT / "src"))
    data = "HELO x\r\nMAIL FROM:<%s>\r\nRCPT TO:<u@y.ex>\r\nQUIT\r\n" % sender
    p = subprocess.run([sys.executable, "-m", "pexim", "-C", str(conf), "-bh", ip],
                       input=data.encode(), capture_output=True, env=env, timeout=60)
    return (p.stdout + p.stderr).decode("latin-1")


def canonical(reply: str) -> str:
    """Several A records come in the server's order: compare them as a set."""
    parts = reply.rstrip("\r").split("|")
    if len(parts) > 2:
        parts[2] = ", ".join(sorted(parts[2].split(", ")))
    return "|".join(parts)


@pytest.mark.parametrize("ip,sender,arg,want", CASES, ids=lambda x: str(x)[:40])
def test_dnslists(server, tmp_path, ip, sender, arg, want):
    out = session(server, tmp_path, ip, sender, arg)
    replies = [line for line in out.splitlines() if line[:3].isdigit()]
    assert canonical(replies[3]) == canonical(want), out


def test_defer_is_logged(server, tmp_path):
    out = session(server, tmp_path, "10.0.0.2", "a@b.ex", "servfail.bl.ex")
    assert "LOG: DNS list lookup defer (probably timeout) for 2.0.0.10.servfail.bl.ex: " \
           "assumed not in list" in out


def test_lookup_cached_for_the_session(server, tmp_path):
    out = session(server, tmp_path, "10.0.0.1", "a@b.ex", "bl.ex : bl.ex=127.0.0.2")
    assert out.count("new DNS lookup for 1.0.0.10.bl.ex") == 1
    assert "dnslists: using result of previous lookup" in out


def test_negated_condition(server, tmp_path):
    out = session(server, tmp_path, "10.0.0.1", "a@b.ex", "bl.ex\n       !dnslists = bl.ex")
    assert "250 Accepted" in out
