"""dnsdb against a real (fake, authoritative) DNS server on loopback.

Cases are tests/data/dnsdb/cases.txt; their expected texts follow the spec's
dnsdb rules (records in any order: the server decides it).  What real exim can show without a DNS server (option and type
syntax errors) is compared with exim -be as well.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dns"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from dnsserver import FakeNameServer  # noqa: E402
from exim_oracle import HAVE_EXIM, run_exim, world_readable_tmpdir  # noqa: E402

import pexim.lookups.dnsdb  # noqa: E402,F401 - registers the lookup type
from pexim.expand import ExpandContext, ExpansionError, expand_string  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "dnsdb"


def _cases():
    out = []
    for line in (DATA / "cases.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, _, expect = line.partition(" => ")
        result, bar, dnssec = expect.partition(" | ")
        out.append(pytest.param(query.replace("\\n", "\n"), result.replace("\\n", "\n"),
                                dnssec if bar else None, id=query))
    return out


@pytest.fixture(scope="module")
def server():
    with FakeNameServer(DATA) as ns:
        yield ns


def _expand(query: str) -> tuple[str, str]:
    ctx = ExpandContext()
    try:
        value = expand_string("${lookup dnsdb{%s}{$value}{FAIL}}" % query, ctx)
    except ExpansionError as err:
        prefix = 'lookup of "%s" gave ' % query
        return (err.message[len(prefix):] if err.message.startswith(prefix)
                else err.message), ""
    return value, ctx.values.get("lookup_dnssec_authenticated", "")


@pytest.mark.parametrize(("query", "result", "dnssec"), _cases())
def test_dnsdb(server, monkeypatch, query, result, dnssec):
    monkeypatch.setenv("PEXIM_RESOLVER", server.address)
    value, authenticated = _expand(query)
    # records come in the server's order: compare them as a set
    sep = query.lstrip()[1:2] if query.lstrip().startswith(">") else "\n"
    assert sorted(value.split(sep)) == sorted(result.split(sep))
    if dnssec is not None:
        assert authenticated == dnssec


_SYNTAX = ["foo=x.example", "defer_foo,a=x", "dnssec_foo,a=x", "retrans_0s,a=x",
           "retry_-1,a=x", "bogus,a=x", "defer_never x=a", "a=", ">: a="]


@pytest.mark.skipif(not HAVE_EXIM or os.geteuid() != 0, reason="needs real exim, as root")
@pytest.mark.parametrize("query", _SYNTAX)
def test_syntax_like_exim(query):
    """Queries that make no DNS request: exim -be says the same."""
    d = world_readable_tmpdir("pexim-dnsdb-")
    conf = d / "configure"
    conf.write_text("keep_environment =\n")
    os.chmod(conf, 0o644)
    text = "${lookup dnsdb{%s}{<$value>}{FAIL}}" % query
    exim = run_exim(["-C", str(conf), "-be", text]).stdout
    try:
        ours = "%s\n" % expand_string(text, ExpandContext())
    except ExpansionError as err:
        ours = "Failed: %s\n" % err.message
    assert ours == exim
