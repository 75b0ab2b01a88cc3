"""The same SMTP traffic against a daemon (real exim's or pexim's): accepted
messages from two hosts and senders, relay attempts, a drop in the RCPT ACL,
a connection dropped for syntax errors, a connection without MAIL and an
early talker; the logs it leaves are what eximstats and fail2ban read.
"""

from __future__ import annotations

import socket
import time

from pexim_site import Site

RCPT_ACL = """acl_rcpt:
  drop    local_parts = drop
          message = go away
  deny    message = relay not permitted
          !domains = b.example
  accept"""
EXTRA = "log_selector = +smtp_no_mail +smtp_connection"

# (client address, helo, sender, recipients, body lines)
MESSAGES = [
    ("127.0.0.1", "one.test", "s1@x.example", ["a@b.example"], 3),
    ("127.0.0.1", "one.test", "s1@x.example", ["a@b.example", "c@b.example"], 40),
    ("127.0.0.1", "one.test", "s1@x.example", ["d@b.example"], 200),
    ("127.0.0.4", "four.test", "s2@y.example", ["a@b.example"], 10),
    ("127.0.0.4", "four.test", "s2@y.example", ["e@b.example"], 1000),
]
RELAY_ATTEMPTS = [("127.0.0.5", "relay.test", "spam@z.example", "victim@elsewhere.example"),
                  ("127.0.0.5", "relay.test", "spam@z.example", "other@elsewhere.example"),
                  ("127.0.0.6", "relay2.test", "spam@z.example", "victim@elsewhere.example")]


def make_site(exim: bool, name: str, owner) -> Site:
    site = Site(EXTRA, exim=exim, name=name, owner=owner)
    site.conf.write_text(site.conf.read_text().replace("acl_rcpt:\n  accept", RCPT_ACL))
    return site


class _Client:
    def __init__(self, port: int, source: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                             source_address=(source, 0))
        self.buf = b""

    def reply(self) -> bytes:
        while True:
            lines = self.buf.split(b"\r\n")
            for i, line in enumerate(lines[:-1]):
                if line[3:4] != b"-":
                    out = b"\r\n".join(lines[:i + 1]) + b"\r\n"
                    self.buf = self.buf[len(out):]
                    return out
            data = self.sock.recv(4096)
            if not data:
                out, self.buf = self.buf, b""
                return out
            self.buf += data

    def cmd(self, text: str) -> bytes:
        self.sock.sendall(text.encode() + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.sock.close()


def run_traffic(site: Site) -> list[bytes]:
    """Drive the traffic; the replies, for the caller to check."""
    out = []
    for n, (source, helo, sender, rcpts, lines) in enumerate(MESSAGES):
        c = _Client(site.port, source)
        out.append(c.reply())
        out.append(c.cmd("EHLO " + helo))
        out.append(c.cmd("MAIL FROM:<%s>" % sender))
        for r in rcpts:
            out.append(c.cmd("RCPT TO:<%s>" % r))
        out.append(c.cmd("DATA"))
        body = "".join("line %d of message %d\r\n" % (i, n) for i in range(lines))
        out.append(c.cmd("Subject: message %d\r\nMessage-Id: <m%d@x.example>\r\n\r\n%s."
                         % (n, n, body)))
        out.append(c.cmd("QUIT"))
        c.close()
    for source, helo, sender, rcpt in RELAY_ATTEMPTS:
        c = _Client(site.port, source)
        c.reply()
        c.cmd("EHLO " + helo)
        c.cmd("MAIL FROM:<%s>" % sender)
        out.append(c.cmd("RCPT TO:<%s>" % rcpt))
        c.cmd("QUIT")
        c.close()
    c = _Client(site.port, "127.0.0.7")          # dropped in the RCPT ACL
    c.reply()
    c.cmd("EHLO drop.test")
    c.cmd("MAIL FROM:<d@x.example>")
    out.append(c.cmd("RCPT TO:<drop@b.example>"))
    c.close()
    c = _Client(site.port, "127.0.0.8")          # too many syntax errors
    c.reply()
    c.cmd("EHLO syntax.test")
    for _ in range(4):
        out.append(c.cmd("MAIL FROM:<broken"))
    c.close()
    c = _Client(site.port, "127.0.0.9")          # no MAIL
    c.reply()
    c.cmd("EHLO nomail.test")
    c.cmd("QUIT")
    c.close()
    time.sleep(0.5)
    return out
