"""Logs: lines compared with what real exim writes; eximstats and exigrep read pexim's."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "spool"))
from eximspool import Site, needs_exim_root  # noqa: E402

from pexim.config.loader import load  # noqa: E402
from pexim.log import (  # noqa: E402
    DEFAULT_SELECTORS,
    Flags,
    Logger,
    parse_log_selector,
    render_stderr,
    syslog_parts,
)
from pexim.log_lines import (  # noqa: E402
    Arrival,
    Delivery,
    Peer,
    arrival,
    completed,
    delivered,
    failed,
    reject_details,
    rejection,
)
from pexim.message.hostinfo import sender_fullhost  # noqa: E402
from pexim.spool.reader import parse_header_file  # noqa: E402

SMTP = (b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
        b"RCPT TO:<e@f.example>\r\nDATA\r\nSubject: smtp =?utf-8?q?caf=C3=A9?=\r\n"
        b"Message-ID: <m1@b.example>\r\n\r\nhello\r\n.\r\nQUIT\r\n")
SELECTOR = ("+incoming_port +incoming_interface +received_recipients +received_sender "
            "+subject +8bitmime +smtp_connection")


def _strip(line: str) -> str:
    """Drop the timestamp of a line that has no message id."""
    return line.split(" ", 2)[2]


@needs_exim_root
def test_arrival_lines_match_exim():
    site = Site(f"log_selector = {SELECTOR}", name="log")
    site.exim("-bs", "-oMa", "192.0.2.1.1234", "-oMi", "192.0.2.2.25", input=SMTP)
    site.exim("-odq", "-f", "s@x.example", "r@y.example", input=b"Subject: plain\n\nx\n")
    lines = [ln for ln in site.mainlog().splitlines() if " <= " in ln]
    ids = [ln.split()[2] for ln in lines]
    logger = Logger.from_config(load(str(site.conf)))
    sel = logger.selectors

    m = parse_header_file(site.file(ids[0], "-H"))
    body = len(site.file(ids[0], "-D")) - 19
    peer = Peer(sender_fullhost("192.0.2.1", 1234, "client.example", None, True),
                "192.0.2.2", 25, "root", "esmtp")
    smtp = Arrival("a@b.example", m.message_size(body), peer, msgid="m1@b.example",
                   subject="smtp caf\xc3\xa9", recipients=["c@d.example", "e@f.example"])
    assert arrival(smtp, sel) == lines[0].split(" ", 3)[3]

    m = parse_header_file(site.file(ids[1], "-H"))
    local = Arrival("s@x.example", m.message_size(2), Peer(None, ident="root",
                    protocol="local"), msgid="E%s@test.example" % ids[1], msgid_created=True,
                    subject="plain", recipients=["r@y.example"])
    assert arrival(local, sel) == lines[1].split(" ", 3)[3]
    conn = [ln for ln in site.mainlog().splitlines() if "SMTP connection" in ln]
    from pexim.log_lines import smtp_closed, smtp_connection

    assert smtp_connection(Peer(None, ident="root"), sel) == _strip(conn[0])
    assert smtp_closed(Peer(None, ident="root"), sel) == _strip(conn[1])


@needs_exim_root
def test_rejection_and_reject_log_match_exim():
    site = Site("acl_smtp_data = acl_data\nlog_selector = +pid +millisec\nlog_timezone = true",
                name="rej", acls="acl_data:\n  deny message = no thanks")
    r = site.exim("-bs", "-oMa", "192.0.2.1.1234", input=SMTP)
    assert b"550" in r.stdout, r.stdout + r.stderr
    reject = (site.root / "log" / "rejectlog").read_text("latin-1")
    first = reject.splitlines()[0]
    mid = first.split()[4]
    ts, zone, pid = first.split()[:3][1:] + [first.split()[3]]
    cfg = load(str(site.conf))
    out = Path(site.root / "pexim")
    out.mkdir()
    logger = Logger(str(out / "%slog"), cfg.main.get("log_selector"), True,
                    pid=int(pid.strip("[]")))
    sel = logger.selectors
    peer = Peer(sender_fullhost("192.0.2.1", 1234, "client.example"), ident="root")
    # the headers exim kept are those of the rejected message, as in the -H format
    header_lines = reject.split("\n", 4)[4]
    from pexim.message.envelope import Header

    headers, text = [], header_lines
    import re

    for m in re.finditer(r"(.) ((?:[^\n]*\n)(?:[ \t][^\n]*\n)*)", text):
        headers.append(Header(m.group(2), m.group(1)))
    details = reject_details("a@b.example", ["c@d.example", "e@f.example"], headers, sel)
    logger.reject(rejection(peer, sel, "after DATA", "a@b.example", "no thanks"), mid, details)
    mine = (out / "rejectlog").read_text("latin-1")
    assert mine.split(" ", 3)[3] == reject.split(" ", 3)[3]
    assert mine.split(" ")[1].count(".") == 1 and mine.split(" ")[2] == zone
    exim_main = [ln for ln in site.mainlog().splitlines() if "rejected after DATA" in ln]
    assert (out / "mainlog").read_text().split(" ", 3)[3] == exim_main[0].split(" ", 3)[3] + "\n"


def _pexim_mainlog(path: Path) -> list[str]:
    logger = Logger(str(path / "%slog"))
    sel = logger.selectors
    peer = Peer(sender_fullhost("192.0.2.1", 0, "client.example"), protocol="esmtp")
    ids = ["1xUyfo-0004TU-0q", "1xUyfo-0004TV-0r", "1xUyfo-0004TW-0s"]
    logger.main(arrival(Arrival("a@b.example", 1200, peer), sel), ids[0])
    logger.main(delivered(Delivery("c@d.example", router="dnslookup", transport="remote_smtp",
                                   host="mx.d.example [192.0.2.9]",
                                   confirmation='250 OK "queued"'), sel), ids[0])
    logger.main(completed(sel), ids[0])
    logger.main(arrival(Arrival("x@y.example", 800, Peer(None, ident="u", protocol="local")),
                        sel), ids[1])
    logger.main(delivered(Delivery("u@local", router="local_user", transport="mail_spool"),
                          sel), ids[1])
    logger.main(failed(Delivery("bad@local", router="local_user", transport="mail_spool",
                                message="mailbox is full"), sel), ids[1])
    logger.main(completed(sel), ids[1])
    logger.main(arrival(Arrival("z@y.example", 500, peer), sel), ids[2])
    logger.main(__import__("pexim.log_lines").log_lines.deferred(
        Delivery("q@r.example", router="dnslookup", transport="remote_smtp", errno=-44,
                 host="mx.r.example [192.0.2.10]", message="SMTP error"), sel), ids[2])
    logger.close()
    return ids


def test_eximstats_counts_a_pexim_mainlog(tmp_path):
    _pexim_mainlog(tmp_path)
    out = subprocess.run(["eximstats", "-nr", "-nt", str(tmp_path / "mainlog")],
                         capture_output=True, text=True).stdout
    summary = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in ("Received", "Delivered", "Rejects", "Temp", "Errors"):
            summary[parts[0]] = parts[1:]
    assert summary["Received"][:2] == ["2500", "3"]
    assert summary["Delivered"][:2] == ["2000", "2"]
    assert "bad@local" in out and "mailbox is full" in out     # the failure list


def test_exigrep_finds_messages_by_id(tmp_path):
    ids = _pexim_mainlog(tmp_path)
    out = subprocess.run(["exigrep", ids[1], str(tmp_path / "mainlog")],
                         capture_output=True, text=True).stdout
    assert out.count(ids[1]) == 4 and ids[0] not in out


def test_selectors_defaults_all_and_synonyms():
    assert parse_log_selector(None) == DEFAULT_SELECTORS
    sel = parse_log_selector("+all -pid +rejected_headers -retry_defer")
    assert "pid" not in sel and "subject" in sel and "retry_defer" not in sel
    assert parse_log_selector("-all +subject") == {"subject"}


def test_daily_files_stderr_rendering_and_syslog_split(tmp_path):
    day = [86400 * 20000 + 43200.0]
    logger = Logger(str(tmp_path / "%slog-%D"), clock=lambda: day[0])
    logger.main("one")
    day[0] += 86400
    logger.panic("two")
    names = sorted(os.listdir(tmp_path))
    import time

    d1, d2 = (time.strftime("%Y%m%d", time.localtime(t)) for t in (day[0] - 86400, day[0]))
    assert d1 != d2 and names == ["mainlog-" + d1, "mainlog-" + d2, "paniclog-" + d2]
    buf = io.StringIO()
    Logger(stderr=buf, testing=True).write(Flags.MAIN | Flags.REJECT, "text")
    assert buf.getvalue() == render_stderr(Flags.MAIN | Flags.REJECT, "text") == \
        "LOG: MAIN REJECT\n  text\n"
    parts = syslog_parts("a" * 120 + "\nb\n", limit=50)
    assert parts == ["[1/4] " + "a" * 50, "[2/4] " + "a" * 50, "[3\\4] " + "a" * 20,
                     "[4/4] b"]
    assert syslog_parts("short") == ["short"]
