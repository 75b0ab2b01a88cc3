"""Helpers: a throw-away spool + log directory that real exim and pexim both use."""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from exim_oracle import _ENV, EXIM, HAVE_EXIM, world_readable_tmpdir  # noqa: E402

needs_exim_root = __import__("pytest").mark.skipif(
    not HAVE_EXIM or os.geteuid() != 0, reason="needs real exim, run as root")

try:
    EXIM_OWNER = (pwd.getpwnam("Debian-exim").pw_uid, grp.getgrnam("Debian-exim").gr_gid)
except KeyError:
    EXIM_OWNER = (os.getuid(), os.getgid())

BASE_CONFIG = """\
keep_environment =
spool_directory = {root}/spool
log_file_path = {root}/log/%slog
primary_hostname = test.example
qualify_domain = test.example
queue_only
dsn_advertise_hosts = *
{extra}
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept set acl_c_foo = bar
         set acl_m0 = multi\\nline
{acls}
begin routers
r:
  driver = accept
  transport = t
begin transports
t:
  driver = appendfile
  file = /dev/null
"""


class Site:
    """A config, spool and log directory in a fresh world-readable temp dir."""

    def __init__(self, extra: str = "", name: str = "site", acls: str = ""):
        self.root = world_readable_tmpdir(f"pexim-{name}-")
        for d in ("spool", "log"):
            (self.root / d).mkdir()
            os.chown(self.root / d, *EXIM_OWNER)
        self.conf = self.root / "conf"
        self.conf.write_text(BASE_CONFIG.format(root=self.root, extra=extra, acls=acls))
        os.chmod(self.conf, 0o644)
        self.spool = str(self.root / "spool")

    def exim(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([EXIM, "-C", str(self.conf), *args], input=input,
                              capture_output=True, env=dict(_ENV), timeout=30)

    def out(self, *args: str) -> str:
        return self.exim(*args).stdout.decode("latin-1")

    def mainlog(self) -> str:
        p = self.root / "log" / "mainlog"
        return p.read_text("latin-1") if p.exists() else ""

    def last_id(self) -> str:
        return self.mainlog().splitlines()[-1].split()[2]

    def file(self, message_id: str, suffix: str) -> bytes:
        return Path(self.spool, "input", message_id + suffix).read_bytes()
