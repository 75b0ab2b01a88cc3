"""dbm, dbmnz, dbmjz: Berkeley DB hash files built by Debian's exim_dbmbuild and
by pexim_dbmbuild; answers compared with real exim, which also reads the files
pexim_dbmbuild writes."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from lookup_oracle import DATA, ENV, cases, compare, datadir, needs_exim, needs_tool, python

from pexim.lookups.bdb import HashDB, read_hash, write_hash

CASES = cases("dbm.cases")
DBMBUILD = "exim_dbmbuild"


def big_source() -> str:
    """3000 records with long keys and values (overflow pages, many buckets)."""
    lines = []
    for i in range(3000):
        k = "k" * 200 + str(i) if i % 500 == 7 else "key%d" % i
        v = "x" * (5000 + i) if i % 300 == 5 else "y" * 1100 if i % 301 == 3 else "val%d" % i
        lines.append("%s: %s\n" % (k, v))
    return "".join(lines)


def build(d, tool: list[str]):
    shutil.copy(DATA / "dbm.txt", d / "dbm.txt")
    shutil.copy(DATA / "dbmnz.txt", d / "dbmnz.txt")
    (d / "big.txt").write_text(big_source())
    (d / "short.cdb").write_bytes(b"x" * 100)
    for args in (["dbm.txt", "test.dbm"], ["-nozero", "dbmnz.txt", "nozero.dbm"],
                 ["big.txt", "big.dbm"]):
        subprocess.run(tool + args, cwd=str(d), check=True, capture_output=True, env=ENV)
    return d


PEXIM_DBMBUILD = [python(), "-m", "pexim.lookups.dbmbuild"]


@pytest.fixture(scope="module")
def results():
    """Exim on exim_dbmbuild's files, pexim on them, exim on pexim_dbmbuild's."""
    dirs = [build(datadir("pexim-dbm-"), [DBMBUILD]) for _ in range(2)]
    mine = build(datadir("pexim-dbm-"), PEXIM_DBMBUILD)
    exim, pexim = compare(CASES, *dirs)
    exim_on_mine, _ = compare(CASES, mine, dirs[1])
    yield exim, pexim, exim_on_mine
    for d in dirs + [mine]:
        shutil.rmtree(d, ignore_errors=True)


@needs_exim
@needs_tool(DBMBUILD)
@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[:60] for c in CASES])
def test_dbm_matches_exim(results, i):
    exim, pexim, _ = results
    assert pexim[i] == exim[i], CASES[i]


@needs_exim
@needs_tool(DBMBUILD)
@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[:60] for c in CASES])
def test_exim_reads_pexim_dbmbuild_files(results, i):
    exim, _, exim_on_mine = results
    assert exim_on_mine[i] == exim[i], CASES[i]


# --- pexim_dbmbuild against exim_dbmbuild: messages, exit codes, contents ----------

DBMBUILD_RUNS = [
    ["dbm.txt"], ["-nozero", "dbmnz.txt"], ["-nolc", "dbm.txt"], ["dups.txt"],
    ["-lastdup", "dups.txt"], ["-noduperr", "dups.txt"], ["-nowarn", "-noduperr", "dups.txt"],
    ["-lastdup", "-nolc", "dups.txt"], ["longkey.txt"], ["-nozero", "longkey.txt"],
    ["nonexistent.txt"], ["-x", "dbm.txt"], [], ["dbm.txt", "dbm.txt", "extra"],
    ["-", "<stdin"],
]


def _dbmbuild(tool, d, args):
    stdin = None
    if args[-1:] == ["<stdin"]:
        args = args[:-1]
        stdin = (DATA / "dbm.txt").read_bytes()
    out = "out.dbm"
    argv = tool + args + ([out] if args and args != ["dbm.txt", "dbm.txt", "extra"] else [])
    p = subprocess.run(argv, cwd=str(d), input=stdin, capture_output=True, env=ENV)
    contents = read_hash((d / out).read_bytes()) if (d / out).exists() else None
    if (d / out).exists():
        (d / out).unlink()
    leftovers = sorted(x.name for x in d.iterdir() if x.name.endswith(".dbmbuild_temp"))
    return p.returncode, p.stdout + b"|" + p.stderr, contents, leftovers


@pytest.fixture(scope="module")
def build_dir():
    d = datadir("pexim-dbmbuild-")
    shutil.copy(DATA / "dbm.txt", d / "dbm.txt")
    shutil.copy(DATA / "dbmnz.txt", d / "dbmnz.txt")
    (d / "dups.txt").write_text("  orphan continuation\nA: 1\na: 2\nb\n  more\nA: 3\n")
    # 256 characters: too long with the zero; without it, Debian's binary
    # overflows its key buffer (exactly 256) and fails the rename, so 257.
    (d / "longkey.txt").write_text("k" * 257 + ": v\n")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@needs_tool(DBMBUILD)
@pytest.mark.parametrize("args", DBMBUILD_RUNS, ids=[" ".join(a) or "(none)" for a in DBMBUILD_RUNS])
def test_pexim_dbmbuild_matches_exim_dbmbuild(build_dir, args):
    want = _dbmbuild([DBMBUILD], build_dir, args)
    got = _dbmbuild(PEXIM_DBMBUILD, build_dir, args)
    assert got == want


def test_console_script_declared():
    text = (DATA.parents[2] / "pyproject.toml").read_text()
    assert 'pexim_dbmbuild = "pexim.lookups.dbmbuild:main"' in text


# --- the format itself ---------------------------------------------------------------

def test_writer_reader_round_trip(tmp_path):
    pairs = {b"k%d\0" % i: b"v" * (i % 3000) + b"\0" for i in range(1500)}
    pairs[b"\0"] = b""
    pairs[b"big-key-" * 200] = b"x"
    f = tmp_path / "rt.db"
    write_hash(str(f), list(pairs.items()))
    data = f.read_bytes()
    assert len(data) % 4096 == 0
    assert read_hash(data) == pairs
    db = HashDB(data)
    assert all(db.get(k) == v for k, v in pairs.items())
    assert db.get(b"missing\0") is None


@needs_tool(DBMBUILD)
def test_reads_exim_dbmbuild_big_file(tmp_path):
    (tmp_path / "big.txt").write_text(big_source())
    subprocess.run([DBMBUILD, "big.txt", "big.dbm"], cwd=str(tmp_path), check=True,
                   capture_output=True)
    want = {}
    for line in big_source().splitlines():
        k, v = line.split(": ", 1)
        want[k.encode() + b"\0"] = v.encode() + b"\0"
    assert read_hash((tmp_path / "big.dbm").read_bytes()) == want


@needs_exim
def test_exim_finds_every_key_pexim_wrote(tmp_path):
    """Prefix-heavy keys (the page sort order matters to libdb's binary search)."""
    import random
    rnd = random.Random(4)
    keys = sorted({"".join(rnd.choice("ab.") for _ in range(rnd.randint(1, 9)))
                   for _ in range(3000)})
    d = datadir("pexim-dbmkeys-")
    try:
        write_hash(str(d / "k.db"), [(k.encode(), ("=" + k).encode()) for k in keys])
        exprs = ["${lookup{%s}dbmnz{%s}{$value}{MISSING}}" % (k, d / "k.db") for k in keys]
        got, _ = compare(exprs, d, d)
        assert got == ["=" + k for k in keys]
    finally:
        shutil.rmtree(d, ignore_errors=True)
