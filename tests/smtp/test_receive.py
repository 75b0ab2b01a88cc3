"""The end-of-DATA path without a network: a LiveSession fed bytes, the spool checked."""

from __future__ import annotations

import pytest

from pexim.config.loader import load
from pexim.log import Logger
from pexim.smtp.connection import LiveSession
from pexim.smtp.receive import Receiver, split_message
from pexim.spool.reader import parse_header_file

CONF = """\
keep_environment =
primary_hostname = test.example
spool_directory = {root}/spool
log_file_path = {root}/log/%slog
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data
begin acl
acl_rcpt:
  accept set acl_c_conn = c-value
acl_data:
  deny    condition = ${{if eq{{$h_subject:}}{{reject me}}}}
          message = no thanks
  accept  set acl_m_count = $body_linecount
          add_header = X-Added: yes
          remove_header = X-Remove-Me
"""


@pytest.fixture
def session(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(CONF.format(root=tmp_path))
    config = load(str(conf))
    logger = Logger.from_config(config)
    (tmp_path / "log").mkdir()
    receiver = Receiver(config, logger)
    s = LiveSession(config, receiver, lambda text, flags: logger.main(text), "192.0.2.7",
                    4321, ("192.0.2.1", 25), ("exim", 1, 2))
    s.root = tmp_path
    s.server.start()
    return s


def talk(s, *lines: bytes) -> bytes:
    return s.server.feed(b"".join(lines))


def envelope(s) -> None:
    talk(s, b"EHLO client.test\r\n", b"MAIL FROM:<s@x.example>\r\n", b"RCPT TO:<a@b.example>\r\n",
         b"DATA\r\n")


def spooled(s):
    inp = s.root / "spool" / "input"
    return sorted(p.name for p in inp.iterdir()) if inp.exists() else []


def test_accepted_message(session):
    envelope(session)
    out = talk(session, b"Subject: hi\r\nX-Remove-Me: x\r\n\r\nbody\r\n\0zero\r\n..dot\r\n.\r\n")
    assert out.startswith(b"250 OK id=")
    mid = out[10:].strip().decode()
    assert spooled(session) == [mid + "-D", mid + "-H"]
    msg = parse_header_file((session.root / "spool" / "input" / (mid + "-H")).read_bytes())
    assert msg.sender == "s@x.example"
    assert (msg.originator_login, msg.originator_uid, msg.originator_gid) == ("exim", 1, 2)
    assert (msg.host_address, msg.host_port) == ("192.0.2.7", 4321)
    assert (msg.interface_address, msg.interface_port) == ("192.0.2.1", 25)
    assert msg.helo_name == "client.test" and msg.received_protocol == "esmtp"
    assert (msg.body_linecount, msg.body_zerocount) == (3, 1)
    assert msg.max_received_linelength == len("X-Remove-Me: x")
    assert msg.acl_c == {"acl_c_conn": "c-value"}
    assert msg.acl_m == {"acl_m_count": "3"}
    assert [r.address for r in msg.recipients] == ["a@b.example"]
    assert [(h.type, h.name) for h in msg.headers] == [
        ("P", "Received"), (" ", "Subject"), ("*", "X-Remove-Me"), (" ", "X-Added")]
    assert msg.headers[0].text.startswith(
        "Received: from [192.0.2.7] (helo=client.test)\n\tby test.example with esmtp")
    body = (session.root / "spool" / "input" / (mid + "-D")).read_bytes()
    assert body == (mid + "-D\nbody\n\0zero\n.dot\n").encode()
    log = (session.root / "log" / "mainlog").read_text()
    size = sum(len(h.text) for h in msg.headers if h.type != "*") + len(body) - 19 + 1
    assert "%s <= s@x.example H=(client.test) [192.0.2.7] P=esmtp S=%d\n" % (mid, size) in log


def test_rejected_message_leaves_nothing(session):
    envelope(session)
    out = talk(session, b"Subject: reject me\r\n\r\nbody\r\n.\r\n")
    assert out == b"550 no thanks\r\n"
    assert spooled(session) == []
    assert "rejected after DATA: no thanks" in (session.root / "log" / "mainlog").read_text()


def test_spool_failure_is_not_acknowledged(session, monkeypatch):
    """A failing commit raises: the caller never gets a 250 to send."""
    from pexim.spool import writer

    def broken(*a, **k):
        raise writer.SpoolError(28, "spool file write error while receiving: No space")
    monkeypatch.setattr(writer, "write_header", broken)
    envelope(session)
    with pytest.raises(writer.SpoolError):
        talk(session, b"Subject: x\r\n\r\nbody\r\n.\r\n")
    assert spooled(session) == []


@pytest.mark.parametrize("lines,count,start", [
    ([b"A: 1", b" cont", b"", b"body"], 1, 3),
    ([b"not a header", b"B: 2"], 0, 0),
    ([b"A: 1", b"B: 2"], 2, 2),
    ([b"From x", b"A: 1"], 0, 0),
])
def test_split_message(lines, count, start):
    headers, first = split_message(lines)
    assert (len(headers), first) == (count, start)
