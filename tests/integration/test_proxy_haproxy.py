"""pexim behind a real HAProxy (send-proxy and send-proxy-v2), next to real exim.

HAProxy listens on 127.0.0.1 and connects to the daemons from 127.0.0.2 (the
only host in hosts_proxy); the client connects to HAProxy from 127.0.0.3.
The "<=" lines must name the client, with PRX= the proxy, exactly as real
exim's do behind the same HAProxy; the spooled -host_address is the client's.
A direct connection from 127.0.0.2 that sends no header gets Exim's 503s.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import smtplib
import socket
import subprocess
import time

import pytest
from pexim_site import HAVE_EXIM, ROOT, Site, free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
pytestmark = pytest.mark.skipif(not (HAVE_EXIM and ROOT and os.path.exists(HAPROXY)),
                                reason="needs real exim and haproxy, as root")

# (not +incoming_port: pexim's Received: header lacks exim's "port=" with it, proxy or not)
EXTRA = """hosts_proxy = 127.0.0.2
log_selector = +proxy +smtp_connection"""
CLIENT = "127.0.0.3"
MESSAGE = b"From: s@x.example\r\nTo: a@b.example\r\nSubject: through haproxy\r\n\r\nhello\r\n"


def refusal(site: Site) -> str | None:
    from pexim.config.loader import load
    from pexim.config.support import refusal as why
    return why(load(str(site.conf)), "-bd")


class HAProxy:
    """haproxy -db with one frontend per (daemon, PROXY version); stopped by PID."""

    def __init__(self, root, backends: dict[str, tuple[int, str]]):
        self.ports = {name: free_port() for name in backends}
        parts = ["global\n  maxconn 200\n", "defaults\n  mode tcp\n  timeout connect 5s\n"
                 "  timeout client 30s\n  timeout server 30s\n"]
        for name, (port, send) in backends.items():
            parts.append("frontend f_%s\n  bind 127.0.0.1:%d\n  default_backend b_%s\n"
                         % (name, self.ports[name], name))
            parts.append("backend b_%s\n  server s1 127.0.0.1:%d %s source 127.0.0.2\n"
                         % (name, port, send))
        self.cfg = root / "haproxy.cfg"
        self.cfg.write_text("".join(parts))
        self.proc = subprocess.Popen([HAPROXY, "-f", str(self.cfg), "-db"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for port in self.ports.values():
            _wait_listening(port)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _wait_listening(port: int, timeout: float = 10) -> None:
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError("haproxy is not listening on %d" % port)


@pytest.fixture(scope="module")
def setup():
    pw = pwd.getpwnam("Debian-exim")
    owner = (pw.pw_uid, pw.pw_gid)
    theirs = Site(EXTRA, exim=True, name="hpe", owner=owner)
    ours = Site(EXTRA, name="hpp", owner=owner)
    proxy = None
    try:
        reason = refusal(ours)
        if reason is not None:
            pytest.skip("hosts_proxy awaits main_options.SUPPORTED: " + reason.splitlines()[-2])
        theirs.start()
        ours.start()
        proxy = HAProxy(ours.root, {
            "exim_v1": (theirs.port, "send-proxy"), "exim_v2": (theirs.port, "send-proxy-v2"),
            "pexim_v1": (ours.port, "send-proxy"), "pexim_v2": (ours.port, "send-proxy-v2")})
        yield {"exim": theirs, "pexim": ours}, proxy
    finally:
        if proxy is not None:
            proxy.stop()
        theirs.cleanup()
        ours.cleanup()


def send_through(port: int) -> tuple[str, int]:
    """A message from 127.0.0.3 through HAProxy: (queue id, client port)."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test",
                      source_address=(CLIENT, 0), timeout=30) as c:
        client_port = c.sock.getsockname()[1]
        c.ehlo("client.test")
        assert c.mail("s@x.example")[0] == 250
        assert c.rcpt("a@b.example")[0] == 250
        code, text = c.data(MESSAGE)
        assert code == 250, text
    return text.decode().split("id=")[1], client_port


def arrival(site: Site, mid: str) -> str:
    for _ in range(50):
        for line in site.mainlog().splitlines():
            if " %s <= " % mid in line:
                return line
        time.sleep(0.1)
    raise AssertionError("no <= line for %s in\n%s" % (mid, site.mainlog()))


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_arrival_names_client_and_proxy_like_exim(setup, version):
    sites, proxy = setup
    lines = {}
    for who, site in sites.items():
        mid, client_port = send_through(proxy.ports["%s_%s" % (who, version)])
        line = arrival(site, mid)
        assert re.search(r" H=\(client\.test\) \[127\.0\.0\.3\] P=esmtp PRX=127\.0\.0\.2 S=\d+$",
                         line), line
        h = site.file(mid, "-H").decode()
        assert "-host_address [127.0.0.3]:%d\n" % client_port in h
        assert "-interface_address [127.0.0.1]:%d\n" % site.port in h
        lines[who] = line.split(" ", 3)[3]
        # the connection line names HAProxy (logged before the header is read)
        assert "SMTP connection from [127.0.0.2] (TCP/IP connection count" in site.mainlog()
        assert "no host name found for IP address 127.0.0.3" in site.mainlog()
    assert lines["pexim"] == lines["exim"]


def test_direct_connection_without_header_gets_503(setup):
    sites, _ = setup
    out = {}
    for who, site in sites.items():
        with socket.create_connection(("127.0.0.1", site.port), timeout=10,
                                      source_address=("127.0.0.2", 0)) as s:
            s.sendall(b"EHLO direct.test\r\n")
            f = s.makefile("rb")
            banner = f.readline()
            replies = []
            for cmd in (b"MAIL FROM:<s@x.example>\r\n", b"QUIT\r\n"):
                s.sendall(cmd)
                replies.append(f.readline())
        assert banner.startswith(b"220 test.example ESMTP Exim 4.96 ")
        out[who] = replies
    assert out["pexim"] == [b"503 Command refused, required Proxy negotiation failed\r\n",
                            b"221 test.example closing connection\r\n"]
    assert out["pexim"] == out["exim"]
