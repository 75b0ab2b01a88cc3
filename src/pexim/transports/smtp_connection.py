"""asyncio glue for the sans-IO SMTP client: connect, move bytes, apply timeouts.

Everything protocol-shaped lives in pexim.smtp.client_protocol; this module
only opens the socket (TCP with connect_timeout and an optional source
interface, a Unix socket, or a child process's stdin/stdout for LMTP) and
runs the client until it is ready for the next message or closed.
"""

from __future__ import annotations

import asyncio
import errno as errno_mod
import os
import socket
from dataclasses import dataclass

from pexim.smtp.client_protocol import READY, SmtpClient


class ConnectFailed(Exception):
    def __init__(self, err: int, timed_out: bool = False):
        super().__init__(os.strerror(err))
        self.errno = err
        self.timed_out = timed_out


@dataclass
class Timeouts:
    connect: float = 300
    command: float = 300
    data: float = 300
    final: float = 600


class Connection:
    """A stream to a server, and the client speaking on it."""

    def __init__(self, reader, writer, client: SmtpClient, timeouts: Timeouts,
                 proc: asyncio.subprocess.Process | None = None):
        self.reader = reader
        self.writer = writer
        self.client = client
        self.timeouts = timeouts
        self.proc = proc
        self.bytes_sent = 0

    async def run(self) -> None:
        """Drive the client until it is READY for work or CLOSED."""
        c = self.client
        while True:
            out = c.data_to_send()
            if out:
                try:
                    self.writer.write(out)
                    await asyncio.wait_for(self.writer.drain(), self.timeouts.data)
                    self.bytes_sent += len(out)
                except (OSError, asyncio.TimeoutError):
                    pass        # the read below sees the closed connection
            if c.state == READY or c.closed:
                return
            limit = getattr(self.timeouts, c.timeout)
            try:
                data = await asyncio.wait_for(self.reader.read(65536), limit)
            except asyncio.TimeoutError:
                c.timed_out()
                continue
            except OSError:
                data = b""
            c.receive_data(data)

    async def close(self) -> None:
        """QUIT if the client is idle, then close (and reap a child process)."""
        if self.client.state == READY:
            self.client.quit()
            out = self.client.data_to_send()
            try:
                self.writer.write(out)
                await asyncio.wait_for(self.writer.drain(), self.timeouts.command)
            except (OSError, asyncio.TimeoutError):
                pass
        try:
            self.writer.close()
        except OSError:
            pass
        if self.proc is not None:
            try:
                await asyncio.wait_for(self.proc.wait(), self.timeouts.command)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def connect_tcp(address: str, port: int, timeout: float,
                      interface: str | None = None):
    """(reader, writer), or ConnectFailed with the errno Exim would record."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    local = (interface, 0) if interface else None
    try:
        return await asyncio.wait_for(
            asyncio.open_connection(address, port, family=family, local_addr=local),
            timeout)
    except asyncio.TimeoutError:
        raise ConnectFailed(errno_mod.ETIMEDOUT, timed_out=True) from None
    except OSError as err:
        raise ConnectFailed(err.errno or errno_mod.ECONNREFUSED) from None


async def connect_unix(path: str, timeout: float):
    try:
        return await asyncio.wait_for(asyncio.open_unix_connection(path), timeout)
    except asyncio.TimeoutError:
        raise ConnectFailed(errno_mod.ETIMEDOUT, timed_out=True) from None
    except OSError as err:
        raise ConnectFailed(err.errno or errno_mod.ECONNREFUSED) from None


async def spawn(argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None,
                preexec=None):
    """A child speaking the protocol on its stdin/stdout: (reader, writer, process)."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=env, cwd=cwd, preexec_fn=preexec)
    return proc.stdout, proc.stdin, proc
