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
from smtp_servers import ScriptedServer, parse_script, pexim_receive, pexim_transport  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CASES = sorted((REPO / "tests" / "data" / "smtp_client").glob("*.case"))
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C",
       "HOME": "/root", "TZ": "UTC"}
SENDER = "s@client.example"
MESSAGE = b"Subject: oracle test\nFrom: S <s@client.example>\n\nline 1\n.dot line\nlast\n"

CONF = """\
keep_environment =
dsn_advertise_hosts = *
acl_smtp_rcpt = accept
primary_hostname = client.example
qualify_domain = client.example
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
begin routers
r:
  driver = manualroute
  domains = ! client.example
  route_list = * "{route}" byname
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
    case = {"recipients": [], "transport": [], "refuse": False, "script": parse_script(script),
            "hosts": ["127.0.0.1"], "server": "127.0.0.1", "steps": [], "mail": None,
            "rcpt_params": {}}
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
        elif key == "hosts":
            case["hosts"] = value.split()
        elif key == "server":
            case["server"] = value
        elif key == "lmtp":
            case["lmtp"] = True
            case["transport"].append("  protocol = lmtp")
        elif key == "mail":
            case["mail"] = value
        elif key == "rcpt":
            addr, _, params = value.partition(" ")
            case["rcpt_params"][addr] = params
        elif key == "then":
            case["steps"].append(value)
    return case


def make_dir(port: int, transport: list[str], hosts: list[str] = ("127.0.0.1",)) -> Path:
    d = Path(tempfile.mkdtemp(prefix="pexim-smtpc-", dir="/tmp"))
    for sub in ("", "spool", "log"):
        (d / sub).mkdir(exist_ok=True)
        os.chmod(d / sub, 0o777)
    conf = d / "conf"
    conf.write_text(CONF.format(d=d, port=port, transport="\n".join(transport),
                                route=":".join(hosts)))
    os.chmod(conf, 0o644)
    return d


_LINE = re.compile(r"^\S+ \S+ (\S+) (.*)$")


def log_lines(d: Path, mid: str, offset: int = 0) -> list[str]:
    text = (d / "log" / "mainlog").read_text(errors="replace")[offset:]
    out = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m and m.group(1) == mid and not m.group(2).startswith(("<=", "Completed")):
            out.append(m.group(2))
    return out


def log_size(d: Path) -> int:
    p = d / "log" / "mainlog"
    return len(p.read_text(errors="replace")) if p.exists() else 0


_DELIVERY = re.compile(
    r"^(?P<flag>=>|->|\*\*|==) (?P<addr>\S+) R=r T=t"
    r"(?: defer \((?P<errno>-?\d+)\)(?:: (?P<strerror>[^:]+?))?)?"
    r"(?: H=(?P<host>\S+ \[[^\]]+\]))?(?P<k> K)?(?: C=\"(?P<conf>.*)\")?(?:: (?P<msg>.*))?$")


def outcome(line: str) -> dict:
    m = _DELIVERY.match(line)
    assert m, line
    d = m.groupdict()
    d["flag"] = {"->": "=>"}.get(d["flag"], d["flag"])
    strerror = d.pop("strerror")
    if strerror and int(d["errno"]) <= 0:      # not an errno's text: the message
        d["msg"] = strerror + (": " + d["msg"] if d["msg"] else "")
    return d


def submission(case: dict) -> tuple[list[str], bytes]:
    """How the message is submitted: -f/recipients on the command line, or an -bs
    session when the case gives DSN parameters for MAIL/RCPT."""
    if case["mail"] is None and not case["rcpt_params"]:
        return ["-f", SENDER, *case["recipients"]], MESSAGE
    lines = ["EHLO client.example", f"MAIL FROM:<{SENDER}> {case['mail'] or ''}".rstrip()]
    lines += [f"RCPT TO:<{r}> {case['rcpt_params'].get(r, '')}".rstrip()
              for r in case["recipients"]]
    body = "".join(("." + ln if ln.startswith(".") else ln) + "\r\n"
                   for ln in MESSAGE.decode().splitlines())
    text = "\r\n".join(lines + ["DATA"]) + "\r\n" + body + ".\r\nQUIT\r\n"
    return ["-bs"], text.encode()


def exim_run(case: dict, port: int):
    """Real exim: -odi, then each `then:` step (-q, -qf); log lines per run."""
    d = make_dir(port, case["transport"], case["hosts"])
    args, data = submission(case)
    subprocess.run([EXIM, "-C", str(d / "conf"), "-odi", *args], input=data,
                   capture_output=True, env=ENV, timeout=120)
    log = (d / "log" / "mainlog").read_text(errors="replace")
    mid = re.search(r" (\S+) <= ", log).group(1)
    runs = [log_lines(d, mid)]
    for step in case["steps"]:
        size = log_size(d)
        subprocess.run([EXIM, "-C", str(d / "conf"), *step.split()], capture_output=True,
                       env=ENV, timeout=120)
        runs.append(log_lines(d, mid, size))
    dump = subprocess.run(["/usr/sbin/exim_dumpdb", str(d / "spool"), "retry"],
                          capture_output=True, env=ENV).stdout.decode()
    return d, mid, [_split(r) for r in runs], dump


def exim_receive(conf: Path, args: list[str], data: bytes):
    """A message queued by real exim (-odq), read with pexim's spool reader."""
    from pexim.config.loader import load
    from pexim.delivery.message import DeliveryMessage
    from pexim.spool.paths import SpoolPaths
    from pexim.spool.reader import parse_header_file

    subprocess.run([EXIM, "-C", str(conf), "-odq", *args], input=data, capture_output=True,
                   env=ENV, timeout=60)
    config = load(str(conf))
    paths = SpoolPaths.from_config(config)
    mid = max(paths.message_ids())
    spool = parse_header_file(Path(paths.input_file(mid, "-H")).read_bytes(), mid)
    return config, DeliveryMessage(config, spool, paths)


