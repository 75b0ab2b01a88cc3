"""pexim's smtp transport relaying to real servers on loopback.

(a) a real exim daemon (-bd on a free port): its mainlog's <= line for the
    message, then, after exim's own queue run, the bytes in its mailbox;
(b) pexim's own daemon: the <= line and the spooled body;
and the delivery outcome pexim records (=> with exim's reply as C=).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "transports"))
from pexim_site import HAVE_EXIM, ROOT, Site  # noqa: E402
from smtp_servers import pexim_deliver  # noqa: E402

pytestmark = pytest.mark.skipif(not (HAVE_EXIM and ROOT), reason="needs real exim and root")

MESSAGE = (b"Subject: relay test\nFrom: Sender <s@client.example>\n"
           b"Message-ID: <relay-1@client.example>\n\nfirst line\n.leading dot\n"
           b"\xc3\xa9t\xc3\xa9 8bit\nlast line\n")

EXIM_DELIVERY = """
begin routers
local:
  driver = accept
  transport = mbox
begin transports
mbox:
  driver = appendfile
  file = {root}/mail/mbox
  user = Debian-exim
  group = Debian-exim
  mode = 0644
"""

CLIENT = """\
keep_environment =
primary_hostname = client.example
qualify_domain = client.example
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
begin transports
t:
  driver = smtp
  port = {port}
  allow_localhost
{options}
"""


def client_dir(tmp: Path, port: int, options: str = "") -> Path:
    d = tmp / "client"
    for sub in ("", "spool", "log"):
        (d / sub).mkdir(exist_ok=True)
        os.chmod(d / sub, 0o777)
    (d / "conf").write_text(CLIENT.format(d=d, port=port, options=options))
    os.chmod(d / "conf", 0o644)
    return d


def relay(tmp: Path, port: int, recipients: list[str], options: str = ""):
    from pexim.delivery.address import Host

    d = client_dir(tmp, port, options)
    return pexim_deliver(d / "conf", "s@client.example", recipients, MESSAGE,
                         [Host("localhost", "127.0.0.1")])


def wire_lf(msg) -> bytes:
    """The message as pexim sent it, with LF line ends (how a mailbox stores it)."""
    from pexim.transports import write

    chunks: list[bytes] = []
    tp = next(iter(msg.config.transports))
    write.write_message(tp, msg, [], None, chunks.append, return_path=msg.sender)
    return b"".join(chunks)


def start_exim(name: str, acls: str = "", rcpt_acl: str = "acl_rcpt") -> Site:
    """A real exim daemon that queues what it receives; -qf delivers to mail/mbox."""
    site = Site(exim=True, name=name, acls=acls)
    (site.root / "mail").mkdir()
    for sub in ("mail", "spool", "log"):
        os.chmod(site.root / sub, 0o777)
    conf = site.conf.read_text().replace("acl_smtp_rcpt = acl_rcpt", f"acl_smtp_rcpt = {rcpt_acl}")
    site.conf.write_text(conf + EXIM_DELIVERY.format(root=site.root))
    site.start()
    return site


@pytest.fixture
def exim_site():
    site = start_exim("relay-exim")
    yield site
    site.cleanup()


def test_relay_to_real_exim(exim_site, tmp_path):
    site = exim_site
    mid, addrs, msg = relay(tmp_path, site.port, ["alice@test.example", "bob@test.example"],
                            "  hosts_try_chunking =")
    assert [a.status for a in addrs] == ["ok", "ok"], [a.message for a in addrs]
    conf = addrs[0].extra["confirmation"]
    exim_id = re.fullmatch(r"250 OK id=(\S+)", conf).group(1)
    log = site.mainlog()
    arrival = next(ln for ln in log.splitlines() if f"{exim_id} <= " in ln)
    assert re.search(r" <= s@client\.example H=\(client\.example\) \[127\.0\.0\.1\]:\d+ "
                     r"P=esmtp S=\d+ id=relay-1@client\.example$", arrival) or \
        re.search(r" <= s@client\.example H=\(client\.example\) \[127\.0\.0\.1\] "
                  r"P=esmtp S=\d+ id=relay-1@client\.example$", arrival), arrival
    assert addrs[0].host_used.address == "127.0.0.1" and addrs[0].host_used.port == site.port
    # exim's queue run puts it in the mailboxes: what we sent, after exim's own headers.
    r = subprocess.run(site.command("-qf"), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    sent = wire_lf(msg)
    mbox = (site.root / "mail" / "mbox").read_bytes()
    assert mbox.startswith(b"From s@client.example ")
    assert mbox.count(sent + b"\n") == 2
    assert mbox.count(b"\nReceived: from [127.0.0.1] (helo=client.example)\n"
                      b"\tby test.example") == 2


def test_relay_with_chunking_to_real_exim(exim_site, tmp_path):
    site = exim_site            # exim advertises CHUNKING to everyone by default
    mid, addrs, msg = relay(tmp_path, site.port, ["carol@test.example"])
    assert addrs[0].status == "ok", addrs[0].message
    assert addrs[0].extra["chunking"] is True
    exim_id = addrs[0].extra["confirmation"].split("id=")[1]
    arrival = next(ln for ln in site.mainlog().splitlines() if f"{exim_id} <= " in ln)
    assert " P=esmtp K S=" in arrival, arrival
    subprocess.run(site.command("-qf"), capture_output=True, timeout=60)
    assert (site.root / "mail" / "mbox").read_bytes().endswith(wire_lf(msg) + b"\n")


def test_exim_refuses_a_recipient(tmp_path):
    site = start_exim("relay-exim-deny", rcpt_acl="acl_deny_bad", acls="""
acl_deny_bad:
  deny    local_parts = bad
          message = unknown user
  accept
""")
    try:
        mid, addrs, msg = relay(tmp_path, site.port, ["good@test.example", "bad@test.example"])
        good, bad = addrs
        assert good.status == "ok"
        assert bad.status == "fail"
        assert bad.message == ("SMTP error from remote mail server after RCPT "
                               "TO:<bad@test.example>: 550 unknown user")
        assert bad.host_used.name == "localhost"
    finally:
        site.cleanup()


def test_relay_to_pexim_daemon(tmp_path):
    site = Site(name="relay-pexim")
    try:
        site.start()
        mid, addrs, msg = relay(tmp_path, site.port, ["dave@test.example"])
        assert addrs[0].status == "ok", addrs[0].message
        pid = addrs[0].extra["confirmation"].split("id=")[1]
        arrival = next(ln for ln in site.mainlog().splitlines() if f"{pid} <= " in ln)
        assert " <= s@client.example H=(client.example) [127.0.0.1] P=esmtp K S=" in arrival
        body = site.file(pid, "-D")
        sent = wire_lf(msg)
        assert body.endswith(sent.split(b"\n\n", 1)[1])
        assert body.startswith(pid.encode() + b"-D\n")
    finally:
        site.cleanup()
