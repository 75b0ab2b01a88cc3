"""The sans-IO SMTP state machine with stub hooks: no sockets, no config."""

from __future__ import annotations

from pexim.acl import where as W
from pexim.smtp.replies import message_code, respond
from pexim.smtp.server_protocol import Settings, SmtpServer


class Hooks:
    def __init__(self, acls=None):
        self.acls = acls or {}
        self.logs: list[str] = []

    def check_host(self, option):
        return option.endswith("advertise_hosts") and option != "dsn_advertise_hosts"

    def helo_lookup(self, name):
        return False

    def acl(self, where, recipient):
        return self.acls.get(where)

    def acl_missing(self, where):
        return (W.FAIL, None, None)

    def log(self, text, reject=False, panic=False, selector=None):
        self.logs.append(text)

    def log_reject(self, text, where):
        self.logs.append(text)

    def debug(self, text):
        pass

    def set_vars(self, **values):
        pass

    def reset_message(self):
        pass

    def helo_changed(self):
        pass

    def banner(self):
        return "mx ESMTP test"

    def no_multiline(self):
        return False

    def pipelining_disabled(self):
        return False

    def auth_mechanisms(self):
        return []

    def tls_available(self):
        return False

    def temp_details(self):
        return False

    def sender_verify_report(self, rc, code, respond):
        pass

    def qualify_domain(self, recipient):
        return "example.org"

    def receive(self, env, data, server):
        self.received = (env, data)
        return b"250 OK\r\n"


def server(**acls):
    h = Hooks(acls)
    s = SmtpServer(Settings(active_hostname="mx", host_address="192.0.2.1"), h)
    return s, h


def test_banner_and_helo():
    s, _ = server()
    assert s.start() == b"220 mx ESMTP test\r\n"
    assert s.feed(b"HELO client\r\n") == b"250 mx Hello client [192.0.2.1]\r\n"


def test_partial_lines_are_buffered():
    s, _ = server()
    s.start()
    assert s.feed(b"NO") == b""
    assert s.feed(b"OP\r\n") == b"250 OK\r\n"


def test_transaction_and_dot_stuffing():
    s, h = server(RCPT=(W.OK, None, None))
    s.start()
    out = s.feed(b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n"
                 b"Subject: x\r\n\r\n..dot\r\n.\r\n")
    assert out.endswith(b"354 Enter message, ending with \".\" on a line by itself\r\n"
                        b"250 OK\r\n")
    env, data = h.received
    assert env.sender == "a@b.c" and env.recipients == ["d@e.f"]
    assert data == [b"Subject: x", b"", b".dot"]


def test_no_rcpt_acl_refuses_and_data_explains():
    s, _ = server()
    s.start()
    out = s.feed(b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n")
    assert out.split(b"\r\n")[-5:-1] == [
        b"550 Administrative prohibition",
        b"503-All RCPT commands were rejected with this error:",
        b"503-Administrative prohibition",
        b"503 Valid RCPT command must precede DATA"]


def test_unknown_commands_drop_connection():
    s, h = server()
    s.start()
    out = s.feed(b"A\r\nB\r\nC\r\nD\r\nNOOP\r\n")
    assert out == b"500 unrecognized command\r\n" * 3 + b"500 Too many unrecognized commands\r\n"
    assert s.closed


def test_reply_helpers():
    assert message_code("550", "450 4.1.1 nope") == (
        "550", "nope", 'configured error code starts with incorrect digit (expected 5) '
        'in "450 4.1.1 nope"')
    assert message_code("550", "551 5.1.1 moved") == ("551 5.1.1 ", "moved", None)
    assert respond("550 5.1.1 ", True, "a\nb") == b"550-5.1.1 a\r\n550 5.1.1 b\r\n"


# --- SMTP smuggling: pexim has Exim 4.97.1's defence, Exim 4.96 does not --------
# (docs/differences.md).  exim 4.96 ends the data at LF "." LF or CRLF "." LF too,
# so these sessions cannot be compared with the reference binary.

def _data_session(body: bytes):
    s, h = server(RCPT=(W.OK, None, None))
    s.start()
    s.feed(b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n")
    out = s.feed(b"DATA\r\n" + body)
    return s, h, out


def test_bare_lf_dot_bare_lf_is_not_end_of_data():
    s, h, out = _data_session(b"Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@x.y>\r\n")
    assert out == b"354 Enter message, ending with \".\" on a line by itself\r\n"
    assert s.in_data and not hasattr(h, "received")
    out = s.feed(b".\r\n")
    assert out == b"250 OK\r\n"
    env, data = h.received
    assert data == [b"Subject: x", b"", b"hello", b".", b"MAIL FROM:<evil@x.y>"]


def test_crlf_dot_bare_lf_and_bare_lf_dot_crlf_are_data():
    for body in (b"a\r\n.\nMAIL FROM:<e@x.y>\r\n", b"a\n.\r\nMAIL FROM:<e@x.y>\r\n"):
        s, h, out = _data_session(body)
        assert s.in_data and not hasattr(h, "received"), body
        assert s.feed(b".\r\n") == b"250 OK\r\n"
        assert h.received[1] == [b"a", b".", b"MAIL FROM:<e@x.y>"]


def test_crlf_dot_crlf_ends_data_even_after_bare_lf_lines():
    s, h, out = _data_session(b"a\nb\r\n.\r\n")
    assert out.endswith(b"250 OK\r\n") and not s.in_data
    assert h.received[1] == [b"a", b"b"]


def test_first_line_dot_ends_empty_message():
    s, h, out = _data_session(b".\r\n")
    assert out.endswith(b"250 OK\r\n") and h.received[1] == []
