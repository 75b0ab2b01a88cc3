"""PROXY protocol sessions against real exim and pexim daemons, compared.

Each case in tests/data/proxy/sessions.txt is a connection from 127.0.0.2 (in
hosts_proxy): a header, then commands.  The replies and the main log lines of
the connection (connect and MAIL ACLs log the proxy variables) must be the
same, up to dates, message ids and the ports the kernel picked.

Not compared, on purpose: a message received after "PROXY UNKNOWN" or a v2
LOCAL header with +proxy, which crashes Exim 4.96 (NULL proxy_local_address
in the "<=" line); pexim leaves PRX= out.
"""

from __future__ import annotations

import pwd
import re
import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from pexim_site import HAVE_EXIM, ROOT, Site  # noqa: E402

pytestmark = pytest.mark.skipif(not (HAVE_EXIM and ROOT), reason="needs real exim, as root")

CASES = Path(__file__).resolve().parents[1] / "data" / "proxy" / "sessions.txt"
VARS = ("ext=$proxy_external_address:$proxy_external_port "
        "loc=$proxy_local_address:$proxy_local_port sess=$proxy_session "
        "sha=$sender_host_address:$sender_host_port rcv=$received_ip_address "
        "fh=$sender_fullhost rh=$sender_rcvhost")
EXTRA = """hosts_proxy = 127.0.0.2
proxy_protocol_timeout = 1s
log_selector = +proxy +smtp_connection
acl_smtp_connect = acl_conn
acl_smtp_mail = acl_mail"""
ACLS = """acl_conn:
  warn logwrite = CONN %s
  accept
acl_mail:
  warn logwrite = MAIL %s
  accept
""" % (VARS, VARS)


def parse_cases():
    cases, cur = [], None
    for line in CASES.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("== "):
            cur = {"name": line[3:].strip(), "sends": []}
            cases.append(cur)
        elif line.startswith("header: "):
            text = line[8:].strip()
            cur["header"] = None if text == "none" else eval(  # noqa: S307 - test data
                text, {"__builtins__": {}})
        else:
            cur["sends"].append(line.replace("\\r", "\r").replace("\\n", "\n") + "\r\n")
    return cases


def refusal(site: Site) -> str | None:
    """pexim's refusal of this configuration (hosts_proxy not yet marked supported)."""
    from pexim.config.loader import load
    from pexim.config.support import refusal as why
    return why(load(str(site.conf)), "-bd")


def _reply(sock, buf: bytearray) -> bytes:
    """One complete reply (up to a "NNN " line), or what came before EOF."""
    while True:
        m = re.search(rb"(?m)^\d{3} [^\n]*\n", bytes(buf))
        if m:
            out = bytes(buf[:m.end()])
            del buf[:m.end()]
            return out
        try:
            data = sock.recv(4096)
        except socket.timeout:
            return b"<timeout>" + bytes(buf)
        if not data:
            out = bytes(buf) + b"<eof>"
            buf.clear()
            return out
        buf += data


def run_case(site: Site, case) -> tuple[list[str], list[str]]:
    before = len(site.mainlog().splitlines())
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=5,
                                    source_address=("127.0.0.2", 0))
    buf = bytearray()
    replies = []
    with sock:
        if case["header"] is not None:
            sock.sendall(case["header"])
        replies.append(_reply(sock, buf))
        for send in case["sends"]:
            sock.sendall(send.encode("latin-1"))
            replies.append(_reply(sock, buf))
            if send.upper() == "QUIT\r\n":
                break
        replies.append(_reply(sock, buf))      # the close
    time.sleep(0.3)
    lines = site.mainlog().splitlines()[before:]
    return [normalise(r.decode("latin-1"), site) for r in replies], \
        [normalise(ln.split(" ", 2)[2], site) for ln in lines]


def normalise(text: str, site: Site) -> str:
    text = re.sub(r"\w{6}-\w{6}-\w{2}", "ID", text)
    text = re.sub(r"ESMTP Exim 4\.96 .*", "ESMTP Exim 4.96 DATE", text)
    text = text.replace(":%d" % site.port, ":PORT")
    return re.sub(r"(?<=[:=])(?:[1-6]\d{4})\b", "EPH", text)   # kernel-chosen ports


@pytest.fixture(scope="module")
def sites():
    pw = pwd.getpwnam("Debian-exim")
    owner = (pw.pw_uid, pw.pw_gid)
    theirs = Site(EXTRA, ACLS, exim=True, name="pxe", owner=owner)
    ours = Site(EXTRA, ACLS, name="pxp", owner=owner)
    reason = refusal(ours)
    if reason is not None:
        theirs.cleanup()
        ours.cleanup()
        pytest.skip("hosts_proxy awaits main_options.SUPPORTED: " + reason.splitlines()[-2])
    try:
        theirs.start()
        ours.start()
        time.sleep(0.3)
        yield theirs, ours
    finally:
        theirs.cleanup()
        ours.cleanup()


@pytest.mark.parametrize("case", parse_cases(), ids=lambda c: c["name"])
def test_proxy_session_like_exim(sites, case):
    theirs, ours = sites
    want = run_case(theirs, case)
    got = run_case(ours, case)
    assert got[0] == want[0]
    assert got[1] == want[1]
