"""ratelimit state lives in the hints database: two pexim processes updating the
same key add up, and the rate survives the process (a restart)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
keep_environment =
spool_directory = %s
acl_smtp_rcpt = r
acl_smtp_quit = q
begin acl
r:
  deny ratelimit = %s / 1h / per_rcpt / strict
       message = over $sender_rate/$sender_rate_period
  accept
q:
  accept ratelimit = 0 / 1h / per_rcpt / readonly
         logwrite = RATE $sender_rate
"""


def pexim_bh(conf: Path, rcpts: int, wait=True):
    data = "HELO x\r\nMAIL FROM:<a@b.ex>\r\n" + \
        "".join("RCPT TO:<u%d@y.ex>\r\n" % i for i in range(rcpts)) + "QUIT\r\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    p = subprocess.Popen([sys.executable, "-m", "pexim", "-C", str(conf), "-bh", "10.0.0.9"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env)
    p.stdin.write(data.encode())
    p.stdin.close()
    if not wait:
        return p
    out = p.stdout.read().decode()
    p.wait(60)
    return out


def test_rate_survives_restart(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(CONFIG % (tmp_path / "spool", 3.5))
    first = pexim_bh(conf, 2)
    assert first.count("250 Accepted") == 2
    assert "LOG: RATE 2.0" in first
    second = pexim_bh(conf, 2)                     # a new process: the rate was kept
    assert "250 Accepted" in second
    assert "550 over 4.0/1h" in second
    assert (tmp_path / "spool" / "db" / "ratelimit.sqlite").exists()


def test_two_processes_share_a_key(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(CONFIG % (tmp_path / "spool", 1000))
    procs = [pexim_bh(conf, 15, wait=False) for _ in range(2)]
    for p in procs:
        p.stdout.read()
        assert p.wait(60) == 0
    out = pexim_bh(conf, 0)
    rate = float(re.search(r"LOG: RATE ([\d.]+)", out).group(1))
    assert 29.5 <= rate <= 30.0
