"""The daemon's sockets and one receiving worker's asyncio loop.

The master opens the listening sockets once (before any fork) and every
worker inherits them and accepts on them: the kernel hands each connection
to one waiting worker.  Inherited sockets rather than SO_REUSEPORT because
they need no privilege after the workers drop root and keep working across a
worker restart without rebinding.  Connection counts for smtp_accept_max and
smtp_accept_max_per_host are shared between workers in shared memory
(`Counters`); per-host counts are kept in hashed slots, so two hosts sharing a
slot are counted together (stricter, never looser).

Connections from hosts_proxy hosts start with a PROXY header (smtp/proxy.py),
read here within proxy_protocol_timeout before the banner, as Exim does.
Counting, the connection log line and the limits above use the proxy's
address; everything after the header uses the client's.  When the header is
missing or bad, every command but QUIT gets Exim's 503 (PROXY_FAIL_IGNORE_CMD).
"""

from __future__ import annotations

import asyncio
import ipaddress
import multiprocessing
import socket
import time
import zlib

from pexim import lists
from pexim.log_lines import Peer, host_and_ident, no_mail, smtp_connection, timediff
from pexim.message.hostinfo import sender_fullhost
from pexim.smtp.proxy import ProxyParser
from pexim.smtp.server_protocol import CMD_BUFFER_SIZE

_SLOTS = 4096
PROXY_FAILED_REPLY = b"503 Command refused, required Proxy negotiation failed\r\n"


def _port(text: str) -> int:
    text = text.strip()
    if text.isdigit():
        return int(text)
    return socket.getservbyname(text, "tcp")


def listen_addresses(local_interfaces: str, ports: str, ox: str | None = None):
    """[(address, port)] from local_interfaces/daemon_smtp_ports, as -oX overrides them."""
    if ox:
        items = list(lists.iter_list(ox))
        p = [i for i in items if "." not in i and ":" not in i]
        a = [i for i in items if "." in i or ":" in i]
        if p:
            ports = ":".join(p)
        if a:
            local_interfaces = "<; " + " ; ".join(a)
    default_ports = [_port(p) for p in lists.iter_list(ports or "smtp")]
    out = []
    for item in lists.iter_list(local_interfaces):
        item = item.strip()
        if item.startswith("["):
            addr, _, rest = item[1:].partition("]")
            out.append((addr, _port(rest.lstrip(":"))))
            continue
        try:
            ipaddress.ip_address(item)
            out.extend((item, p) for p in default_ports)
        except ValueError:
            addr, _, port = item.rpartition(".")
            out.append((addr, _port(port)))
    return out


def open_sockets(addresses, backlog: int) -> list[socket.socket]:
    """Bound, listening, inheritable sockets ("::0"/"0.0.0.0" mean all of a family)."""
    socks = []
    wild6 = any(a in ("::0", "::") for a, _ in addresses)
    for addr, port in addresses:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if wild6 else 0)
        try:
            s.bind((addr, port))
        except OSError as err:
            s.close()
            for o in socks:
                o.close()
            raise OSError(err.errno, "socket bind() to port %d for address %s failed: %s"
                          % (port, addr, err.strerror)) from err
        s.listen(backlog)
        s.set_inheritable(True)
        s.setblocking(False)
        socks.append(s)
    return socks


class Counters:
    """Connection counts shared by all workers (fork-inherited shared memory)."""

    def __init__(self):
        self.total = multiprocessing.Value("i", 0)
        self.per_host = multiprocessing.Array("i", _SLOTS, lock=False)

    def _slot(self, ip: str) -> int:
        return zlib.crc32(ip.encode()) % _SLOTS

    def take(self, ip: str) -> tuple[int, int]:
        with self.total.get_lock():
            self.total.value += 1
            self.per_host[self._slot(ip)] += 1
            return self.total.value, self.per_host[self._slot(ip)]

    def give(self, ip: str) -> None:
        with self.total.get_lock():
            self.total.value -= 1
            self.per_host[self._slot(ip)] -= 1


