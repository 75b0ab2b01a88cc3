"""Nothing acknowledged is lost: SIGKILL the whole daemon at random moments while
clients send a few hundred messages; every message that got "250 OK id=X" must
be on the spool, intact (DESIGN, "Durable before acknowledged")."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import threading
import time

import pytest
from pexim_site import HAVE_EXIM, Site, wait_port

pytestmark = pytest.mark.skipif(not HAVE_EXIM, reason="needs real exim for -bp")

MESSAGES = 300
CLIENTS = 4


def _children(pid: int) -> list[int]:
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _kill_all(site: Site) -> None:
    """SIGKILL the master and its workers (by PID), as a power cut would."""
    pid = site.proc.pid
    victims = [pid] + _children(pid)
    for p in victims:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    site.proc.wait(10)
    for p in victims[1:]:
        for _ in range(100):
            try:
                os.kill(p, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)


def _send_one(port: int, n: int) -> str | None:
    """One message on a raw socket; the id when the server said 250 after DATA."""
    body = "".join("msg %d line %d %s\r\n" % (n, i, "x" * (n % 70)) for i in range(n % 40 + 1))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            f = s.makefile("rb")

            def reply() -> bytes:
                while True:
                    line = f.readline()
                    if not line:
                        raise ConnectionError
                    if line[3:4] != b"-":
                        return line
            reply()
            for cmd in (b"HELO t\r\n", b"MAIL FROM:<s@x.example>\r\n",
                        b"RCPT TO:<r%d@y.example>\r\n" % n, b"DATA\r\n"):
                s.sendall(cmd)
                reply()
            s.sendall(("Subject: n%d\r\n\r\n%s.\r\n" % (n, body)).encode())
            line = reply()
            if line.startswith(b"250 OK id="):
                return line[10:].strip().decode() + " %d" % n
    except (OSError, ConnectionError):
        return None
    return None


def test_no_acknowledged_message_is_lost():
    site = Site()
    site.start(workers=2)
    acked: list[str] = []
    counter = iter(range(MESSAGES))
    lock = threading.Lock()
    stop = time.time() + 40

    def client() -> None:
        while time.time() < stop:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            while time.time() < stop:          # retry a number until it is acknowledged
                got = _send_one(site.port, n)
                if got:
                    with lock:
                        acked.append(got)
                    break
                time.sleep(0.05)

    try:
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        kills = 0
        rnd = random.Random()
        while any(t.is_alive() for t in threads) and kills < 8:
            time.sleep(rnd.uniform(0.05, 0.4))
            _kill_all(site)
            kills += 1
            site.proc = subprocess.Popen(site.command("-bdf", "-oX", str(site.port), "-oP",
                                                      str(site.pidfile)),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            wait_port(site.port)
        for t in threads:
            t.join(60)
        assert kills >= 2 and len(acked) == MESSAGES, (kills, len(acked))
        on_spool = set(site.ids())
        for item in acked:
            mid, n = item.split()
            assert mid in on_spool, "acknowledged %s lost" % mid
            d = site.file(mid, "-D").decode()
            n = int(n)
            assert d.startswith(mid + "-D\n")
            assert d.count("\n") == 1 + n % 40 + 1
            assert d.endswith("msg %d line %d %s\n" % (n, n % 40, "x" * (n % 70)))
            h = site.file(mid, "-H").decode()
            assert "\nr%d@y.example\n" % n in h and "Subject: n%d\n" % n in h
        bp = site.bp()
        assert all(item.split()[0] in bp for item in acked)
    finally:
        site.cleanup()
