"""Exim's log readers on pexim's main log: Debian's eximstats and fail2ban-regex
with Debian's exim filter.

The same traffic (log_traffic.py) goes to a real exim daemon and to a pexim
daemon; each tool must report the known figures for pexim's log, and exactly
what it reports for exim's log (time ranges and histograms aside).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess

import pytest
from log_traffic import make_site, run_traffic
from pexim_site import HAVE_EXIM, ROOT

EXIMSTATS = "/usr/sbin/eximstats"
FAIL2BAN_REGEX = shutil.which("fail2ban-regex") or "/usr/bin/fail2ban-regex"
EXIM_FILTER = "/etc/fail2ban/filter.d/exim.conf"

pytestmark = pytest.mark.skipif(not (HAVE_EXIM and ROOT), reason="needs real exim, as root")


@pytest.fixture(scope="module")
def logs():
    pw = pwd.getpwnam("Debian-exim")
    owner = (pw.pw_uid, pw.pw_gid)
    out = {}
    sites = {"exim": make_site(True, "lie", owner), "pexim": make_site(False, "lip", owner)}
    try:
        replies = {}
        for who, site in sites.items():
            site.start()
            replies[who] = run_traffic(site)
            site.stop()
            out[who] = site.root / "log" / "mainlog"
        assert [re.sub(rb"id=\S+|\d\d:\d\d:\d\d", b"", r) for r in replies["pexim"]] == \
            [re.sub(rb"id=\S+|\d\d:\d\d:\d\d", b"", r) for r in replies["exim"]]
        yield out
    finally:
        for site in sites.values():
            site.cleanup()


def eximstats(path) -> str:
    r = subprocess.run([EXIMSTATS, "-h0", "-byhost", "-byemail", "-bydomain", "-nvr",
                        str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr, r.stderr
    return r.stdout


def _table(report: str, title: str) -> list[list[str]]:
    """The rows of one "Top 50 ..." table, split into fields."""
    lines = report.split(title, 1)[1].splitlines()[3:]
    rows = []
    for line in lines:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


@pytest.mark.skipif(not os.path.exists(EXIMSTATS), reason="needs eximstats")
def test_eximstats_figures(logs):
    ours = eximstats(logs["pexim"])
    grand = re.search(r"^  Received\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s", ours, re.M)
    assert grand, ours
    sizes = [int(s) for s in re.findall(r" <= \S+ .* S=(\d+)", logs["pexim"].read_text())]
    assert len(sizes) == 5
    # volume, messages, hosts, domains, emails
    assert [int(g) for g in grand.groups()] == [sum(sizes), 5, 2, 1, 2]
    assert re.search(r"^  Rejects\s+5\s+4\s*$", ours, re.M), ours
    hosts = _table(ours, "Top 50 sending hosts by message count")
    assert [(r[0], r[1], r[3]) for r in hosts] == [
        ("3", str(sum(sizes[:3])), "(one.test)"), ("2", str(sum(sizes[3:])), "(four.test)")]
    senders = _table(ours, "Top 50 sending emails by message count")
    assert [(r[0], r[1], r[-1]) for r in senders] == [
        ("3", str(sum(sizes[:3])), "s1@x.example"), ("2", str(sum(sizes[3:])), "s2@y.example")]
    # eximstats takes the sending domain from the host name: none was looked up
    domains = _table(ours, "Top 50 sending domains by message count")
    assert [(r[0], r[-1]) for r in domains] == [("5", "localdomain")]
    reasons = _table(ours, "Top 50 mail rejection reasons by message count")
    assert [" ".join(r) for r in reasons] == [
        "3 Rejected RCPT: relay not permitted",
        "1 Dropped: too many syntax or protocol errors", "1 Rejected RCPT: go away"]
    rejected = _table(ours, "Top 50 rejected ips by message count")
    assert [" ".join(r) for r in rejected] == [
        "2 [127.0.0.5]", "1 [127.0.0.6]", "1 [127.0.0.7]", "1 [127.0.0.8]"]
    theirs = eximstats(logs["exim"])
    strip = re.compile(r"^Exim statistics from .*$", re.M)
    assert strip.sub("", ours) == strip.sub("", theirs)


def fail2ban(path) -> tuple[int, dict[int, int], str]:
    r = subprocess.run([FAIL2BAN_REGEX, "--print-all-matched", str(path), EXIM_FILTER],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    total = int(re.search(r"^Failregex: (\d+) total", r.stdout, re.M).group(1))
    hits = {int(n): int(h) for n, h in re.findall(r"^\|\s+(\d+)\) \[(\d+)\] ", r.stdout, re.M)}
    return total, hits, r.stdout


@pytest.mark.skipif(not os.path.exists(EXIM_FILTER), reason="needs fail2ban")
def test_fail2ban_exim_filter_matches_rejections(logs):
    total, hits, out = fail2ban(logs["pexim"])
    # filter lines: 3) rejected RCPT ... relay not permitted, 7) no MAIL, 8) closed by DROP
    assert (total, hits) == (6, {3: 3, 7: 2, 8: 1}), out
    matched = re.findall(r"^\|\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$", out, re.M)
    assert sum("rejected RCPT" in m and "relay not permitted" in m for m in matched) == 3
    assert sum("[127.0.0.5]" in m for m in matched) == 2
    assert sum("[127.0.0.6]" in m for m in matched) == 1
    assert sum("[127.0.0.7]" in m and "closed by DROP in ACL" in m for m in matched) == 1
    assert fail2ban(logs["exim"])[:2] == (total, hits)