class Worker:
    """Accepts connections on the inherited sockets and runs LiveSessions."""

    def __init__(self, config, receiver, logger, sockets, counters: Counters,
                 originator, session_factory):
        self.config = config
        self.receiver = receiver
        self.logger = logger
        self.sockets = sockets
        self.counters = counters
        self.originator = originator
        self.make_session = session_factory
        get = config.main.get
        self.accept_max = int(get("smtp_accept_max") or 0)
        self.max_per_host = str(get("smtp_accept_max_per_host") or "")
        self.reserve = int(get("smtp_accept_reserve") or 0)
        self.timeout = float(get("smtp_receive_timeout") or 0)
        proxy_timeout = get("proxy_protocol_timeout")
        self.proxy_timeout = float(3 if proxy_timeout is None else proxy_timeout)
        self.servers: list[asyncio.AbstractServer] = []
        self.tasks: set[asyncio.Task] = set()
        self.open: dict[asyncio.Task, tuple] = {}
        self.stopping = False

    def log(self, text: str, flags=("main",)) -> None:
        from pexim.log import Flags
        f = Flags(0)
        for name in flags:
            f |= {"main": Flags.MAIN, "reject": Flags.REJECT, "panic": Flags.PANIC}[name]
        self.logger.write(f, text)

    async def start(self) -> None:
        for s in self.sockets:
            self.servers.append(await asyncio.start_server(self._client, sock=s))

    async def stop(self, grace: float) -> None:
        """Stop accepting; let connections finish for `grace` seconds, then close them."""
        self.stopping = True
        for srv in self.servers:
            srv.close()
        for writer, session in list(self.open.values()):
            if not _in_message(session.server):       # idle between commands: tell it now
                self._shutdown_reply(writer, session)
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=grace)
        for t in list(self.tasks):
            t.cancel()
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=2)

    async def _client(self, reader, writer) -> None:
        task = asyncio.current_task()
        self.tasks.add(task)
        peer = writer.get_extra_info("peername")
        local = writer.get_extra_info("sockname")
        ip = _plain_ip(peer[0])
        total, here = self.counters.take(ip)
        try:
            await self._serve(reader, writer, ip, peer[1], (_plain_ip(local[0]), local[1]),
                              total, here)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception as err:  # noqa: BLE001 - one connection's failure is not the worker's
            # Nothing was acknowledged for the message in hand (the 250 comes only
            # after the spool commit), so the client will retry it.
            self.log("SMTP connection from [%s] failed: %s" % (ip, err), ("main", "panic"))
            try:
                writer.write(b"451 Temporary local problem - please try later\r\n")
            except Exception:  # noqa: BLE001
                pass
        finally:
            self.counters.give(ip)
            self.tasks.discard(task)
            writer.close()

    def _refuse(self, writer, ip, port, reply: str, log: str) -> None:
        writer.write(reply.encode())
        self.log("Connection from %s refused: %s" % (
            sender_fullhost(ip, port, log_port="incoming_port" in self.logger.selectors), log))

    async def _serve(self, reader, writer, ip, port, iface, total, here) -> None:
        sel = self.logger.selectors
        peer = Peer(sender_fullhost(ip, port, log_port="incoming_port" in sel), iface[0],
                    iface[1])
        if self.accept_max and total > self.accept_max:
            return self._refuse(writer, ip, port, "421 Too many concurrent SMTP connections; "
                                "please try again later.\r\n", "too many connections")
        session = self.make_session(ip, port, iface)
        limit = _per_host_limit(session, self.max_per_host)
        if limit and here > limit:
            return self._refuse(writer, ip, port, "421 Too many concurrent SMTP connections "
                                "from this IP address; please try again later.\r\n",
                                "too many connections from that IP address")
        if "smtp_connection" in sel:
            self.log(smtp_connection(peer, sel, total))
        if self.accept_max and total > self.accept_max - self.reserve and \
                not session.check_host("smtp_reserve_hosts"):
            self.log("temporarily refused connection from %s: not in reserve list: "
                     "connected=%d max=%d reserve=%d" % (session.server.host_and_ident(False),
                                                         total - 1, self.accept_max,
                                                         self.reserve))
            writer.write(("421 %s: Too many concurrent SMTP connections; please try again "
                          "later\r\n" % session.active_hostname).encode())
            return
        early = b""
        if session.host_address is not None and session.check_host("hosts_proxy"):
            early = await self._read_proxy(reader, session)
        self.open[asyncio.current_task()] = (writer, session)
        try:
            await self._dialogue(reader, writer, session, early)
        finally:
            self.open.pop(asyncio.current_task(), None)

    async def _read_proxy(self, reader, session) -> bytes:
        """The PROXY header, within proxy_protocol_timeout; the bytes after it."""
        parser = ProxyParser()

        async def read():
            while parser.result is None:
                data = await reader.read(4096)
                if not data:
                    return parser.end("eof")
                parser.feed(data)
            return parser.result
        try:
            session.proxy = await asyncio.wait_for(read(), self.proxy_timeout or None)
        except asyncio.TimeoutError:
            session.proxy = parser.end("timeout")
        host = session.proxied_host_to_look_up()
        if host is not None:
            await asyncio.to_thread(session.lookup_host_name, host)
        return parser.rest

    def _shutdown_reply(self, writer, session) -> None:
        if not writer.is_closing():
            writer.write(("421 %s: Service not available - closing connection\r\n"
                          % session.active_hostname).encode())
            writer.close()

    def _peer(self, session) -> Peer:
        """Who the log lines name: "(helo) [ip]" (":port" with +incoming_port), I=..."""
        sel = self.logger.selectors
        iface = session.interface or ("", 0)
        return Peer(sender_fullhost(session.host_address, session.host_port,
                                    session.server.helo_name,
                                    log_port="incoming_port" in sel), iface[0], iface[1])

    def _lost(self, session, started: float) -> None:
        """EOF from the client: Exim's "lost" lines (smtp_in.c, receive.c)."""
        sel = self.logger.selectors
        server = session.server
        who = host_and_ident(self._peer(session), sel, False)
        if _in_message(server):
            if sel & {"lost_incoming_connection", "smtp_connection"}:
                self.log("SMTP connection from %s lost while reading message data%s" % (
                    who, " (after header)" if server._data else " (header)"))
            server.closed = True
        elif server.sender is None and not server.recipients and \
                "lost_incoming_connection" in sel:
            self.log("SMTP connection from %s lost D=%s" % (
                who, timediff(time.monotonic() - started, sel)))

    def _no_mail(self, session, started: float) -> None:
        sel = self.logger.selectors
        if "smtp_no_mail" in sel and session.server.mail_count == 0:
            self.log(no_mail(self._peer(session), sel, time.monotonic() - started,
                             session.server.history[-20:]))

    async def _dialogue(self, reader, writer, session, early: bytes = b"") -> None:
        started = time.monotonic()
        try:
            await self._talk(reader, writer, session, started, early)
        finally:
            self._no_mail(session, started)

    async def _talk(self, reader, writer, session, started, early: bytes = b"") -> None:
        server = session.server
        await self._send(writer, session, server.start())
        if session.proxy is not None:
            session.apply_proxy()       # (the server normally asked about hosts_proxy)
        feed = server.feed
        if session.proxy_failed:
            feed = _ProxyFailed(server).feed
        if early and not server.closed:
            await self._send(writer, session, feed(early))
        while not server.closed:
            try:
                data = await asyncio.wait_for(reader.read(65536), self.timeout or None)
            except asyncio.TimeoutError:
                self._timeout(writer, session, server)
                break
            if not data:
                self._lost(session, started)
                if not server.closed:
                    await self._send(writer, session, server.feed_eof())
                break
            await self._send(writer, session, feed(data))
            if self.stopping and not _in_message(server):
                self._shutdown_reply(writer, session)
                break
        await writer.drain()

    async def _send(self, writer, session, out: bytes) -> None:
        if session.pending_delay:
            delay, session.pending_delay = session.pending_delay, 0.0
            await asyncio.sleep(delay)
        if out:
            writer.write(out)
            await writer.drain()

    def _timeout(self, writer, session, server) -> None:
        what = "data" if _in_message(server) else "command"
        self.log("SMTP %s timeout%s on connection from %s%s" % (
            what, " (message abandoned)" if _in_message(server) else "",
            host_and_ident(self._peer(session), self.logger.selectors, False),
            " F=<%s>" % server.sender if _in_message(server) else ""))
        writer.write(("421 %s: SMTP incoming data timeout - closing connection.\r\n"
                      % session.active_hostname).encode())