def pexim_run(case: dict, port: int):
    """pexim: receive, run the transport, once more per step (-qf forces)."""
    from pexim.delivery.address import Host

    d = make_dir(port, case["transport"], case["hosts"])
    args, data = submission(case)
    if case["rcpt_params"]:
        # pexim's -bs does not keep NOTIFY/ORCPT in -H yet: let exim spool it
        # (same -H format) and deliver that with pexim.
        config, msg = exim_receive(d / "conf", args, data)
    else:
        config, msg = pexim_receive(d / "conf", None, args, data)
    hosts = [Host(h, h) for h in case["hosts"]]
    runs = []
    for step in [""] + case["steps"]:
        size = log_size(d)
        addrs = pexim_transport(config, msg, hosts, force="f" in step)
        done = sorted((pexim_outcome(a) for a in addrs), key=lambda o: o["addr"])
        runs.append((done, log_lines(d, msg.id, size)))
    dump = subprocess.run([sys.executable, "-m", "pexim.hints.dumpdb", str(d / "spool"),
                           "retry"], capture_output=True,
                          env=dict(ENV, PYTHONPATH=str(REPO / "src"))).stdout.decode()
    return d, msg.id, runs, dump


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


_DATE = re.compile(rb"\w{3}, \d\d? \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}")


def _norm_data(data: bytes, mid: str) -> bytes:
    """The message as the server got it, without the message id and dates."""
    return _DATE.sub(b"DATE", data.replace(mid.encode(), b"MSGID"))


def _split(lines: list[str]):
    deliveries = sorted((outcome(x) for x in lines if x[:2] in ("=>", "->", "**", "==")),
                        key=lambda o: o["addr"])
    hostlines = [x for x in lines if x[:2] not in ("=>", "->", "**", "==")]
    return deliveries, hostlines


def serve(case: dict) -> ScriptedServer:
    server = ScriptedServer(case["script"], address=case["server"], lmtp=case.get("lmtp", False))
    return server


@needs_exim
@needs_root
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_smtp_transport_matches_exim(path):
    case = load_case(path)
    server = serve(case)
    port = 1 if case["refuse"] else server.port
    dirs = []
    try:
        ed, emid, eruns, edump = exim_run(case, port)
        dirs.append(ed)
        server.wait_idle()
        exim_sessions = len(server.sessions)
        pd, pmid, pruns, pdump = pexim_run(case, port)
        dirs.append(pd)
        server.wait_idle()
        assert pruns == eruns
        e_cmds = sorted(s.commands for s in server.sessions[:exim_sessions])
        p_cmds = sorted(s.commands for s in server.sessions[exim_sessions:])
        assert p_cmds == e_cmds
        assert _norm_dump(pdump, pmid) == _norm_dump(edump, emid)
        e_data = sorted(_norm_data(m, emid) for s in server.sessions[:exim_sessions]
                        for m in s.messages)
        p_data = sorted(_norm_data(m, pmid) for s in server.sessions[exim_sessions:]
                        for m in s.messages)
        assert p_data == e_data
    finally:
        server.close()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
