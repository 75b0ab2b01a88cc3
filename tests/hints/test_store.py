"""The embedded hints store: records survive a reopen (restart), several
processes updating one key lose no update, and it is fast enough."""

from __future__ import annotations

import multiprocessing
import struct
import time

from pexim.hints.store import SqliteStore


def test_roundtrip_and_restart(tmp_path):
    st = SqliteStore(str(tmp_path / "db"))
    with st.transaction("ratelimit") as db:
        assert db.get("k") is None
        db.put("k", b"value")
    assert st.get("ratelimit", "k") == b"value"
    st.close()
    again = SqliteStore(str(tmp_path / "db"))          # a new process would do this
    assert again.get("ratelimit", "k") == b"value"
    assert [k for k, _v, _t in again.items("ratelimit")] == ["k"]
    again.delete("ratelimit", "k")
    assert again.get("ratelimit", "k") is None
    assert (tmp_path / "db" / "ratelimit.sqlite").exists()


def test_databases_are_separate(tmp_path):
    st = SqliteStore(str(tmp_path))
    with st.transaction("retry") as db:
        db.put("k", b"1")
    assert st.get("ratelimit", "k") is None


def test_rollback_on_error(tmp_path):
    st = SqliteStore(str(tmp_path))
    try:
        with st.transaction("ratelimit") as db:
            db.put("k", b"1")
            raise RuntimeError
    except RuntimeError:
        pass
    assert st.get("ratelimit", "k") is None


def _bump(directory: str, n: int) -> None:
    st = SqliteStore(directory)
    for _ in range(n):
        with st.transaction("ratelimit") as db:
            raw = db.get("counter")
            value = struct.unpack("<q", raw)[0] if raw else 0
            db.put("counter", struct.pack("<q", value + 1))


def test_processes_share_and_serialise(tmp_path):
    directory = str(tmp_path / "db")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_bump, args=(directory, 150)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    raw = SqliteStore(directory).get("ratelimit", "counter")
    assert struct.unpack("<q", raw)[0] == 450


def test_speed(tmp_path):
    """Read-modify-write transactions per second (printed with -s); a floor of 500/s."""
    st = SqliteStore(str(tmp_path))
    n = 1000
    start = time.perf_counter()
    for i in range(n):
        with st.transaction("ratelimit") as db:
            db.get("k%d" % (i % 50))
            db.put("k%d" % (i % 50), b"x" * 24)
    rate = n / (time.perf_counter() - start)
    print("hints store: %.0f read-modify-write transactions/s" % rate)
    assert rate > 500
