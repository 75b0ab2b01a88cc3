"""redis lookups (not in Debian's exim): a real redis-server on a free loopback
port, stopped by PID afterwards; outcomes from the spec and Exim's redis.c."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
from lookup_oracle import datadir, needs_tool, run_be, table, write_config

from pexim.lookups.redis import format_reply, split_command

CASES = table("redis.table")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    d = datadir("pexim-redis-")
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--requirepass", "s3cret",
                             "--dir", str(d), "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield d, port
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def results(server):
    d, port = server
    dead = free_port()
    conf = write_config(d, "hide redis_servers = 127.0.0.1::%d//s3cret : 127.0.0.1::%d//s3cret\n"
                        % (dead, port))
    exprs = [e.replace("@P@", str(port)).replace("@DEAD@", str(dead)) for e, _ in CASES]
    got = run_be("pexim", conf, exprs, d)
    return [g.replace(str(port), "@P@").replace(str(dead), "@DEAD@") for g in got]


@needs_tool("redis-server")
@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0][:60] for c in CASES])
def test_redis(results, i):
    assert results[i] == CASES[i][1]


def test_split_command():
    assert split_command("  SET  k a\\ b\\\\c  ") == [b"SET", b"k", b"a b\\c"]
    assert split_command("x\\") == [b"x"]
    assert len(split_command(" ".join(["a"] * 40))) == 32


def test_format_reply_arrays():
    assert format_reply([b"a", None, 5, [b"x", b"y"], b""]) == "a\n\n5\n\nx\ny\n"
    assert format_reply([]) is None
    assert format_reply([None, b"b"]) == "b"
    assert format_reply(0) == "false"
