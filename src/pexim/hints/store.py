"""The hints Store interface and the embedded SQLite backend."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import Iterator, Protocol


class Transaction(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def get_with_time(self, key: str) -> tuple[bytes, float] | None: ...
    def put(self, key: str, value: bytes) -> None: ...
    def delete(self, key: str) -> None: ...


class Store(Protocol):
    def transaction(self, name: str, write: bool = True): ...
    def get(self, name: str, key: str) -> bytes | None: ...
    def items(self, name: str) -> Iterator[tuple[str, bytes, float]]: ...
    def delete(self, name: str, key: str) -> None: ...
    def close(self) -> None: ...


class HintsUnavailable(Exception):
    """The database cannot be opened (Exim: "... database not available")."""


class _SqliteTxn:
    __slots__ = ("_c",)

    def __init__(self, conn):
        self._c = conn

    def get(self, key: str) -> bytes | None:
        row = self._c.execute("SELECT value FROM hints WHERE key=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def get_with_time(self, key: str):
        row = self._c.execute("SELECT value, stamp FROM hints WHERE key=?", (key,)).fetchone()
        return None if row is None else (bytes(row[0]), row[1])

    def put(self, key: str, value: bytes) -> None:
        self._c.execute("INSERT OR REPLACE INTO hints(key, value, stamp) VALUES (?,?,?)",
                        (key, value, time.time()))

    def delete(self, key: str) -> None:
        self._c.execute("DELETE FROM hints WHERE key=?", (key,))


class SqliteStore:
    """One SQLite file per hints database in `directory` (WAL, shared by processes)."""

    def __init__(self, directory: str, timeout: float = 30.0):
        self.directory = directory
        self.timeout = timeout
        self._conns: dict[str, sqlite3.Connection] = {}
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def path(self, name: str) -> str:
        return os.path.join(self.directory, name + ".sqlite")

    def _conn(self, name: str) -> sqlite3.Connection:
        if self._pid != os.getpid():        # forked: never share a connection
            self._conns = {}
            self._pid = os.getpid()
        conn = self._conns.get(name)
        if conn is not None:
            return conn
        try:
            os.makedirs(self.directory, mode=0o750, exist_ok=True)
            conn = sqlite3.connect(self.path(name), timeout=self.timeout,
                                   isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS hints "
                         "(key TEXT PRIMARY KEY, value BLOB NOT NULL, stamp REAL NOT NULL)")
        except (OSError, sqlite3.Error) as e:
            raise HintsUnavailable(str(e)) from e
        self._conns[name] = conn
        return conn

    @contextmanager
    def transaction(self, name: str, write: bool = True):
        with self._lock:
            conn = self._conn(name)
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as e:
                raise HintsUnavailable(str(e)) from e
            try:
                yield _SqliteTxn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def get(self, name: str, key: str) -> bytes | None:
        with self.transaction(name, write=False) as t:
            return t.get(key)

    def items(self, name: str):
        with self._lock:
            rows = self._conn(name).execute(
                "SELECT key, value, stamp FROM hints ORDER BY key").fetchall()
        return [(k, bytes(v), s) for k, v, s in rows]

    def delete(self, name: str, key: str) -> None:
        with self.transaction(name) as t:
            t.delete(key)

    def close(self) -> None:
        for conn in self._conns.values():
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._conns = {}


_STORES: dict[str, SqliteStore] = {}


def store_for_directory(directory: str) -> SqliteStore:
    """The process's store for one hints directory (connections are reused)."""
    directory = os.path.abspath(directory)
    st = _STORES.get(directory)
    if st is None:
        st = _STORES[directory] = SqliteStore(directory)
    return st


def open_store(config) -> SqliteStore:
    """The hints store of a configuration: spool_directory/db/."""
    spool = None
    try:
        spool = config.main.get("spool_directory")
    except Exception:  # noqa: BLE001 - no such option table
        spool = None
    if spool:
        from pexim.expand import ExpandContext, compile_cached
        try:
            spool = compile_cached(str(spool)).evaluate(ExpandContext(config=config))
        except Exception:  # noqa: BLE001 - left unexpanded, as given
            pass
    if not spool:
        from pexim import build
        spool = getattr(build, "SPOOL_DIRECTORY", "/var/spool/exim4")
    return store_for_directory(os.path.join(str(spool), "db"))
