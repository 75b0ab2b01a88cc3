"""A real pexim daemon on 127.0.0.1: smtplib, swaks and real exim as clients.

Outcomes asserted: the reply texts, the spool bytes (against what real exim's
own daemon writes for the same message), the log lines, and real `exim -bp`
reading pexim's queue.
"""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import subprocess
import time

import pytest
from pexim_site import EXIM, HAVE_EXIM, ROOT, Site

pytestmark = pytest.mark.skipif(not HAVE_EXIM, reason="needs real exim")

MESSAGE = (b"Date: Sun, 22 Nov 2026 04:00:00 +0000\r\nFrom: s@x.example\r\n"
           b"To: a@b.example\r\nMessage-Id: <fixed@x.example>\r\nSubject: hello\r\n\r\n"
           b"line one\r\n.leading dot\r\n\r\nlast\r\n")


@pytest.fixture
def site():
    s = Site()
    s.start()
    yield s
    s.cleanup()


def send(port, sender="s@x.example", rcpts=("a@b.example",), msg=MESSAGE, helo="client.test"):
    with smtplib.SMTP("127.0.0.1", port, local_hostname=helo) as c:
        c.ehlo(helo)
        c.mail(sender)
        for r in rcpts:
            assert c.rcpt(r)[0] == 250
        return c.data(msg)


def test_smtplib_message_is_spooled_logged_and_listed(site):
    code, text = send(site.port)
    assert code == 250
    m = re.fullmatch(rb"OK id=(\w{6}-\w{6}-\w{2})", text)
    assert m, text
    mid = m.group(1).decode()
    assert site.ids() == [mid]
    assert site.file(mid, "-D") == (mid + "-D\nline one\n.leading dot\n\nlast\n").encode()
    h = site.file(mid, "-H").decode()
    assert "--helo_name client.test\n" in h
    assert re.search(r"^-host_address \[127\.0\.0\.1\]:\d+$", h, re.M)
    assert "-interface_address [127.0.0.1]:%d\n" % site.port in h
    assert "-received_protocol esmtp\n-body_linecount 4\n" in h
    assert "\n1\na@b.example\n\n" in h
    assert re.search(r"^\d{3}P Received: from \[127\.0\.0\.1\] \(helo=client\.test\)\n"
                     r"\tby test\.example with esmtp \(Exim 4\.96\)\n"
                     r"\t\(envelope-from <s@x\.example>\)\n\tid %s\n\tfor a@b\.example;\n" % mid,
                     h, re.M)
    line = [ln for ln in site.mainlog().splitlines() if " <= " in ln]
    assert line and line[0].split(" ", 2)[2] == (
        "%s <= s@x.example H=(client.test) [127.0.0.1] P=esmtp S=%d id=fixed@x.example"
        % (mid, _size(h, site.file(mid, "-D"))))
    bp = site.bp()
    assert mid in bp and "<s@x.example>" in bp and "a@b.example" in bp


def _size(h: str, d: bytes) -> int:
    """S=: header bytes + body bytes + 1, from the spool files (as exim -bp computes it)."""
    headers = h.split("\n\n", 1)[1]
    total = 0
    for m in re.finditer(r"^(\d{3})(.) ", headers, re.M):
        if m.group(2) != "*":
            total += int(m.group(1))
    return total + len(d) - 19 + 1


def test_data_acl_rejection_leaves_nothing(site):
    msg = MESSAGE.replace(b"Subject: hello", b"Subject: reject me")
    with smtplib.SMTP("127.0.0.1", site.port) as c:
        c.ehlo("x")
        c.mail("s@x.example")
        c.rcpt("a@b.example")
        code, text = c.data(msg)
        assert (code, text) == (550, b"no thanks")
        assert c.noop()[0] == 250
    assert site.ids() == []
    assert not site.spool.exists() or list(site.spool.iterdir()) == []
    assert "F=<s@x.example> rejected after DATA: no thanks" in site.mainlog()


