"""The queue commands on queues written by real exim and by pexim's own -odq, a
locked message, a user who is not an admin, and exipick reading a pexim queue."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from exim_oracle import _ENV, EXIM, HAVE_EXIM, pexim_command, run_exim, run_pexim  # noqa: E402
from queue_spool import REPO_SRC, build, exim_owner, load_case  # noqa: E402

from pexim.spool.locking import lock_data_file  # noqa: E402

pytestmark = pytest.mark.skipif(not HAVE_EXIM or os.geteuid() != 0,
                                reason="needs real exim, as root")

MESSAGES = [(["-f", "alice@a.example", "r1@b.example", "r2@c.example"], b"Subject: one\n\nbody\n"),
            (["-f", "<>", "x@b.example"], b"Subject: two\n\n" + b"y" * 3000 + b"\n"),
            (["-f", "bob@a.example", "z@b.example"], b"Subject: three\nTo: z@b.example\n\nz\n")]


def _submit(program: str, root: Path) -> None:
    conf = root / "configure"
    cmd = [EXIM] if program == "exim" else pexim_command()
    env = dict(_ENV, PYTHONPATH=REPO_SRC)
    for args, body in MESSAGES:
        subprocess.run(cmd + ["-C", str(conf), "-odq"] + args, input=body, env=env,
                       check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def submitted():
    """Two queues with the same three messages, one written by exim, one by pexim."""
    queues = {}
    for program in ("exim", "pexim"):
        q = build({"messages": []})
        _submit(program, q.root)
        # pexim run as root writes its spool as root; exim reads it as its own user
        for dirpath, _dirs, files in os.walk(q.root / "spool"):
            for name in [dirpath] + [os.path.join(dirpath, f) for f in files]:
                os.chown(name, *exim_owner())
        queues[program] = q
    yield queues
    for q in queues.values():
        q.cleanup()


@pytest.mark.parametrize("writer", ["exim", "pexim"])
@pytest.mark.parametrize("mode", ["-bp", "-bpa", "-bpu", "-bpc"])
def test_listing_of_a_submitted_queue(submitted, writer, mode):
    q = submitted[writer]
    exim = run_exim(["-C", str(q.conf), mode])
    pexim = run_pexim(["-C", str(q.conf), mode])
    assert (pexim.rc, pexim.stdout) == (exim.rc, exim.stdout)
    assert exim.stdout.count("\n") >= (1 if mode == "-bpc" else 10)


def test_exipick_reads_a_pexim_queue(submitted):
    q = submitted["pexim"]
    ids = sorted(p.name[:-2] for p in (q.root / "spool" / "input").glob("*-H"))
    out = subprocess.run(["/usr/sbin/exipick", "--spool", str(q.root / "spool"), "-i"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.split() == ids
    picked = subprocess.run(["/usr/sbin/exipick", "--spool", str(q.root / "spool")],
                            capture_output=True, text=True, timeout=60).stdout
    listed = run_pexim(["-C", str(q.conf), "-bp"]).stdout

    def entries(text):     # exipick may list an entry's recipients in another order
        return sorted(tuple(sorted(e.splitlines())) for e in text.split("\n\n") if e.strip())
    assert entries(picked) == entries(listed)


def test_locked_message_is_left_alone():
    case = load_case("actions.json")
    queue = build(case)
    try:
        mid = queue.ids["m1"]
        fd = os.open(queue.root / "spool" / "input" / f"{mid}-D", os.O_RDWR)
        try:
            assert lock_data_file(fd)
            before = (queue.root / "spool" / "input" / f"{mid}-H").read_bytes()
            for argv in (["-Mf", mid], ["-Mrm", mid], ["-Mar", mid, "a@b.example"]):
                exim = run_exim(["-C", str(queue.conf)] + argv)
                pexim = run_pexim(["-C", str(queue.conf)] + argv)
                assert (pexim.rc, pexim.stdout) == (exim.rc, exim.stdout)
                assert f"Message {mid} is locked" in pexim.stdout
            assert (queue.root / "spool" / "input" / f"{mid}-H").read_bytes() == before
        finally:
            os.close(fd)
    finally:
        queue.cleanup()


# --- a user who is not an admin -------------------------------------------------------

_AS_USER = """
import os, pwd, sys
from pexim.cli import parse_args
from pexim.commands import load_config
import pexim.commands.info, pexim.commands.queue, pexim.log, pexim.smtp.receive  # noqa
import pexim.privileges, pexim.delivery.deliver  # noqa
inv = parse_args(sys.argv[2:])
config = load_config(inv)
pw = pwd.getpwnam(sys.argv[1])
os.setgroups([]); os.setgid(pw.pw_gid); os.setuid(pw.pw_uid)
sys.exit(pexim.commands.queue.run(config, inv))
"""


@pytest.mark.parametrize("argv", [["-bp"], ["-bpc"], ["-Mf", "@m1@"], ["-Mrm", "@m1@"],
                                  ["-Mvh", "@m1@"], ["-Mg", "@m1@"]], ids=" ".join)
def test_non_admin_is_refused(argv):
    """As "nobody": exim (which gives up root for -C) and pexim (config loaded
    as root, then the same uid) print the same refusals."""
    pwd.getpwnam("nobody")
    queue = build(load_case("actions.json"))
    try:
        args = ["-C", str(queue.conf)] + queue.args(argv)
        exim = subprocess.run(["runuser", "-u", "nobody", "--", EXIM] + args, env=_ENV,
                              capture_output=True, text=True, timeout=60)
        python = pexim_command()[0]
        pexim = subprocess.run([python, "-c", _AS_USER, "nobody"] + args,
                               env=dict(_ENV, PYTHONPATH=REPO_SRC),
                               capture_output=True, text=True, timeout=60)
        assert (pexim.returncode, pexim.stdout) == (exim.returncode, exim.stdout)
        if argv[0] in ("-bp", "-bpc", "-Mg"):
            assert pexim.stderr == exim.stderr == "exim: permission denied\n"
        if argv[0] in ("-Mf", "-Mrm"):
            assert "Spool error for" in exim.stderr and "Spool error for" in pexim.stderr
        assert (queue.root / "spool" / "input" / f"{queue.ids['m1']}-H").exists()
    finally:
        queue.cleanup()

