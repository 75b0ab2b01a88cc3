"""The sans-IO SMTP/LMTP client: scripted replies in, commands out, no sockets."""

from __future__ import annotations

import pytest

from pexim.smtp import client_protocol as cp


def message(chunking: bool) -> bytes:
    return b"Subject: x\r\n\r\nbody\r\n" + (b"" if chunking else b".\r\n")


def tx(*rcpts: str, **kw) -> cp.Transaction:
    return cp.Transaction("s@a.example", [cp.Recipient(r) for r in rcpts], message,
                          size=kw.pop("size", 100), **kw)


class Peer:
    """Feeds replies to a client and collects what it sends."""

    def __init__(self, client: cp.SmtpClient):
        self.client = client
        self.sent: list[str] = []

    def reply(self, text: str) -> None:
        self.client.receive_data(text.replace("|", "\r\n").encode() + b"\r\n")

    def take(self) -> list[str]:
        out = self.client.data_to_send().decode()
        lines = [ln for ln in out.split("\r\n") if ln]
        self.sent += lines
        return lines


EHLO = "250-server.example|250-PIPELINING|250-SIZE 1000|250-8BITMIME|250 DSN"


def ready(options=None, ehlo=EHLO) -> Peer:
    p = Peer(cp.SmtpClient(options or cp.ClientOptions("me.example")))
    assert p.take() == []
    p.reply("220 hello")
    assert p.take() == [f"EHLO {p.client.options.helo}"]
    p.reply(ehlo)
    assert p.client.state == cp.READY
    return p


def test_pipelined_transaction_and_quit():
    p = ready()
    t = tx("a@b.example", "c@d.example")
    p.client.start(t)
    assert p.take() == ["MAIL FROM:<s@a.example> SIZE=1124", "RCPT TO:<a@b.example>",
                        "RCPT TO:<c@d.example>", "DATA"]
    p.reply("250 ok|250 ok|550 5.1.1 no such user|354 go")
    assert p.take() == ["Subject: x", "body", "."]
    assert p.client.timeout == "final"
    p.reply("250 OK id=1")
    assert t.done and p.client.state == cp.READY
    assert [r.reply.code for r in t.recipients] == [250, 550]
    assert str(t.final_reply) == "250 OK id=1"
    p.client.quit()
    assert p.take() == ["QUIT"] and p.client.closed


def test_replies_split_anywhere_and_multiline_text():
    p = Peer(cp.SmtpClient(cp.ClientOptions("me")))
    for byte in b"220-first\r\n220 second\r\n":
        p.client.receive_data(bytes([byte]))
    assert p.client.greeting.lines == ["220-first", "220 second"]
    assert str(p.client.greeting) == "220-first\\n220 second"


def test_without_pipelining_one_command_at_a_time():
    p = ready(ehlo="250-server|250 SIZE")
    t = tx("a@b.example")
    p.client.start(t)
    assert p.take() == ["MAIL FROM:<s@a.example> SIZE=1124"]
    p.reply("250 ok")
    assert p.take() == ["RCPT TO:<a@b.example>"]
    p.reply("250 ok")
    assert p.take() == ["DATA"]
    p.reply("354 go")
    assert p.take()[-1] == "."
    p.reply("250 done")
    assert t.final_reply.code == 250


def test_ehlo_refused_falls_back_to_helo():
    p = Peer(cp.SmtpClient(cp.ClientOptions("me")))
    p.reply("220 hi")
    p.take()
    p.reply("500 what")
    assert p.take() == ["HELO me"]
    p.reply("250 hi")
    assert p.client.state == cp.READY and not p.client.esmtp
    t = tx("a@b.example")
    p.client.start(t)
    assert p.take() == ["MAIL FROM:<s@a.example>"]


def test_greeting_refused_sends_quit():
    p = Peer(cp.SmtpClient(cp.ClientOptions("me")))
    p.reply("554 go away")
    assert p.take() == ["QUIT"]
    assert p.client.closed
    f = p.client.failure
    assert (f.kind, f.command, str(f.reply)) == (cp.REPLY_ERROR, "initial connection",
                                                 "554 go away")


def test_chunking_sends_bdat_last():
    p = ready(cp.ClientOptions("me", chunking=True), ehlo="250-x|250-CHUNKING|250 PIPELINING")
    t = tx("a@b.example")
    p.client.start(t)
    out = p.client.data_to_send()
    assert out.startswith(b"MAIL FROM:<s@a.example>\r\nRCPT TO:<a@b.example>\r\n")
    p.reply("250 ok|250 ok")
    out = p.client.data_to_send()
    assert out == b"BDAT 20 LAST\r\nSubject: x\r\n\r\nbody\r\n"
    p.reply("250 got it")
    assert t.chunking and t.final_reply.code == 250