def test_swaks_and_pipelining(site):
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % site.port, "--to",
                        "a@b.example,c@d.example", "--from", "s@x.example", "--helo",
                        "sw.test", "--pipeline", "--h-Subject", "via swaks"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"<\*\* +250 OK id=(\S+)|<- +250 OK id=(\S+)", r.stdout)
    assert m, r.stdout
    mid = m.group(1) or m.group(2)
    h = site.file(mid, "-H").decode()
    assert "\n2\na@b.example\nc@d.example\n\n" in h
    assert "--helo_name sw.test\n" in h
    assert "Subject: via swaks\n" in h


def test_real_exim_as_client(site):
    tmp = site.root / "client"
    conf = tmp / "client.conf"
    spool = tmp / "spool"
    for d in (spool, tmp / "log"):
        d.mkdir(parents=True)
        if ROOT:
            import pwd
            pw = pwd.getpwnam("Debian-exim")
            os.chown(d, pw.pw_uid, pw.pw_gid)
    conf.write_text(f"""keep_environment =
primary_hostname = client.example
spool_directory = {spool}
log_file_path = {tmp}/log/%slog
begin routers
out:
  driver = manualroute
  route_list = * 127.0.0.1::{site.port}
  transport = smtp
  self = send
begin transports
smtp:
  driver = smtp
  allow_localhost
  hosts_try_chunking =
""")
    os.chmod(conf, 0o644)
    r = subprocess.run([EXIM, "-C", str(conf), "-odi", "-f", "from@client.example",
                        "x@y.example"], input=b"Subject: from exim\n\nhello from exim\n",
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    log = (tmp / "log" / "mainlog").read_text()
    assert re.search(r"=> x@y\.example R=out T=smtp H=127\.0\.0\.1 \[127\.0\.0\.1\] "
                     r"C=\"250 OK id=\S+\"", log), log
    mid = re.search(r'C="250 OK id=(\S+)"', log).group(1)
    h = site.file(mid, "-H").decode()
    assert "--helo_name client.example\n" in h
    assert "Subject: from exim\n" in h
    assert site.file(mid, "-D").endswith(b"hello from exim\n")


def _bdat(port: int) -> str:
    """One message in two BDAT chunks; its id."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(5)
        _read_reply(s)
        part1, part2 = b"Subject: chunks\r\nX-A: 1\r\n", b"\r\nbody 1\r\nbody 2\r\n"
        for cmd in (b"EHLO k.test\r\n", b"MAIL FROM:<x@y.example>\r\n",
                    b"RCPT TO:<a@b.example>\r\n", b"BDAT %d\r\n%s" % (len(part1), part1)):
            assert _read_reply_after(s, cmd).startswith(b"250")
        reply = _read_reply_after(s, b"BDAT %d LAST\r\n%s" % (len(part2), part2))
        return re.search(rb"250 OK id=(\S+)", reply).group(1).decode()


def _read_reply_after(s, data: bytes) -> bytes:
    s.sendall(data)
    return _read_reply(s)


def _normalise(h: bytes, mid: str) -> str:
    text = h.decode("latin-1").replace(mid, "ID")
    text = re.sub(r"^\d+ 0\n-received_time_usec \.\d+\n-received_time_complete \d+\.\d+\n",
                  "TIMES\n", text, flags=re.M)
    text = re.sub(r"\[127\.0\.0\.1\]:\d+\n-interface_address \[127\.0\.0\.1\]:\d+",
                  "HOST", text)
    text = re.sub(r"\d\d:\d\d:\d\d \+0000", "TIME", text)
    return text


@pytest.mark.skipif(not ROOT, reason="real exim's daemon needs root")
def test_same_spool_files_as_real_exim():
    """The same SMTP dialogue to real exim's daemon and to pexim's: -H/-D match.

    Both run as root and receive as Debian-exim (pexim drops privileges)."""
    import pwd
    pw = pwd.getpwnam("Debian-exim")
    owner = (pw.pw_uid, pw.pw_gid)
    theirs = Site(exim=True, name="exim", owner=owner)
    ours = Site(name="ours", owner=owner)
    try:
        theirs.start()
        ours.start()
        results = []
        for s in (theirs, ours):
            code, text = send(s.port, rcpts=("a@b.example", "c@d.example"))
            assert code == 250
            results.append([text.decode().split("id=")[1], _bdat(s.port)])
        for mid_e, mid_p in zip(*results, strict=True):
            assert _normalise(theirs.file(mid_e, "-H"), mid_e) == \
                _normalise(ours.file(mid_p, "-H"), mid_p)
            assert theirs.file(mid_e, "-D").replace(mid_e.encode(), b"ID") == \
                ours.file(mid_p, "-D").replace(mid_p.encode(), b"ID")
        mid_p = results[1][0]
        st = os.stat(ours.spool / (mid_p + "-H"))
        assert (st.st_uid, st.st_gid) == owner
        assert ours.file(mid_p, "-H").split(b"\n")[1] == \
            ("Debian-exim %d %d" % owner).encode()
        le = [ln.split(" ", 3)[3] for ln in theirs.mainlog().splitlines() if " <= " in ln]
        lp = [ln.split(" ", 3)[3] for ln in ours.mainlog().splitlines() if " <= " in ln]
        assert le == lp and " K S=" in lp[1]
    finally:
        theirs.cleanup()
        ours.cleanup()


def _read_reply(sock) -> bytes:
    data = b""
    while not re.search(rb"(^|\n)\d{3} [^\n]*\n$", data):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_connection_limits_and_log_lines():
    s = Site(extra="smtp_accept_max = 3\nsmtp_accept_max_per_host = 2\n"
                   "log_selector = +smtp_connection +smtp_no_mail")
    s.start()
    time.sleep(0.5)         # the start-up probe's connection is over
    try:
        a = socket.create_connection(("127.0.0.1", s.port))
        b = socket.create_connection(("127.0.0.1", s.port))
        assert _read_reply(a).startswith(b"220 ")
        assert _read_reply(b).startswith(b"220 ")
        c = socket.create_connection(("127.0.0.1", s.port))
        assert _read_reply(c) == (b"421 Too many concurrent SMTP connections from this IP "
                                  b"address; please try again later.\r\n")
        c.close()
        a.sendall(b"QUIT\r\n")
        assert _read_reply(a).startswith(b"221 ")
        a.close()
        b.close()
        time.sleep(0.3)
        log = s.mainlog()
        assert re.search(r"SMTP connection from \[127\.0\.0\.1\] \(TCP/IP connection count = 1\)",
                         log), log
        assert "Connection from [127.0.0.1] refused: too many connections from that " \
               "IP address" in log
        assert "SMTP connection from [127.0.0.1] closed by QUIT" in log
    finally:
        s.cleanup()


def test_receive_timeout_and_sigterm_removes_pid_file():
    s = Site(extra="smtp_receive_timeout = 1s")
    s.start()
    try:
        c = socket.create_connection(("127.0.0.1", s.port))
        assert _read_reply(c).startswith(b"220 ")
        c.settimeout(5)
        assert _read_reply(c) == (b"421 test.example: SMTP incoming data timeout - "
                                  b"closing connection.\r\n")
        assert "SMTP command timeout on connection from [127.0.0.1]" in s.mainlog()
        pid = s.pid
        s.stop()
        assert not s.pidfile.exists()
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", s.port), timeout=1)
    finally:
        s.cleanup()


def test_sighup_rereads_the_configuration():
    s = Site()
    s.start()
    try:
        text = s.conf.read_text().replace("primary_hostname = test.example",
                                          "primary_hostname = reloaded.example")
        s.conf.write_text(text)
        old = s.pid
        os.kill(old, signal.SIGHUP)
        deadline = time.time() + 20
        banner = b""
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", s.port), timeout=2) as c:
                    banner = _read_reply(c)
                    if b"reloaded.example" in banner:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        assert banner.startswith(b"220 reloaded.example ESMTP"), banner
    finally:
        s.cleanup()


def test_daemon_starts_periodic_queue_runs():
    s = Site()
    s.start("-q1s")
    try:
        assert re.search(r"daemon started: pid=\d+, -q1s, listening for SMTP on "
                         r"\[127\.0\.0\.1\]:%d" % s.port, s.mainlog())
        deadline = time.time() + 10
        while time.time() < deadline and "End queue run: pid=" not in s.mainlog():
            time.sleep(0.2)
        assert re.search(r"Start queue run: pid=\d+\n", s.mainlog())
        assert re.search(r"End queue run: pid=\d+\n", s.mainlog())
    finally:
        s.cleanup()


def test_ipv6_loopback_and_interface_list():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    s = Site()
    port2 = s.port
    try:
        s.proc = subprocess.Popen(s.command("-bdf", "-oX", "<; [::1]:%d ; 127.0.0.1.%d" % (
            port2, port2), "-oP", str(s.pidfile)), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        from pexim_site import wait_port
        wait_port(port2)
        with smtplib.SMTP("::1", port2) as c:
            c.ehlo("v6.test")
            c.mail("s@x.example")
            c.rcpt("a@b.example")
            code, text = c.data(MESSAGE)
        assert code == 250
        mid = text.decode().split("id=")[1]
        assert re.search(r"^-host_address \[::1\]:\d+$", s.file(mid, "-H").decode(), re.M)
    finally:
        s.cleanup()


def test_reserve_and_sigterm_tells_idle_clients():
    s = Site(extra="smtp_accept_max = 2\nsmtp_accept_reserve = 1\nsmtp_reserve_hosts = 10.9.9.9")
    s.start()
    time.sleep(0.5)         # the start-up probe's connection is over
    try:
        a = socket.create_connection(("127.0.0.1", s.port))
        assert _read_reply(a).startswith(b"220 ")
        b = socket.create_connection(("127.0.0.1", s.port))
        assert _read_reply(b) == (b"421 test.example: Too many concurrent SMTP connections; "
                                  b"please try again later\r\n")
        b.close()
        assert "temporarily refused connection from [127.0.0.1]: not in reserve list: " \
               "connected=1 max=2 reserve=1" in s.mainlog()
        a.sendall(b"EHLO x\r\n")
        assert _read_reply(a).startswith(b"250-")
        t0 = time.time()
        s.stop()
        a.settimeout(5)
        assert _read_reply(a) == b"421 test.example: Service not available - closing " \
                                 b"connection\r\n"
        assert time.time() - t0 < 5
    finally:
        s.cleanup()


def _dialogues(port: int) -> None:
    """QUIT, drop after EHLO, drop inside a transaction, drop inside the data."""
    for lines in ([b"EHLO a\r\n", b"QUIT\r\n"], [b"EHLO b\r\n"],
                  [b"EHLO c\r\n", b"MAIL FROM:<x@y>\r\n"],
                  [b"EHLO d\r\n", b"MAIL FROM:<x@y>\r\n", b"RCPT TO:<a@b.example>\r\n",
                   b"DATA\r\n", b"Subject: x\r\n"],
                  [b"EHLO e\r\n", b"NOOP\r\n", b"QUIT\r\n"]):
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(2)
        _read_reply(s)
        for line in lines:
            s.sendall(line)
            if line != b"Subject: x\r\n":
                _read_reply(s)
        s.close()
        time.sleep(0.3)


@pytest.mark.skipif(not ROOT, reason="real exim's daemon needs root")
def test_connection_log_lines_like_exim():
    import pwd
    pw = pwd.getpwnam("Debian-exim")
    owner = (pw.pw_uid, pw.pw_gid)
    extra = "log_selector = +smtp_connection +smtp_no_mail"
    sites = [Site(extra=extra, exim=True, name="elog", owner=owner),
             Site(extra=extra, name="plog", owner=owner)]
    try:
        logs = []
        for s in sites:
            s.start()
            time.sleep(0.3)
            _dialogues(s.port)
            time.sleep(0.5)
            logs.append([re.sub(r"\]:\d+", "]:P", ln.split(" ", 2)[2])
                         for ln in s.mainlog().splitlines()
                         if "daemon started" not in ln and "certificate" not in ln
                         and not ln.startswith(" ")])
        assert logs[0] == logs[1]
        assert any("lost while reading message data" in ln for ln in logs[1])
        assert any(ln.startswith("no MAIL in SMTP connection from (b)") for ln in logs[1])
    finally:
        for s in sites:
            s.cleanup()
