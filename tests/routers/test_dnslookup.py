"""The dnslookup router against the DNS server on loopback (tests/dns/dnsserver.py).

Real exim cannot be pointed at that server, so the expected -bt outputs follow
the spec's rules (chapter "The dnslookup router"): MX hosts in preference
order, a host's IPv6 then IPv4 addresses, the local host as lowest MX triggers
`self`, MX hosts without addresses, temporary errors; a widened domain is a new
address routed from the first router again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dns"))
from dnsserver import FakeNameServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ZONES = ROOT / "data" / "dns"
CONF = ROOT / "data" / "route" / "dns" / "dnslookup.conf"

CASES = [
    ("u@remote.mx.ex", 0,
     "u@remote.mx.ex\n  router = dns, transport = t\n  host away.mx.ex [192.0.2.7] MX=10\n", ""),
    ("u@test.ex", 0,
     "u@test.ex\n  router = dns, transport = t\n"
     "  host mail.test.ex   [::2]       MX=10\n"
     "  host mail.test.ex   [127.0.0.2] MX=10\n"
     "  host backup.test.ex [127.0.0.3] MX=20\n", ""),
    ("u@mail.test.ex", 0,
     "u@mail.test.ex\n  router = dns, transport = t\n"
     "  host mail.test.ex [::2]\n  host mail.test.ex [127.0.0.2]\n", ""),
    ("u@local-secondary.mx.ex", 0,
     "u@local-secondary.mx.ex\n  router = dns, transport = t\n"
     "  host away.mx.ex [192.0.2.7] MX=10\n", ""),
    ("u@local-primary.mx.ex", 1,
     "u@local-primary.mx.ex cannot be resolved at this time: lowest numbered MX record "
     "points to local host\n",
     "LOG: MAIN\n  lowest numbered MX record points to local host: local-primary.mx.ex "
     "(while routing <u@local-primary.mx.ex>)\n"),
    ("u@noaddress.mx.ex", 2,
     "u@noaddress.mx.ex is undeliverable: all relevant MX records point to non-existent "
     "hosts\n", ""),
    ("u@nosuch.mx.ex", 2, "u@nosuch.mx.ex is undeliverable: Unrouteable address\n", ""),
    ("u@x.servfail.mx.ex", 1,
     "u@x.servfail.mx.ex cannot be resolved at this time: host lookup did not complete\n", ""),
    ("u@local-secondary", 0,
     "u@local-secondary.mx.ex\n    <-- u@local-secondary\n  router = dns, transport = t\n"
     "  host away.mx.ex [192.0.2.7] MX=10\n", ""),
]


@pytest.fixture(scope="module")
def server():
    with FakeNameServer(ZONES) as ns:
        yield ns


@pytest.mark.parametrize("address,rc,stdout,stderr", CASES, ids=[c[0] for c in CASES])
def test_dnslookup_bt(server, tmp_path, address, rc, stdout, stderr):
    conf = tmp_path / "dns.conf"
    conf.write_text(CONF.read_text())
    conf.chmod(0o644)
    env = dict(os.environ, PEXIM_RESOLVER=server.address)
    out = subprocess.run([sys.executable, "-m", "pexim", "-C", str(conf), "-bt", address],
                         capture_output=True, text=True, env=env, timeout=60)
    assert (out.stdout, out.stderr, out.returncode) == (stdout, stderr, rc)