class _ProxyFailed:
    """After a failed PROXY negotiation, smtp_read_command() matches QUIT only:
    every other command line is answered 503 (PROXY_FAIL_IGNORE_CMD).  Lines
    it rejects before matching commands (NUL characters, overlong) still reach
    the server, which answers them as usual."""

    def __init__(self, server):
        self.server = server
        self.buf = b""

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out = []
        while not self.server.closed:
            nl = self.buf.find(b"\n")
            if nl > CMD_BUFFER_SIZE or nl < 0 and len(self.buf) > CMD_BUFFER_SIZE:
                out.append(self.server.feed(self.buf[:CMD_BUFFER_SIZE + 1]))
                self.buf = self.buf[CMD_BUFFER_SIZE + 1:]
                continue
            if nl < 0:
                break
            line, self.buf = self.buf[:nl + 1], self.buf[nl + 1:]
            cmd = line.rstrip()
            if b"\0" in line or cmd[:4].lower() == b"quit" and cmd[4:5] in (b"", b" "):
                out.append(self.server.feed(line))
            else:
                out.append(PROXY_FAILED_REPLY)
        return b"".join(out)


def _in_message(server) -> bool:
    """Message data (DATA, or BDAT chunks) is being read."""
    return bool(getattr(server, "in_message", server.in_data))


def _plain_ip(ip: str) -> str:
    return ip[7:] if ip.lower().startswith("::ffff:") and "." in ip else ip


def _per_host_limit(session, text: str) -> int:
    if not text:
        return 0
    try:
        return int(session.expand(text))
    except Exception:  # noqa: BLE001 - Exim: an expansion failure means no limit
        return 0
