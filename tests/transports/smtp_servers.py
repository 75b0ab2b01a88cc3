"""A scripted SMTP/LMTP server on a free 127.0.0.1 port, for client tests.

The script maps commands to replies, so pipelined clients work unchanged:

    greeting: 220 scripted ready
    EHLO: 250-scripted\\n250-PIPELINING\\n250 SIZE      (\\n separates lines)
    RCPT <bad@x.example>: 550 5.1.1 No such user         (a specific argument first)
    RCPT: 250 Accepted
    DATA: 354 go ahead
    .: 250 OK id=1                                      (the end of the data)
    MAIL: close                                         (drop the connection)
    MAIL: silent                                        (never answer: a timeout)
    EHLO: 250-x\\n...                                   (a reply that never ends)

Each session's received commands and message data are kept in ``sessions``.
It runs in a thread, so real exim (a subprocess) and asyncio code can both
talk to it.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

DEFAULT = {
    "greeting": "220 scripted.example ESMTP ready",
    "EHLO": "250-scripted.example Hello\n250-SIZE 52428800\n250-8BITMIME\n250-PIPELINING\n"
            "250 HELP",
    "LHLO": "250-scripted.example Hello\n250-PIPELINING\n250 8BITMIME",
    "HELO": "250 scripted.example Hello",
    "MAIL": "250 OK",
    "RCPT": "250 Accepted",
    "DATA": "354 Enter message, ending with \".\" on a line by itself",
    ".": "250 OK id=scripted-1",
    "BDAT": "250 chunk received",
    "RSET": "250 Reset OK",
    "NOOP": "250 OK",
    "QUIT": "221 scripted.example closing connection",
}


def parse_script(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition(": ")
        out[key.strip()] = value.replace("\\n", "\n")
    return out


class Session:
    def __init__(self) -> None:
        self.commands: list[str] = []
        self.messages: list[bytes] = []


class ScriptedServer:
    def __init__(self, script: dict[str, str] | str | None = None, lmtp: bool = False,
                 unix_path: str | None = None, address: str = "127.0.0.1"):
        if isinstance(script, str):
            script = parse_script(script)
        self.script = dict(DEFAULT, **(script or {}))
        self.lmtp = lmtp
        self.sessions: list[Session] = []
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(unix_path)
        else:
            self.sock = socket.socket()
            self.sock.bind((address, 0))
        self.port = self.sock.getsockname()[1] if not unix_path else 0
        self.sock.listen(5)
        self._stop = False
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def commands(self) -> list[str]:
        return [c for s in self.sessions for c in s.commands]

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._session, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def wait_idle(self, timeout: float = 10) -> None:
        """Wait until every session so far has ended (the client closed)."""
        for t in list(self._threads):
            t.join(timeout)

    def _reply(self, conn, key: str, arg: str = "") -> bool:
        text = self.script.get(f"{key} {arg}".strip()) if arg else None
        if text is None:
            text = self.script.get(key, "500 unrecognized command")
        if text == "close":
            conn.close()
            return False
        if text == "silent":
            return True
        lines = text.split("\n")
        if lines[-1] == "...":      # a reply that never ends (for timeouts)
            out = "".join(f"{ln[:3]}-{ln[4:]}\r\n" for ln in lines[:-1])
        else:
            out = "".join(f"{ln[:3]}-{ln[4:]}\r\n" for ln in lines[:-1]) + lines[-1] + "\r\n"
        if text.startswith("raw "):
            out = text[4:].replace("\\r", "\r") + "\r\n"
        conn.sendall(out.encode())
        return True

    def _final(self, conn, rcpts: int) -> bool:
        """The reply to the end of the data: LMTP gives one per accepted recipient."""
        if not self.lmtp:
            return self._reply(conn, ".")
        return all(self._reply(conn, ".", str(i + 1)) for i in range(rcpts))

    def _session(self, conn: socket.socket) -> None:
        sess = Session()
        self.sessions.append(sess)
        f = conn.makefile("rb")
        try:
            if not self._reply(conn, "greeting"):
                return
            rcpts = 0
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
                sess.commands.append(cmd)
                verb, _, arg = cmd.partition(" ")
                verb = verb.upper()
                if verb in ("MAIL", "RCPT"):
                    verb, _, arg = cmd.partition(":")
                    verb = verb.split()[0].upper()
                    arg = arg.split(" ")[0]
                if verb == "MAIL":
                    rcpts = 0
                if verb == "RCPT":
                    key = f"RCPT {arg}"
                    if not self.script.get(key, self.script["RCPT"]).startswith(("4", "5")):
                        rcpts += 1
                if verb == "BDAT":
                    size = int(arg.split()[0])
                    sess.messages.append(f.read(size))
                    if "LAST" not in arg.upper():
                        if not self._reply(conn, "BDAT"):
                            return
                    elif not self._final(conn, rcpts):
                        return
                    continue
                if not self._reply(conn, verb, arg):
                    return
                if verb == "DATA" and self.script["DATA"].startswith("3"):
                    data = bytearray()
                    while True:
                        ln = f.readline()
                        if not ln or ln == b".\r\n":
                            break
                        data += ln
                    sess.messages.append(bytes(data))
                    sess.commands.append(".")
                    if not self._final(conn, rcpts):
                        return
                if verb == "QUIT":
                    return
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass


def pexim_receive(conf: Path, sender: str | None, recipients: list[str], message: bytes,
                  extra_env: dict | None = None):
    """Receive a message with pexim (-odq): (config, DeliveryMessage).

    With ``sender`` None, ``recipients`` are the whole argument list (e.g. -bs)."""
    from pexim.config.loader import load
    from pexim.delivery.message import DeliveryMessage
    from pexim.spool.paths import SpoolPaths
    from pexim.spool.reader import parse_header_file

    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C",
           "HOME": "/root", "TZ": "UTC", "PYTHONPATH": str(REPO / "src")}
    args = recipients if sender is None else ["-f", sender, *recipients]
    r = subprocess.run([sys.executable, "-m", "pexim", "-C", str(conf), "-odq", *args],
                       input=message, capture_output=True,
                       env=dict(env, **(extra_env or {})), timeout=60)
    assert r.returncode == 0, r.stderr
    config = load(str(conf))
    paths = SpoolPaths.from_config(config)
    mid = max(paths.message_ids())      # ids sort by time: the one just received
    spool = parse_header_file(Path(paths.input_file(mid, "-H")).read_bytes(), mid)
    return config, DeliveryMessage(config, spool, paths)


def pexim_transport(config, msg, hosts, transport: str | None = None, force: bool = False,
                    module=None, batch: int = 0):
    """Run a transport on every recipient of ``msg``, as the orchestrator would after
    a router gave them ``hosts`` (router "r"); then apply the retry items to the
    hints database as the orchestrator does.  Returns the addresses."""
    from pexim.delivery.address import AddressItem, Host
    from pexim.delivery.context import TransportContext
    from pexim.delivery.deliver import Deliverer
    from pexim.hints.store import open_store
    from pexim.log import Logger
    from pexim.transports import smtp

    logger = Logger.from_config(config)
    hints = open_store(config)
    tp = next(t for t in config.transports if transport in (None, t.name))
    addrs = []
    for rcpt in msg.spool.recipients:
        a = AddressItem(rcpt.address, router="r", transport=tp.name,
                        dsn_flags=rcpt.dsn_flags, orcpt=rcpt.orcpt)
        a.hosts = [Host(h.name, h.address, h.port, h.mx) for h in hosts]
        addrs.append(a)
    tctx = TransportContext(config, logger, hints)
    tctx.extra["force"] = force
    fn = (module or smtp).deliver
    for i in range(0, len(addrs), batch or len(addrs)):
        group = addrs[i:i + (batch or len(addrs))]
        if asyncio.iscoroutinefunction(fn):
            asyncio.run(fn(tp, msg, group, tctx))
        else:
            fn(tp, msg, group, tctx)
    Deliverer(config, logger, hints=hints)._update_retry(msg, addrs, tctx.now)
    return addrs


def pexim_deliver(conf: Path, sender: str, recipients: list[str], message: bytes, hosts,
                  transport: str | None = None):
    """Receive with pexim, then deliver with the smtp transport: (id, addresses, message)."""
    config, msg = pexim_receive(conf, sender, recipients, message)
    return msg.id, pexim_transport(config, msg, hosts, transport), msg
