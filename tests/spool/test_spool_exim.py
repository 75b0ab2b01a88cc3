"""pexim's spool files against real Exim 4.96: same bytes, and exim's tools read them.

Real exim queues a message; pexim builds the same message from the same
inputs (ids and times taken from exim's run, everything else computed) and
writes it into a second spool.  The -H/-D bytes must be identical, and
`exim -bp/-bpc/-Mvh/-Mvb` and `exipick` must print the same for both queues.
"""

from __future__ import annotations

import os
import subprocess

from eximspool import EXIM_OWNER, Site, needs_exim_root

from pexim.config.loader import load
from pexim.expand import ExpandContext, Tainted
from pexim.message.envelope import RF_NOTIFY_DELAY, RF_NOTIFY_SUCCESS, Recipient, SpoolMessage
from pexim.message.headers import Submission, local_fixups, received_header, typed
from pexim.message.hostinfo import sender_rcvhost
from pexim.spool.paths import SpoolPaths
from pexim.spool.reader import parse_header_file, read_body
from pexim.spool.writer import DataFile

pytestmark = needs_exim_root


def _split(raw: bytes) -> tuple[list[str], bytes]:
    head, _, body = raw.partition(b"\n\n")
    lines = [ln + "\n" for ln in head.decode("latin-1").split("\n")]
    return lines, body


def _stats(lines: list[str], body: bytes) -> tuple[int, int]:
    """(body_linecount, max_received_linelength) as receive.c counts them."""
    all_lines = [ln.rstrip("\n") for ln in lines] + body.decode("latin-1").split("\n")[:-1]
    return body.count(b"\n"), max(len(x) for x in all_lines)


def _times(site: Site, mid: str):
    m = parse_header_file(site.file(mid, "-H"))
    return m.received_time, m.received_time_complete


def _write(paths: SpoolPaths, msg: SpoolMessage, body: bytes, wireformat=False) -> None:
    df = DataFile(paths, msg.id, EXIM_OWNER, wireformat)
    df.write(body)
    df.commit(msg)
    df.close()


def _compare_tools(a: Site, b: Site, mid: str) -> None:
    for args in (["-bp"], ["-bpc"], ["-bpr"], ["-Mvh", mid], ["-Mvb", mid]):
        ra, rb = a.exim(*args), b.exim(*args)
        assert (ra.returncode, ra.stdout) == (rb.returncode, rb.stdout), args
        assert mid in rb.stdout.decode() or args == ["-bpc"]
    pa = subprocess.run(["exipick", "-C", str(a.conf), "-bpa"], capture_output=True)
    pb = subprocess.run(["exipick", "-C", str(b.conf), "-bpa"], capture_output=True)
    # exipick lists a message's recipients in Perl hash order, which changes from
    # run to run even on the same queue: compare the lines as sets.
    assert sorted(pa.stdout.splitlines()) == sorted(pb.stdout.splitlines())
    assert mid.encode() in pb.stdout


def test_local_submission_is_byte_identical():
    exim_site, pexim_site = Site(name="exim"), Site(name="pexim")
    raw = b"Subject: hi there\nTo: someone@y.example\n\nbody line\n\nlast\n"
    r = exim_site.exim("-odq", "-f", "sender@x.example", "rcpt@y.example", input=raw)
    assert r.returncode == 0, r.stderr
    mid = exim_site.last_id()
    received, complete = _times(exim_site, mid)

    config = load(str(pexim_site.conf))
    lines, body = _split(raw)
    ctx = ExpandContext(config, values={
        "sender_ident": "root", "received_protocol": "local",
        "sender_address": "sender@x.example"})
    headers = [received_header(ctx, mid, received[0], ["rcpt@y.example"])]
    headers += [typed(h) for h in lines]
    headers += local_fixups(headers, Submission(
        mid, "test.example", "test.example", "sender@x.example", "root", "root",
        trusted=True, sender_forced=True), received[0])
    linecount, maxlen = _stats(lines, body)
    msg = SpoolMessage(
        id=mid, sender="sender@x.example", received_time=received,
        received_time_complete=complete, ident="root", received_protocol="local",
        body_linecount=linecount, max_received_linelength=maxlen,
        allow_unqualified_recipient=True, allow_unqualified_sender=True,
        deliver_firsttime=True, recipients=[Recipient("rcpt@y.example")], headers=headers)
    paths = SpoolPaths.from_config(config)
    _write(paths, msg, body)

    assert pexim_site.file(mid, "-H") == exim_site.file(mid, "-H")
    assert pexim_site.file(mid, "-D") == exim_site.file(mid, "-D")
    assert read_body(paths, mid) == body
    _compare_tools(exim_site, pexim_site, mid)


SMTP = (b"EHLO client.example\r\nMAIL FROM:<a@b.example> RET=HDRS ENVID=xyz\r\n"
        b"RCPT TO:<c@d.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;c@d.example\r\n"
        b"RCPT TO:<e@f.example>\r\nDATA\r\nSubject: smtp\r\nFrom: A <a@b.example>\r\n"
        b"\r\nhello\r\n.\r\nQUIT\r\n")


