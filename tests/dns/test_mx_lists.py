"""@mx_any, @mx_primary and @mx_secondary in domain lists, against the DNS server
on loopback (tests/dns/dnsserver.py): real exim cannot be pointed at it, so the
outcomes asserted are the spec's (chapter "Domain, host, address, and local part
lists", section on @mx_*)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dnsserver import FakeNameServer

ZONES = Path(__file__).resolve().parent.parent / "data" / "dns"

CASES = [
    ("local-primary.mx.ex", "@mx_any", "yes"),
    ("local-primary.mx.ex", "@mx_primary", "yes"),
    ("local-primary.mx.ex", "@mx_secondary", "no"),
    ("local-secondary.mx.ex", "@mx_any", "yes"),
    ("local-secondary.mx.ex", "@mx_primary", "no"),
    ("local-secondary.mx.ex", "@mx_secondary", "yes"),
    ("both.mx.ex", "@mx_primary", "yes"),
    ("remote.mx.ex", "@mx_any", "no"),
    ("noaddress.mx.ex", "@mx_any", "no"),
    ("nosuch.mx.ex", "@mx_any", "no"),
    ("local-primary.mx.ex", "@mx_any/ignore=127.0.0.1", "no"),
    ("local-primary.mx.ex", "@mx_any/ignore=<;192.0.2.7;10.0.0.1", "yes"),
    ("remote.mx.ex", "! @mx_any", "yes"),
]


@pytest.fixture(scope="module")
def server():
    with FakeNameServer(ZONES) as ns:
        yield ns


def test_mx_items(server, tmp_path):
    conf = tmp_path / "mx.conf"
    conf.write_text("keep_environment =\nprimary_hostname = test.ex\n")
    lines = "".join("${if match_domain{%s}{%s}{yes}{no}}\n" % (d, p) for d, p, _ in CASES)
    env = dict(os.environ, PEXIM_RESOLVER=server.address)
    out = subprocess.run([sys.executable, "-m", "pexim", "-C", str(conf), "-be"], input=lines,
                         capture_output=True, text=True, env=env, timeout=60)
    got = [line[2:] for line in out.stdout.splitlines() if line.startswith("> ") and line[2:]]
    assert got == [want for _, _, want in CASES], out.stderr


def test_dns_temporary_error_defers(server, tmp_path):
    conf = tmp_path / "mx.conf"
    conf.write_text("keep_environment =\n")
    env = dict(os.environ, PEXIM_RESOLVER=server.address)
    out = subprocess.run([sys.executable, "-m", "pexim", "-C", str(conf), "-be",
                          "${if match_domain{x.servfail.mx.ex}{@mx_any}{yes}{no}}"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert "yes" not in out.stdout and "no" not in out.stdout
