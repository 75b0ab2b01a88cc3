"""The lmtp transport against real exim's, on the same scripted LMTP server.

Each case in tests/data/lmtp_client/ is a server script (smtp_servers.py)
served on a Unix socket, the recipients and extra transport options.  Real
exim delivers through its lmtp transport (-odi); pexim's lmtp transport
delivers the same message to the same socket.  Compared: each address's
outcome (=>/**/==, errno, C=, message) and the commands the server received.
"""

from __future__ import annotations

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
from smtp_servers import ScriptedServer, pexim_receive, pexim_transport  # noqa: E402
from test_smtp_exim_oracle import ENV, MESSAGE, SENDER, load_case, log_lines  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CASES = sorted((REPO / "tests" / "data" / "lmtp_client").glob("*.case"))

CONF = """\
keep_environment =
primary_hostname = client.example
qualify_domain = client.example
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
begin routers
r:
  driver = accept
  domains = ! client.example
  transport = t
begin transports
t:
  driver = lmtp
  socket = {d}/lmtp.sock
  user = Debian-exim
{transport}
begin retry
* * F,1h,10m
"""

_DELIVERY = re.compile(
    r"^(?P<flag>=>|->|\*\*|==) (?P<addr>\S+)(?: <(?P<parent>[^>]+)>)? R=r T=t"
    r"(?: defer \((?P<errno>-?\d+)\))?(?: C=\"(?P<conf>.*)\")?(?:: (?P<msg>.*))?$")


def outcome(line: str) -> dict:
    m = _DELIVERY.match(line)
    assert m, line
    d = m.groupdict()
    return {"flag": {"->": "=>"}.get(d["flag"], d["flag"]), "addr": d["parent"] or d["addr"],
            "errno": d["errno"], "conf": d["conf"], "msg": d["msg"]}


def pexim_outcome(a) -> dict:
    return {"flag": {"ok": "=>", "fail": "**", "defer": "=="}[a.status], "addr": a.address,
            "errno": str(a.basic_errno) if a.status == "defer" else None,
            "conf": a.extra.get("confirmation") if a.status == "ok" else None,
            "msg": a.message}


def make_dir(transport: list[str]) -> Path:
    d = Path(tempfile.mkdtemp(prefix="pexim-lmtpc-", dir="/tmp"))
    for sub in ("", "spool", "log"):
        (d / sub).mkdir(exist_ok=True)
        os.chmod(d / sub, 0o777)
    (d / "conf").write_text(CONF.format(d=d, transport="\n".join(transport)))
    os.chmod(d / "conf", 0o644)
    return d


def batch_max(case: dict) -> int:
    for opt in case["transport"]:
        if opt.strip().startswith("batch_max"):
            return int(opt.split("=")[1])
    return 1


@needs_exim
@needs_root
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_lmtp_transport_matches_exim(path):
    case = load_case(path)
    ed, pd = make_dir(case["transport"]), make_dir(case["transport"])
    servers = []
    try:
        es = ScriptedServer(case["script"], lmtp=True, unix_path=str(ed / "lmtp.sock"))
        servers.append(es)
        os.chmod(ed / "lmtp.sock", 0o777)
        subprocess.run([EXIM, "-C", str(ed / "conf"), "-odi", "-f", SENDER,
                        *case["recipients"]], input=MESSAGE, capture_output=True, env=ENV,
                       timeout=120)
        log = (ed / "log" / "mainlog").read_text(errors="replace")
        mid = re.search(r" (\S+) <= ", log).group(1)
        expected = sorted((outcome(x) for x in log_lines(ed, mid)), key=lambda o: o["addr"])
        es.wait_idle()

        ps = ScriptedServer(case["script"], lmtp=True, unix_path=str(pd / "lmtp.sock"))
        servers.append(ps)
        from pexim.transports import lmtp

        config, msg = pexim_receive(pd / "conf", SENDER, case["recipients"], MESSAGE)
        addrs = pexim_transport(config, msg, [], module=lmtp, batch=batch_max(case))
        ps.wait_idle()
        got = sorted((pexim_outcome(a) for a in addrs), key=lambda o: o["addr"])
        assert got == expected
        assert sorted(s.commands for s in ps.sessions) == sorted(s.commands for s in es.sessions)
    finally:
        for s in servers:
            s.close()
        shutil.rmtree(ed, ignore_errors=True)
        shutil.rmtree(pd, ignore_errors=True)
