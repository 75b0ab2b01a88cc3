"""lmdb lookups (not in Debian's exim): a database written with py-lmdb, outcomes
from the spec and Exim's lmdb.c, run through `pexim -be`."""

from __future__ import annotations

import shutil

import lmdb
import pytest
from lookup_oracle import DATA, datadir, run_be, table, write_config

CASES = table("lmdb.table")


@pytest.fixture(scope="module")
def results():
    d = datadir("pexim-lmdb-")
    env = lmdb.open(str(d / "test.mdb"), subdir=False)
    with env.begin(write=True) as txn:
        for line in (DATA / "lmdb.tsv").read_text().splitlines():
            k, v = line.split("\t")
            txn.put(k.encode(), v.replace("\\0", "\0").encode())
    env.close()
    shutil.copy(DATA / "lmdb.tsv", d / "lmdb.tsv")
    conf = write_config(d, "")
    got = run_be("pexim", conf, [e.replace("@D@", str(d)) for e, _ in CASES], d)
    yield [g.replace(str(d), "@D@") for g in got]
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0][:60] for c in CASES])
def test_lmdb(results, i):
    assert results[i] == CASES[i][1]
