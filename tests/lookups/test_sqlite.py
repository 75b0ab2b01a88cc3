"""sqlite lookups: databases built by the sqlite3 CLI, answers compared with real
exim (sqlite_dbfile, file=, the deprecated file prefix, result formats, caching
of rows and not of empty results, quote_sqlite)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from lookup_oracle import DATA, cases, compare, datadir, needs_exim, needs_tool

from pexim.expand import ExpandContext, ExpansionError, expand_string
from pexim.lookups.sqlite import real_text

CASES = cases("sqlite.cases")
CONF = "sqlite_dbfile = @D@/main.sqlite\n"


def build(d):
    sql = (DATA / "sqlite.sql").read_text()
    subprocess.run(["sqlite3", str(d / "main.sqlite")], input=sql.encode(), check=True)
    subprocess.run(["sqlite3", str(d / "other.sqlite")],
                   input=(sql + "UPDATE t SET name='OTHER' WHERE id='a';").encode(), check=True)
    return d


@pytest.fixture(scope="module")
def results():
    dirs = [build(datadir("pexim-sqlite-")) for _ in range(2)]
    yield compare(CASES, *dirs, conf_text=CONF)
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@needs_exim
@needs_tool("sqlite3")
@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[:60] for c in CASES])
def test_sqlite_matches_exim(results, i):
    exim, pexim = results
    assert pexim[i] == exim[i], CASES[i]


def test_no_dbfile():
    with pytest.raises(ExpansionError) as e:
        expand_string("${lookup sqlite{select 1}}", ExpandContext())
    assert e.value.message == 'absolute file name expected for "sqlite" lookup'


@pytest.mark.parametrize("value,text", [(1.0, "1.0"), (1e100, "1.0e+100"), (3e-05, "3.0e-05"),
                                        (0.1, "0.1"), (-2.5, "-2.5"), (1e15, "1.0e+15"),
                                        (123456789012345.0, "123456789012345.0")])
def test_real_text(value, text):
    assert real_text(value) == text


def test_lock_timeout(tmp_path):
    """A database locked by a writer: the lookup fails after sqlite_lock_timeout."""
    import sqlite3
    import time

    db = tmp_path / "l.sqlite"
    w = sqlite3.connect(str(db), isolation_level=None)
    w.execute("create table t(x)")
    w.execute("begin exclusive")

    class Cfg:
        class main:
            @staticmethod
            def get(name):
                return {"sqlite_lock_timeout": 1}.get(name)

    ctx = ExpandContext(config=Cfg())
    t0 = time.monotonic()
    got = expand_string("${lookup sqlite,file=%s{select count(*) from t}{$value}{locked}}" % db,
                        ctx)
    assert got == "locked"
    assert 0.8 < time.monotonic() - t0 < 5
    w.execute("rollback")