def test_dsn_parameters_only_when_offered():
    p = ready()
    t = cp.Transaction("s@a.example", [
        cp.Recipient("a@b.example", cp.RF_NOTIFY_SUCCESS | cp.RF_NOTIFY_DELAY,
                     "rfc822;a@b.example"),
        cp.Recipient("c@d.example", cp.RF_NOTIFY_NEVER)], message, dsn_ret="HDRS",
        dsn_envid="xyz")
    p.client.start(t)
    assert p.take()[:3] == ["MAIL FROM:<s@a.example> RET=HDRS ENVID=xyz",
                            "RCPT TO:<a@b.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@b.example",
                            "RCPT TO:<c@d.example> NOTIFY=NEVER"]
    assert t.dsn_passed
    q = ready(ehlo="250-x|250 PIPELINING")
    t2 = cp.Transaction("s@a.example", [cp.Recipient("a@b.example", cp.RF_NOTIFY_SUCCESS)],
                        message, dsn_ret="FULL")
    q.client.start(t2)
    assert q.take()[:2] == ["MAIL FROM:<s@a.example>", "RCPT TO:<a@b.example>"]
    assert not t2.dsn_passed


@pytest.mark.parametrize("when, step", [
    ("250 ok", "pipelined RCPT TO:<a@b.example>"),
    ("", "pipelined MAIL FROM:<s@a.example> SIZE=1124"),
])
def test_connection_lost_names_the_step(when, step):
    p = ready()
    t = tx("a@b.example")
    p.client.start(t)
    p.take()
    if when:
        p.reply(when)
    p.client.receive_data(b"")
    assert p.client.closed
    assert (t.failure.kind, t.failure.command) == (cp.CLOSED_BY_PEER, step)


def test_timeout_and_malformed_reply():
    p = ready()
    t = tx("a@b.example")
    p.client.start(t)
    p.take()
    p.client.timed_out()
    assert (t.failure.kind, t.failure.command) == (cp.TIMEOUT,
                                                   "pipelined MAIL FROM:<s@a.example> SIZE=1124")
    q = ready()
    t2 = tx("a@b.example")
    q.client.start(t2)
    q.take()
    q.reply("2x0 bad")
    assert (t2.failure.kind, t2.failure.text) == (cp.FORMAT_ERROR, "2x0 bad")


def test_all_recipients_refused_then_rset_before_the_next_message():
    p = ready()
    t = tx("a@b.example")
    p.client.start(t)
    p.take()
    p.reply("250 ok|550 no|503 no valid recipients")
    assert t.done and not t.accepted and p.client.state == cp.READY
    t2 = tx("c@d.example")
    p.client.start(t2)
    assert p.take() == ["RSET"]
    p.reply("250 reset")
    assert p.take()[0] == "MAIL FROM:<s@a.example> SIZE=1124"


def test_lmtp_one_reply_per_accepted_recipient():
    p = Peer(cp.SmtpClient(cp.ClientOptions("me", lmtp=True, ignore_quota=True)))
    p.reply("220 lmtp")
    assert p.take() == ["LHLO me"]
    p.reply("250-x|250-PIPELINING|250 IGNOREQUOTA")
    t = tx("a@b.example", "bad@b.example", "c@b.example")
    p.client.start(t)
    assert p.take()[1] == "RCPT TO:<a@b.example> IGNOREQUOTA"
    p.reply("250 ok|250 ok|550 unknown|250 ok|354 go")
    p.take()
    p.reply("250 2.0.0 a saved")
    assert not t.done
    p.reply("452 4.2.2 c over quota")
    assert t.done
    assert [str(r.data_reply) if r.data_reply else None for r in t.recipients] == [
        "250 2.0.0 a saved", None, "452 4.2.2 c over quota"]


def test_lmtp_lhlo_refused_is_an_error():
    p = Peer(cp.SmtpClient(cp.ClientOptions("me", lmtp=True)))
    p.reply("220 lmtp")
    p.take()
    p.reply("500 no")
    assert p.take() == ["QUIT"]
    assert p.client.failure.command == "LHLO me"


def test_error_text():
    r = cp.Reply(550, ["550-5.1.1 first", "550 second"])
    assert cp.error_text("RCPT TO:<a@b>", r) == (
        "SMTP error from remote mail server after RCPT TO:<a@b>: 550-5.1.1 first\\n550 second")
