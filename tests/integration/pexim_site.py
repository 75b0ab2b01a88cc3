"""A pexim daemon (or real exim's) on a free 127.0.0.1 port, with its own spool and logs.

The test starts it with -bdf and -oP, and stops it by the PID in that file.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from exim_oracle import _ENV, EXIM, HAVE_EXIM, world_readable_tmpdir  # noqa: E402

ROOT = os.geteuid() == 0
CONFIG = """\
keep_environment =
primary_hostname = test.example
qualify_domain = test.example
local_interfaces = 127.0.0.1
spool_directory = {root}/spool
log_file_path = {root}/log/%slog
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
queue_only
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data
{extra}
begin acl
acl_rcpt:
  accept
acl_data:
  deny    condition = ${{if eq{{$h_subject:}}{{reject me}}}}
          message = no thanks
  accept
{acls}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.recv(100)
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("nothing listening on %d" % port)


class Site:
    """Config, spool and log directory; `start()` runs a daemon on `self.port`."""

    def __init__(self, extra: str = "", acls: str = "", name: str = "pexim",
                 exim: bool = False, owner=None):
        self.root = world_readable_tmpdir(f"pexim-it-{name}-")
        self.exim = exim
        for d in ("spool", "log"):
            (self.root / d).mkdir()
            if owner is not None:
                os.chown(self.root / d, *owner)
        self.conf = self.root / "conf"
        self.conf.write_text(CONFIG.format(root=self.root, extra=extra, acls=acls))
        os.chmod(self.conf, 0o644)
        self.spool = self.root / "spool" / "input"
        self.pidfile = self.root / "pid"
        self.port = free_port()
        self.proc = None

    def command(self, *args: str) -> list[str]:
        if self.exim:
            return [EXIM, "-C", str(self.conf), *args]
        return [sys.executable, "-m", "pexim", "-C", str(self.conf), *args]

    def run(self, *args: str, input: bytes | None = None, env=None):
        return subprocess.run(self.command(*args), input=input, capture_output=True,
                              timeout=60, env=env or dict(_ENV))

    def start(self, *extra_args: str, workers: int = 2) -> Site:
        env = dict(_ENV, PEXIM_WORKERS=str(workers))
        self.proc = subprocess.Popen(
            self.command("-bdf", "-oX", str(self.port), "-oP", str(self.pidfile),
                         *extra_args), env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        wait_port(self.port)
        return self

    @property
    def pid(self) -> int:
        return int(self.pidfile.read_text())

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc is None:
            return
        try:
            os.kill(self.pid, sig)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            self.proc.kill()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def mainlog(self) -> str:
        p = self.root / "log" / "mainlog"
        return p.read_text("latin-1") if p.exists() else ""

    def ids(self) -> list[str]:
        return sorted(p.name[:-2] for p in self.spool.glob("*-H")) if self.spool.exists() \
            else []

    def file(self, mid: str, suffix: str) -> bytes:
        return (self.spool / (mid + suffix)).read_bytes()

    def bp(self) -> str:
        """Real exim's -bp of this spool."""
        r = subprocess.run([EXIM, "-C", str(self.conf), "-bp"], capture_output=True,
                           timeout=30, env=dict(_ENV))
        return r.stdout.decode("latin-1")


__all__ = ["EXIM", "HAVE_EXIM", "ROOT", "Site", "free_port", "wait_port"]
