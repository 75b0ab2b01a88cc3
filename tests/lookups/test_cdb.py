"""cdb lookups: files built by tinycdb's `cdb -c`, answers compared with real exim."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest
from lookup_oracle import DATA, cases, compare, datadir, needs_exim, needs_tool

from pexim.expand import ExpandContext, ExpansionError, expand_string

CASES = cases("cdb.cases")


def build(d):
    src = (DATA / "cdb.cdbmake").read_bytes()
    subprocess.run(["cdb", "-c", str(d / "test.cdb")], input=src, check=True)
    (d / "short.cdb").write_bytes(b"x" * 100)
    return d


@pytest.fixture(scope="module")
def results():
    dirs = [build(datadir("pexim-cdb-")) for _ in range(2)]
    yield compare(CASES, *dirs)
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@needs_exim
@needs_tool("cdb")
@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[:60] for c in CASES])
def test_cdb_matches_exim(results, i):
    exim, pexim = results
    assert pexim[i] == exim[i], CASES[i]


@needs_tool("cdb")
def test_many_records_and_probing(tmp_path):
    """2000 records: every key found through the hash tables, misses fail."""
    recs = {("key%d" % i).encode(): ("value-%d" % i).encode() * (1 + i % 7) for i in range(2000)}
    src = b"".join(b"+%d,%d:%s->%s\n" % (len(k), len(v), k, v) for k, v in recs.items()) + b"\n"
    subprocess.run(["cdb", "-c", str(tmp_path / "m.cdb")], input=src, check=True)
    from pexim.lookups.cdb import open_cdb
    db = open_cdb(str(tmp_path / "m.cdb"))
    for k, v in recs.items():
        assert db.get("m.cdb", k) == v
    assert db.get("m.cdb", b"key2000") is None
    assert db.get("m.cdb", b"") is None


def test_corrupt_file_defers(tmp_path):
    """A hash table pointer beyond the end of the file is a DEFER, as in Exim."""
    from pexim.lookups.cdb import cdb_hash
    table = bytearray(2048)
    slot = cdb_hash(b"k") & 255
    struct.pack_into("<II", table, slot * 8, 1 << 20, 4)
    f = tmp_path / "bad.cdb"
    f.write_bytes(bytes(table))
    with pytest.raises(ExpansionError) as e:
        expand_string("${lookup{k}cdb{%s}}" % f, ExpandContext())
    assert e.value.message == 'lookup of "k" gave DEFER: cdb: corrupt cdb file %s (too short)' % f


@needs_tool("cdb")
def test_rebuilt_file_is_reread(tmp_path):
    """A file replaced by rename (how cdb files are updated) is opened afresh."""
    f = tmp_path / "r.cdb"
    for value in (b"one", b"two"):
        tmp = tmp_path / "r.tmp"
        subprocess.run(["cdb", "-c", "-t", str(tmp), str(tmp)],
                       input=b"+1,%d:k->%s\n\n" % (len(value), value), check=True)
        tmp.rename(f)
        assert expand_string("${lookup{k}cdb{%s}}" % f, ExpandContext()) == value.decode()


def test_tainted_file_name_refused(tmp_path, capsys):
    """Exim refuses a tainted file name for a single-key lookup: it logs the
    reason and the expansion fails with its stale search error, "(null)"."""
    from pexim.expand import Tainted
    f = tmp_path / "t.cdb"
    f.write_bytes(bytes(2048))
    ctx = ExpandContext(values={"local_part": Tainted(str(f))})
    with pytest.raises(ExpansionError) as e:
        expand_string("${lookup{k}cdb{$local_part}}", ctx)
    assert e.value.message == "(null)"
    assert "Tainted filename for search: '%s'" % f in capsys.readouterr().err
    assert expand_string("${lookup{k}cdb{%s}{y}{n}}" % f, ExpandContext()) == "n"
