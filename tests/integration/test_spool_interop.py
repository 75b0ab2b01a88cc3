"""Real `exim -bp` reading a queue that a pexim daemon (and pexim -bm) wrote.

The same messages go to a real exim daemon and to a pexim daemon (both with
queue_only): one and several recipients, a null sender, a message frozen by
the DATA ACL and a 60 KB one.  exim -bp on pexim's spool must list each
message with the sender, the recipients and the size that exim -bp shows for
exim's own copy; -bpc and -bpr must agree.  A message submitted with pexim -bm
(as root) must be readable by exim -bp as well.
"""

from __future__ import annotations

import pwd
import re
import smtplib
import subprocess

import pytest
from pexim_site import _ENV, EXIM, HAVE_EXIM, ROOT, Site

pytestmark = pytest.mark.skipif(not (HAVE_EXIM and ROOT), reason="needs real exim, as root")

DATA_ACL = """acl_data:
  warn    condition = ${if eq{$h_subject:}{freeze me}}
          control = freeze
  deny    condition"""

# (sender, recipients, subject, body lines)
MESSAGES = [
    ("one@x.example", ["a@b.example"], "plain", 2),
    ("many@x.example", ["a@b.example", "c@d.example", "e@f.example"], "three", 5),
    ("", ["postmaster@b.example"], "bounce-like", 3),
    ("ice@x.example", ["a@b.example"], "freeze me", 1),
    ("big@x.example", ["a@b.example"], "large", 1500),
]
LOCAL = ("local@x.example", ["l1@b.example", "l2@b.example"])


def _site(exim: bool, name: str, owner) -> Site:
    site = Site(exim=exim, name=name, owner=owner)
    site.conf.write_text(site.conf.read_text().replace("acl_data:\n  deny    condition",
                                                       DATA_ACL))
    return site


def fill(site: Site) -> list[str]:
    ids = []
    for n, (sender, rcpts, subject, lines) in enumerate(MESSAGES):
        body = "".join("body line %d of %d, some words to give it size\r\n" % (i, n)
                       for i in range(lines))
        msg = ("From: x@x.example\r\nSubject: %s\r\nMessage-Id: <s%d@x.example>\r\n\r\n%s"
               % (subject, n, body)).encode()
        with smtplib.SMTP("127.0.0.1", site.port, local_hostname="spool.test") as c:
            c.ehlo("spool.test")
            assert c.mail(sender)[0] == 250
            for r in rcpts:
                assert c.rcpt(r)[0] == 250
            code, text = c.data(msg)
            assert code == 250, text
            ids.append(text.decode().split("id=")[1])
    return ids


def exim_bp(site: Site, *args: str) -> str:
    r = subprocess.run([EXIM, "-C", str(site.conf), *args], capture_output=True,
                       timeout=30, env=dict(_ENV))
    assert r.returncode == 0 and not r.stderr, r.stderr
    return r.stdout.decode("latin-1")


def entries(listing: str) -> list[tuple[str, str, str, str, list[str]]]:
    """(age, size, id, sender and flags, recipients) per message of a -bp listing."""
    out = []
    for block in listing.strip().split("\n\n"):
        head, *rcpts = block.splitlines()
        m = re.fullmatch(r"\s*(\S+)\s+(\S+) (\S+) (.*)", head)
        assert m, head
        out.append((m.group(1), m.group(2), m.group(3), m.group(4),
                    [r.strip() for r in rcpts]))
    return out


@pytest.fixture(scope="module")
def spools():
    pw = pwd.getpwnam("Debian-exim")
    owner = (pw.pw_uid, pw.pw_gid)
    sites = {"exim": _site(True, "spe", owner), "pexim": _site(False, "spp", owner)}
    try:
        ids = {}
        for who, site in sites.items():
            site.start()
            ids[who] = fill(site)
            site.stop()
        yield sites, ids
    finally:
        for site in sites.values():
            site.cleanup()


def test_exim_bp_lists_pexim_queue_as_its_own(spools):
    sites, ids = spools
    ours = entries(exim_bp(sites["pexim"], "-bp"))
    theirs = entries(exim_bp(sites["exim"], "-bp"))
    assert len(ours) == len(MESSAGES)
    assert [e[2] for e in ours[:len(MESSAGES)]] == ids["pexim"]
    for (_, _, _, sender, rcpts), (sender_addr, want_rcpts, subject, _) in zip(
            ours[:len(MESSAGES)], MESSAGES, strict=True):
        assert sender == "<%s>" % sender_addr + (" *** frozen ***" if subject == "freeze me"
                                                 else "")
        assert rcpts == want_rcpts
    # sizes (and everything else but ids and ages) as exim lists its own copies
    assert [(e[1], e[3], e[4]) for e in ours] == [(e[1], e[3], e[4]) for e in theirs]
    assert ours[4][1].endswith("K") and float(ours[4][1][:-1]) > 60


def test_exim_bpc_and_bpr_count_pexim_queue(spools):
    sites, _ = spools
    assert exim_bp(sites["pexim"], "-bpc").strip() == str(len(MESSAGES))
    ours = entries(exim_bp(sites["pexim"], "-bpr"))
    theirs = entries(exim_bp(sites["exim"], "-bpr"))
    assert sorted((e[1], e[3], tuple(e[4])) for e in ours) == \
        sorted((e[1], e[3], tuple(e[4])) for e in theirs)


def test_exim_bp_reads_pexim_bm_submission():
    pw = pwd.getpwnam("Debian-exim")
    site = Site(name="spbm", owner=(pw.pw_uid, pw.pw_gid))
    try:
        r = site.run("-odq", "-f", LOCAL[0], *LOCAL[1],
                     input=b"Subject: local\n\nsubmitted with -bm\n")
        assert r.returncode == 0, r.stderr
        listing = exim_bp(site, "-bp")
        assert site.ids()[0] in listing, listing
        (entry,) = entries(listing)
        assert (entry[3], entry[4]) == ("<%s>" % LOCAL[0], LOCAL[1])
    finally:
        site.cleanup()
