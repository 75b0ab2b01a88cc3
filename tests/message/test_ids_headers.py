"""Message ids, Received: host text and local fix-ups against real Exim 4.96."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "spool"))
from eximspool import Site, needs_exim_root  # noqa: E402

from pexim.config.loader import load  # noqa: E402
from pexim.expand import ExpandContext  # noqa: E402
from pexim.message.headers import (  # noqa: E402
    Submission,
    apply_local_fixups,
    local_fixups,
    received_header,
    typed,
)
from pexim.message.hostinfo import sender_fullhost, sender_rcvhost  # noqa: E402
from pexim.message.ids import (  # noqa: E402
    MessageIdGenerator,
    format_id,
    id_time,
    is_message_id,
    unbase62,
)
from pexim.spool.reader import parse_header_file  # noqa: E402


@needs_exim_root
@pytest.mark.parametrize("localhost_number", [None, 3, 16])
def test_ids_match_what_exim_generates(localhost_number):
    extra = "" if localhost_number is None else f"localhost_number = {localhost_number}"
    site = Site(extra, name="ids")
    for _ in range(3):
        site.exim("-odq", "-f", "s@x", "r@y.example", input=b"Subject: x\n\nx\n")
    for line in site.mainlog().splitlines():
        mid = line.split()[2]
        pid = unbase62(mid[7:13])
        msg = parse_header_file(site.file(mid, "-H"))
        sec, usec = msg.received_time
        # exim takes the id's time just before received_time; same tick in practice
        assert format_id(sec, pid, usec, localhost_number) == mid


def test_generator_is_unique_and_increasing_under_a_stuck_clock():
    slept = []
    gen = MessageIdGenerator(pid=4242, clock=lambda: 1_700_000_000_000_000_000,
                             sleep=slept.append, max_ahead=1.0)
    ids = [gen.new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000 and ids == sorted(ids)
    assert all(is_message_id(i) for i in ids)
    assert id_time(ids[0]) == 1_700_000_000 and id_time(ids[-1]) == 1_700_000_004
    assert slept                      # it waited once it ran more than 1s ahead
    gen.close()
    assert slept[-1] > 4.9            # close() waits for the clock to pass the last tick


def test_localhost_number_range():
    with pytest.raises(ValueError):
        MessageIdGenerator(localhost_number=17)
    ids = {format_id(1, 1, u, 16) for u in range(0, 1_000_000, 5000)}
    assert len(ids) == 200 and all(is_message_id(i) for i in ids)


CASES = [  # (-oMa, -oMs host name or None, HELO)
    ("192.0.2.7", None, "client.example"),
    ("192.0.2.7", "mail.example", "client.example"),
    ("192.0.2.7", "mail.example", "MAIL.example"),
    ("192.0.2.7", None, "[192.0.2.7]"),
    ("192.0.2.7", None, "[192.0.2.8]"),
]


@needs_exim_root
@pytest.mark.parametrize("ip,name,helo", CASES)
@pytest.mark.parametrize("selector", ["", "+incoming_port"])
def test_received_header_and_fullhost_match_exim(ip, name, helo, selector):
    site = Site(f"log_selector = {selector}" if selector else "", name="rcv")
    args = ["-bs", "-oMa", f"{ip}.4321"] + (["-oMs", name] if name else [])
    r = site.exim(*args, input=(f"HELO {helo}\r\nMAIL FROM:<a@b.example>\r\n"
                                "RCPT TO:<c@d.example>\r\nDATA\r\nSubject: s\r\n\r\nx\r\n.\r\n"
                                "QUIT\r\n").encode())
    assert b"250 OK" in r.stdout, r.stdout
    mid = site.last_id()
    msg = parse_header_file(site.file(mid, "-H"))
    log_port = bool(selector)
    ctx = ExpandContext(load(str(site.conf)), values={
        "sender_rcvhost": sender_rcvhost(ip, 4321, helo, name, "root", log_port),
        "sender_ident": "root", "sender_helo_name": helo, "received_protocol": "smtp",
        "sender_address": "a@b.example"})
    mine = received_header(ctx, mid, msg.received_time[0], ["c@d.example"])
    assert mine.text == msg.headers[0].text and mine.type == "P"
    fullhost = sender_fullhost(ip, 4321, helo, name, log_port)
    assert f" H={fullhost} U=root P=smtp S=" in site.mainlog()


@needs_exim_root
def test_local_fixups_for_root_without_f():
    site = Site(name="fix")
    site.exim("-odq", "r@y.example", input=b"Subject: a\n\nx\n")
    mid = site.last_id()
    msg = parse_header_file(site.file(mid, "-H"))
    sub = Submission(mid, "test.example", "test.example", "root@test.example", "root", "root")
    added = local_fixups([typed("Subject: a\n")], sub, msg.received_time[0])
    assert [(h.type, h.text) for h in added] == [(h.type, h.text) for h in msg.headers[2:]]


def test_fixups_keep_existing_headers_and_add_sender_for_untrusted():
    sub = Submission("1abcde-000001-00", "h.example", "q.example", "u@q.example", "u", "U Ser")
    existing = [typed("From: Other <other@x>\n"), typed("Message-ID: <k@x>\n"),
                typed("Date: today\n")]
    added = local_fixups(existing, sub, 0)
    assert [h.text for h in added] == ["Sender: U Ser <u@q.example>\n"]
    assert local_fixups([typed("From: u@q.example\n")], sub, 0)[1].text.startswith("Date:")


@needs_exim_root
def test_resent_fixups_go_to_the_top_as_in_exim():
    """A resent message gets Resent-Date: and Resent-Message-Id: first (exim -odq)."""
    site = Site(name="resent")
    site.exim("-odq", "r@y.example", input=b"Resent-From: x@y\nSubject: a\n\nx\n")
    mid = site.last_id()
    msg = parse_header_file(site.file(mid, "-H"))
    sub = Submission(mid, "test.example", "test.example", "root@test.example", "root", "root",
                     trusted=True, resent=True)
    headers = [typed("Resent-From: x@y\n", True), typed("Subject: a\n", True)]
    apply_local_fixups(headers, sub, msg.received_time[0])
    want = [h.text.split(":")[0] for h in msg.headers if not h.text.startswith("Received:")]
    assert [h.text.split(":")[0] for h in headers] == want
