"""-bs, -bm and -t: the same input to real exim and to pexim, each into its own spool.

The -H files must match once ids and times are masked; stdout (for -bs) and
the "<=" log lines too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from pexim_site import HAVE_EXIM, ROOT, Site  # noqa: E402

pytestmark = pytest.mark.skipif(not (HAVE_EXIM and ROOT), reason="needs real exim, as root")

BS = (b"EHLO me\r\nMAIL FROM:<root@test.example>\r\nRCPT TO:<q@r.example>\r\nDATA\r\n"
      b"Subject: bs\r\n\r\nx\r\n..dot\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<q@r.example>\r\n"
      b"DATA\r\nSubject: null\r\n\r\ny\r\n.\r\nQUIT\r\n")


@pytest.fixture(scope="module")
def sites():
    import pwd
    pw = pwd.getpwnam("Debian-exim")
    owner = (pw.pw_uid, pw.pw_gid)
    theirs = Site(exim=True, name="sub-exim", owner=owner)
    ours = Site(name="sub-ours", owner=owner)
    yield theirs, ours
    theirs.cleanup()
    ours.cleanup()


def _mask(text: str, ids: list[str]) -> str:
    for i, mid in enumerate(ids):
        text = text.replace(mid, "ID%d" % i)
    text = re.sub(r"\d{10} 0\n-received_time_usec \.\d+\n-received_time_complete \d+\.\d+",
                  "TIMES", text)
    text = re.sub(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000", "DATE", text)
    return text


def _new(site: Site, before: list[str]) -> list[str]:
    return [m for m in site.ids() if m not in before]


def _both(sites, args, data):
    out = []
    for s in sites:
        before = s.ids()
        r = s.run(*args, input=data)
        ids = sorted(_new(s, before))
        heads = "".join(_mask(s.file(m, "-H").decode("latin-1"), ids) for m in ids)
        bodies = b"".join(s.file(m, "-D") for m in ids).decode("latin-1")
        log = [ln.split(" ", 2)[2] for ln in s.mainlog().splitlines() if " <= " in ln]
        out.append((r.returncode, _mask(r.stdout.decode("latin-1"), ids), heads,
                    _mask(bodies, ids), [_mask(x, ids) for x in log[-len(ids):]] if ids else []))
    return out


@pytest.mark.parametrize("args,data", [
    (["-odq", "a@b.example"], b"Subject: hello\n\nbody line\n"),
    (["-odq", "-i", "a@b.example", "c"], b"Subject: dots\n\n.\nstill body\n"),
    (["-odq", "a@b.example"], b"Subject: dot ends\n\nbefore\n.\nafter\n"),
    (["-odq", "-f", "env@s.example", "-F", "Some Name", "a@b.example"],
     b"Subject: forced\n\nx\n"),
    (["-odq", "-t"], b"To: x@y.example\nCc: c@d.example\nBcc: hidden@e.example\n"
                     b"Subject: t\n\nbody\n"),
    (["-odq", "-oi", "a@b.example"], b"From: me@else.example\nDate: Mon, 1 Jan 2024 "
                                     b"00:00:00 +0000\nMessage-Id: <m@x>\n\nCRLF\r\nend\n"),
], ids=["plain", "dash_i", "dot_ends", "forced_sender", "extract", "own_headers"])
def test_bm_like_exim(sites, args, data):
    theirs, ours = _both(sites, args, data)
    assert theirs == ours


def test_bs_like_exim(sites):
    theirs, ours = _both(sites, ["-odq", "-bs"], BS)
    assert theirs[0] == ours[0] == 0
    # The EHLO greeting of local SMTP is the protocol module's ("Hello root at me").
    mask = lambda t: re.sub(r"250-test.example Hello [^\r]*", "HELLO", t)  # noqa: E731
    assert mask(theirs[1]) == mask(ours[1])
    assert theirs[2:] == ours[2:]


def test_no_recipients(sites):
    _, ours = sites
    r = ours.run("-odq", input=b"Subject: x\n\n")
    assert r.returncode == 1


def test_called_as_sendmail(sites, tmp_path):
    """A `sendmail` link to pexim is Exim's sendmail interface: -t, -i, -f work."""
    import os
    import shutil
    _, ours = sites
    pexim = shutil.which("pexim", path=os.path.dirname(sys.executable))
    link = tmp_path / "sendmail"
    link.symlink_to(pexim)
    before = ours.ids()
    r = __import__("subprocess").run(
        [str(link), "-C", str(ours.conf), "-t", "-i", "-f", "me@test.example"],
        input=b"To: you@there.example\nSubject: via sendmail\n\n.\nbody\n", capture_output=True)
    assert r.returncode == 0, r.stderr
    (mid,) = _new(ours, before)
    h = ours.file(mid, "-H").decode()
    assert "<me@test.example>\n" in h and "\n1\nyou@there.example\n" in h
    assert ours.file(mid, "-D").endswith(b".\nbody\n")


@pytest.mark.parametrize("forced,sender,flag", [
    ("ok@allowed.example", "ok@allowed.example", True),
    ("evil@other.example", "joe@test.example", False),
])
def test_untrusted_caller(tmp_path, monkeypatch, forced, sender, flag):
    """An untrusted caller's -f counts only where untrusted_set_sender allows it."""
    import io

    from pexim.cli import parse_args
    from pexim.commands import submit
    from pexim.config.loader import load
    from pexim.spool.reader import parse_header_file

    conf = tmp_path / "c.conf"
    conf.write_text("primary_hostname = test.example\nspool_directory = %s/spool\n"
                    "log_file_path = %s/log/%%slog\nuntrusted_set_sender = *@allowed.example\n"
                    % (tmp_path, tmp_path))
    monkeypatch.setattr(submit, "_caller", lambda: ("joe", 4242, 4242, "Joe User"))
    monkeypatch.setattr(submit.os, "getgroups", lambda: [4242])
    monkeypatch.setattr(submit.os, "getuid", lambda: 4242)
    inv = parse_args(["-f", forced, "a@b.example"])
    rc = submit.run_bm(load(str(conf)), inv, stdin=io.BytesIO(b"From: x@y.example\n\nhi\n"))
    assert rc == 0
    (h,) = list((tmp_path / "spool" / "input").glob("*-H"))
    msg = parse_header_file(h.read_bytes())
    assert msg.sender == sender
    assert msg.sender_set_untrusted is flag
    assert (msg.originator_login, msg.originator_uid) == ("joe", 4242)
    assert [x.text for x in msg.headers if x.type == "S"] == \
        ["Sender: Joe User <joe@test.example>\n"]