def test_smtp_message_with_host_acl_and_dsn_fields_is_byte_identical():
    exim_site, pexim_site = Site(name="exim"), Site(name="pexim")
    r = exim_site.exim("-bs", "-oMa", "192.0.2.1.1234", "-oMi", "192.0.2.2.25", input=SMTP)
    assert b"250 OK id=" in r.stdout, r.stdout
    mid = exim_site.last_id()
    received, complete = _times(exim_site, mid)

    config = load(str(pexim_site.conf))
    helo, ip = Tainted("client.example"), Tainted("192.0.2.1")
    ctx = ExpandContext(config, values={
        "sender_rcvhost": sender_rcvhost(ip, 1234, helo, None, "root"),
        "sender_ident": "root", "sender_helo_name": helo, "received_protocol": "esmtp",
        "sender_address": "a@b.example"})
    rcpts = [Recipient("c@d.example", "rfc822;c@d.example",
                       RF_NOTIFY_SUCCESS | RF_NOTIFY_DELAY), Recipient("e@f.example")]
    headers = [received_header(ctx, mid, received[0], [x.address for x in rcpts])]
    headers += [typed("Subject: smtp\n"), typed("From: A <a@b.example>\n")]
    msg = SpoolMessage(
        id=mid, sender="a@b.example", received_time=received,
        received_time_complete=complete, helo_name=helo, host_address=ip, host_port=1234,
        interface_address=Tainted("192.0.2.2"), interface_port=25, ident="root",
        received_protocol="esmtp", acl_c={"acl_c_foo": "bar"},
        acl_m={"acl_m0": "multi\nline"}, body_linecount=1,
        max_received_linelength=len("From: A <a@b.example>"), deliver_firsttime=True,
        dsn_envid="xyz", dsn_ret=2, recipients=rcpts, headers=headers)
    _write(SpoolPaths.from_config(config), msg, b"hello\n")

    assert pexim_site.file(mid, "-H") == exim_site.file(mid, "-H")
    assert pexim_site.file(mid, "-D") == exim_site.file(mid, "-D")
    _compare_tools(exim_site, pexim_site, mid)


def test_exim_files_round_trip_through_reader_and_writer():
    site = Site(name="rt")
    site.exim("-bs", "-oMa", "192.0.2.1.1234", "-oMi", "192.0.2.2.25", input=SMTP)
    site.exim("-odq", "-f", "", "x@y.example", input=b"Subject: bounce-ish\n\nx\n")
    from pexim.spool.writer import format_header_file

    paths = SpoolPaths(site.spool)
    ids = paths.message_ids()
    assert len(ids) == 2
    for mid in ids:
        raw = site.file(mid, "-H")
        msg = parse_header_file(raw, mid)
        assert format_header_file(msg) == raw
    smtp = parse_header_file(site.file(ids[0], "-H"))
    assert isinstance(smtp.helo_name, Tainted) and smtp.host_port == 1234
    assert smtp.recipients[0].orcpt == "rfc822;c@d.example"
    assert smtp.recipients[0].dsn_flags == RF_NOTIFY_SUCCESS | RF_NOTIFY_DELAY
    assert smtp.acl_m == {"acl_m0": "multi\nline"}


def _queue_line(text: str) -> str:
    return text.split("\n")[0].split(None, 2)[2] if text.strip() else ""


def test_split_spool_frozen_nonrecipients_and_flags_are_read_by_exim():
    site = Site("split_spool_directory = true", name="split")
    config = load(str(site.conf))
    paths = SpoolPaths.from_config(config)
    from pexim.message.ids import MessageIdGenerator

    gen = MessageIdGenerator()
    mid = gen.new_id()
    import time

    now = int(time.time())
    msg = SpoolMessage(
        id=mid, sender="", received_time=(now - 3600, 5), received_protocol="local",
        frozen_at=now, body_linecount=1, local=True, localerror=True,
        nonrecipients={"b@x.example", "a@x.example", "d@x.example", "c@x.example"},
        recipients=[Recipient(a) for a in ("a@x.example", "b@x.example", "c@x.example",
                                           "d@x.example", "e@x.example")],
        headers=[typed("Subject: s\n"), typed("X-Old: y\n")])
    msg.headers[1].type = "*"
    _write(paths, msg, b"body\n")
    assert os.path.exists(os.path.join(site.spool, "input", mid[5], mid + "-H"))
    listing = site.out("-bp")
    assert listing.splitlines()[0].split()[0] == "60m"   # age from received_time
    assert f"{mid} <> *** frozen ***" in listing
    # delivered addresses are flagged D by -bp, only e@ is still to do
    assert [ln.split() for ln in listing.splitlines()[1:6]] == [
        ["D", "a@x.example"], ["D", "b@x.example"], ["D", "c@x.example"],
        ["D", "d@x.example"], ["e@x.example"]]
    assert site.out("-bpru").count("@x.example") == 1
    # size: the deleted header is not counted (Subject 11 + body 5 + 1)
    assert listing.split()[1] == "17"
    assert parse_header_file(site.file(mid[5] + "/" + mid, "-H")).nonrecipients == \
        msg.nonrecipients
    gen.close()


def test_exim_respects_the_pexim_lock():
    site = Site(name="lock")
    config = load(str(site.conf))
    paths = SpoolPaths.from_config(config)
    from pexim.message.ids import MessageIdGenerator

    mid = MessageIdGenerator().new_id()
    df = DataFile(paths, mid, EXIM_OWNER)
    df.write(b"x\n")
    df.commit(SpoolMessage(id=mid, sender="s@x", body_linecount=1,
                           recipients=[Recipient("r@y")], headers=[typed("Subject: l\n")]))
    r = site.exim("-Mrm", mid)
    assert b"is locked" in r.stdout + r.stderr
    assert os.path.exists(paths.input_file(mid, "-H"))
    df.close()
    r = site.exim("-Mrm", mid)
    assert b"has been removed" in r.stdout, r.stdout + r.stderr
    assert not os.path.exists(paths.input_file(mid, "-H"))
