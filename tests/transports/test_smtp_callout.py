"""Callouts (delivery/callout.py) against real exim's, on the same scripted server.

Each case in tests/data/callout/ gives the verify options, the recipients and
a server script.  Real exim runs an -bhc session whose RCPT ACL says
``require verify = recipient/callout=<options>`` with a manualroute router to
the server; pexim's callout() verifies the same addresses against the same
server.  Compared: the reply each RCPT gets (built from the result and
user_message the way the ACL does), the rejection log text (addr.message),
the commands the server saw, and the callout cache records.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from exim_oracle import EXIM, needs_exim, needs_root  # noqa: E402
from smtp_servers import ScriptedServer, parse_script  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CASES = sorted((REPO / "tests" / "data" / "callout").glob("*.case"))
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C",
       "HOME": "/root", "TZ": "UTC"}
SENDER = "s@client.example"

CONF = """\
keep_environment =
primary_hostname = client.example
qualify_domain = client.example
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  require verify = recipient/callout={verify}
  accept
begin routers
r:
  driver = manualroute
  domains = ! client.example
  route_list = * 127.0.0.1 byname
  self = send
  transport = t
begin transports
t:
  driver = smtp
  port = {port}
  allow_localhost
"""


def load_case(path: Path) -> dict:
    head, _, script = path.read_text().partition("--- script\n")
    case = {"script": parse_script(script)}
    for line in head.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key, _, value = line.partition(": ")
        case[key] = value.split() if key == "recipients" else value
    return case


def replies(stdout: str) -> list[str]:
    """The SMTP replies in -bh output, one string per (multi-line) reply."""
    out, cur = [], []
    for line in stdout.splitlines():
        if re.match(r"^\d\d\d[ -]", line):
            cur.append(line)
            if line[3] == " ":
                out.append("\n".join(cur))
                cur = []
    return out


def _norm(cmds: list[str]) -> list[str]:
    return [re.sub(r"-\d+-testing@", "-TIME-testing@", c) for c in cmds]


def exim_side(case: dict, port: int, d: Path):
    (d / "conf").write_text(CONF.format(d=d, port=port, verify=case["verify"]))
    os.chmod(d / "conf", 0o644)
    session = "HELO me\r\nMAIL FROM:<%s>\r\n%sQUIT\r\n" % (
        SENDER, "".join(f"RCPT TO:<{r}>\r\n" for r in case["recipients"]))
    r = subprocess.run([EXIM, "-C", str(d / "conf"), "-bhc", "10.0.0.1"],
                       input=session.encode(), capture_output=True, env=ENV, timeout=120)
    rcpt_replies = replies(r.stdout.decode())[3:-1]
    logs = [ln.split(">: ", 1)[1] for ln in r.stderr.decode().splitlines()
            if ln.startswith("LOG: ") and " RCPT <" in ln]
    dump = subprocess.run(["/usr/sbin/exim_dumpdb", str(d / "spool"), "callout"],
                          capture_output=True, env=ENV).stdout.decode()
    cache = sorted(ln.split(" ", 2)[2] for ln in dump.splitlines() if ln[:2].isdigit())
    return rcpt_replies, logs, cache


def acl_reply(result: str, addr) -> str:
    """What the RCPT ACL answers for a callout result (Exim's verify failure texts)."""
    if result == "ok":
        return "250 Accepted"
    if result == "defer":
        return "451 " + addr.user_message
    lines = (addr.user_message or addr.message).split("\n")
    return "\n".join([f"550-{ln}" for ln in lines[:-1]] + [f"550 {lines[-1]}"])


def acl_log(result: str, addr) -> str | None:
    if result == "fail":
        return addr.message
    if result == "defer":
        return f"{addr.user_message}: {addr.message}"
    return None


def pexim_side(case: dict, port: int, d: Path):
    from pexim.config.loader import load
    from pexim.delivery import callout as co
    from pexim.delivery.address import AddressItem, Host
    from pexim.delivery.context import TransportContext
    from pexim.hints.store import open_store

    conf = d / "conf"
    conf.write_text(CONF.format(d=d, port=port, verify=case["verify"]))
    config = load(str(conf))
    hints = open_store(config)
    tctx = TransportContext(config, None, hints)
    options = co.parse_options(case["verify"])
    got_replies, logs = [], []
    for rcpt in case["recipients"]:
        addr = AddressItem(rcpt)
        result = asyncio.run(co.callout(
            addr, [Host("127.0.0.1", "127.0.0.1")], tctx, options=options, sender=SENDER,
            helo="client.example", port=port, primary_hostname="client.example"))
        got_replies.append(acl_reply(result, addr))
        log = acl_log(result, addr)
        if log is not None:
            logs.append(log)
    cache = sorted(co.format_record(k, v).split(" ", 2)[2] for k, v, _ in hints.items("callout"))
    return got_replies, logs, cache


@needs_exim
@needs_root
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_callout_matches_exim(path):
    case = load_case(path)
    server = ScriptedServer(case["script"])
    dirs = [Path(tempfile.mkdtemp(prefix="pexim-callout-", dir="/tmp")) for _ in range(2)]
    try:
        for d in dirs:
            for sub in ("", "spool", "log"):
                (d / sub).mkdir(exist_ok=True)
                os.chmod(d / sub, 0o777)
        expected = exim_side(case, server.port, dirs[0])
        server.wait_idle()
        n = len(server.sessions)
        got = pexim_side(case, server.port, dirs[1])
        server.wait_idle()
        assert got[0] == expected[0]
        assert got[1] == expected[1]
        assert _norm([c for s in server.sessions[n:] for c in s.commands]) == \
            _norm([c for s in server.sessions[:n] for c in s.commands])
        assert [re.sub(r" \(\d.*?\)", "", c) for c in got[2]] == \
            [re.sub(r" \(\d.*?\)", "", c) for c in expected[2]]
    finally:
        server.close()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def bhc_replies(cmd: list[str], case: dict, port: int, d: Path, env: dict):
    """The RCPT replies and rejection log texts of an -bhc session run by ``cmd``."""
    (d / "conf").write_text(CONF.format(d=d, port=port, verify=case["verify"]))
    os.chmod(d / "conf", 0o644)
    session = "HELO me\r\nMAIL FROM:<%s>\r\n%sQUIT\r\n" % (
        SENDER, "".join(f"RCPT TO:<{r}>\r\n" for r in case["recipients"]))
    r = subprocess.run(cmd + ["-C", str(d / "conf"), "-bhc", "10.0.0.1"],
                       input=session.encode(), capture_output=True, env=env, timeout=120)
    logs = [ln.split(">: ", 1)[1] for ln in r.stderr.decode().splitlines()
            if ln.startswith("LOG: ") and " RCPT <" in ln]
    return replies(r.stdout.decode())[3:-1], logs


@needs_exim
@needs_root
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_pexim_bhc_callout_acl_matches_exim(path):
    """The whole path: `verify = recipient/callout=...` in pexim's RCPT ACL under -bhc."""
    case = load_case(path)
    server = ScriptedServer(case["script"])
    dirs = [Path(tempfile.mkdtemp(prefix="pexim-callout-", dir="/tmp")) for _ in range(2)]
    try:
        for d in dirs:
            for sub in ("", "spool", "log"):
                (d / sub).mkdir(exist_ok=True)
                os.chmod(d / sub, 0o777)
        expected = bhc_replies([EXIM], case, server.port, dirs[0], ENV)
        server.wait_idle()
        got = bhc_replies([sys.executable, "-m", "pexim"], case, server.port, dirs[1],
                          dict(ENV, PYTHONPATH=str(REPO / "src")))
        assert got == expected
    finally:
        server.close()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
