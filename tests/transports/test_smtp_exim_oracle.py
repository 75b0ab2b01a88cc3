"""The smtp transport against real exim as the client, on the same scripted server.

Each case in tests/data/smtp_client/ is a server script (see smtp_servers.py),
the recipients and extra transport options.  Real exim delivers a message
through the scripted server (manualroute to 127.0.0.1, -odi); pexim receives
the same message (-odq) and its smtp transport delivers it to the same
server.  Compared, per case:

- each address's outcome as exim logs it: =>/**/== , errno, H=, C=, K, the message;
- the host-level lines ("H=... Connection refused", "H=...: SMTP error ...");
- the commands the server received (EHLO, MAIL with SIZE=, RCPT, DATA/BDAT);
- the retry database (exim_dumpdb against pexim's dumpdb), ids normalised.
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
from smtp_servers import ScriptedServer, parse_script, pexim_deliver  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CASES = sorted((REPO / "tests" / "data" / "smtp_client").glob("*.case"))
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C",
       "HOME": "/root", "TZ": "UTC"}
SENDER = "s@client.example"
MESSAGE = b"Subject: oracle test\nFrom: S <s@client.example>\n\nline 1\n.dot line\nlast\n"

CONF = """\
keep_environment =
primary_hostname = client.example
qualify_domain = client.example
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
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
{transport}
begin retry
* * F,1h,10m
"""


def load_case(path: Path) -> dict:
    head, _, script = path.read_text().partition("--- script\n")
    case = {"recipients": [], "transport": [], "refuse": False, "script": parse_script(script)}
    for line in head.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key, _, value = line.partition(": ")
        if key == "recipients":
            case["recipients"] = value.split()
        elif key == "transport":
            case["transport"].append("  " + value)
        elif key == "refuse":
            case["refuse"] = True
    return case


def make_dir(port: int, transport: list[str]) -> Path:
    d = Path(tempfile.mkdtemp(prefix="pexim-smtpc-", dir="/tmp"))
    for sub in ("", "spool", "log"):
        (d / sub).mkdir(exist_ok=True)
        os.chmod(d / sub, 0o777)
    conf = d / "conf"
    conf.write_text(CONF.format(d=d, port=port, transport="\n".join(transport)))
    os.chmod(conf, 0o644)
    return d


_LINE = re.compile(r"^\S+ \S+ (\S+) (.*)$")


def log_lines(d: Path, mid: str) -> list[str]:
    text = (d / "log" / "mainlog").read_text(errors="replace")
    out = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m and m.group(1) == mid and not m.group(2).startswith(("<=", "Completed")):
            out.append(m.group(2))
    return out


_DELIVERY = re.compile(
    r"^(?P<flag>=>|->|\*\*|==) (?P<addr>\S+) R=r T=t"
    r"(?: defer \((?P<errno>-?\d+)\)(?:: (?P<strerror>[^:]+?))?)?"
    r"(?: H=(?P<host>\S+ \[[^\]]+\]))?(?P<k> K)?(?: C=\"(?P<conf>.*)\")?(?:: (?P<msg>.*))?$")


def outcome(line: str) -> dict:
    m = _DELIVERY.match(line)
    assert m, line
    d = m.groupdict()
    d["flag"] = {"->": "=>"}.get(d["flag"], d["flag"])
    d.pop("strerror")
    return d


def exim_run(case: dict, port: int):
    d = make_dir(port, case["transport"])
    r = subprocess.run([EXIM, "-C", str(d / "conf"), "-odi", "-f", SENDER, *case["recipients"]],
                       input=MESSAGE, capture_output=True, env=ENV, timeout=120)
    log = (d / "log" / "mainlog").read_text(errors="replace")
    mid = re.search(r" (\S+) <= ", log).group(1)
    lines = log_lines(d, mid)
    dump = subprocess.run(["/usr/sbin/exim_dumpdb", str(d / "spool"), "retry"],
                          capture_output=True, env=ENV).stdout.decode()
    return d, mid, lines, dump, r


def pexim_run(case: dict, port: int):
    from pexim.delivery.address import Host

    d = make_dir(port, case["transport"])
    mid, addrs, _msg = pexim_deliver(d / "conf", SENDER, case["recipients"], MESSAGE,
                                     [Host("127.0.0.1", "127.0.0.1")])
    dump = subprocess.run([sys.executable, "-m", "pexim.hints.dumpdb", str(d / "spool"),
                           "retry"], capture_output=True,
                          env=dict(ENV, PYTHONPATH=str(REPO / "src"))).stdout.decode()
    return d, mid, log_lines(d, mid), dump, addrs


def _norm_dump(text: str, mid: str) -> list[str]:
    """Retry records without times; the message id replaced."""
    out = []
    for ln in text.replace(mid, "MSGID").splitlines():
        if ln.startswith(("  T:", "  R:")):
            out.append(ln.strip())
    return sorted(out)


def pexim_outcome(a) -> dict:
    """The same fields, from the AddressItem (pexim's own log formatter is tested
    elsewhere)."""
    h = a.host_used
    return {"flag": {"ok": "=>", "fail": "**", "defer": "=="}[a.status], "addr": a.address,
            "errno": str(a.basic_errno) if a.status == "defer" else None,
            "host": f"{h.name} [{h.address}]" if h else None,
            "k": " K" if a.extra.get("chunking") and a.status == "ok" else None,
            "conf": a.extra.get("confirmation") if a.status == "ok" else None,
            "msg": a.message}


def _split(lines: list[str]):
    deliveries = sorted((outcome(x) for x in lines if x[:2] in ("=>", "->", "**", "==")),
                        key=lambda o: o["addr"])
    hostlines = [x for x in lines if x[:2] not in ("=>", "->", "**", "==")]
    return deliveries, hostlines


@needs_exim
@needs_root
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_smtp_transport_matches_exim(path):
    case = load_case(path)
    server = ScriptedServer(case["script"])
    port = 1 if case["refuse"] else server.port
    dirs = []
    try:
        ed, emid, elines, edump, erun = exim_run(case, port)
        dirs.append(ed)
        server.wait_idle()
        exim_sessions = len(server.sessions)
        pd, pmid, plines, pdump, addrs = pexim_run(case, port)
        dirs.append(pd)
        server.wait_idle()
        e_del, e_host = _split(elines)
        p_del = sorted((pexim_outcome(a) for a in addrs), key=lambda o: o["addr"])
        p_host = plines
        assert p_del == e_del
        assert p_host == e_host
        e_cmds = sorted(s.commands for s in server.sessions[:exim_sessions])
        p_cmds = sorted(s.commands for s in server.sessions[exim_sessions:])
        assert p_cmds == e_cmds
        assert _norm_dump(pdump, pmid) == _norm_dump(edump, emid)
    finally:
        server.close()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
