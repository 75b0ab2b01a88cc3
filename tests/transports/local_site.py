"""A throw-away site where real exim and pexim deliver the same spooled message.

Real exim receives the message with -odq (so it is on the spool, byte for
byte), pexim reads that -H/-D pair into a DeliveryMessage before exim
delivers it with -M; both then deliver with the same configuration and the
results are compared.  Exim gives up root for a -C config, so deliveries run
as Debian-exim: the output directory is world-writable.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

for _d in ("spool", "conformance"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / _d))
from exim_oracle import _ENV, EXIM, world_readable_tmpdir  # noqa: E402
from eximspool import EXIM_OWNER, needs_exim_root  # noqa: E402,F401

from pexim.config.loader import load  # noqa: E402
from pexim.delivery.address import AddressItem  # noqa: E402
from pexim.delivery.context import TransportContext  # noqa: E402
from pexim.delivery.message import DeliveryMessage  # noqa: E402
from pexim.delivery.route import split_address  # noqa: E402
from pexim.log_lines import Delivery, deferred, failed  # noqa: E402
from pexim.spool.paths import SpoolPaths  # noqa: E402
from pexim.spool.reader import read_header  # noqa: E402

HEAD = """\
keep_environment =
spool_directory = {root}/spool
log_file_path = {root}/log/%slog
primary_hostname = test.example
qualify_domain = test.example
{main}
begin routers
r:
  driver = accept
  transport = t
{router}
begin transports
t:
{transport}
"""

EXIM_USER = "Debian-exim"


class LocalSite:
    def __init__(self, transport: str, main: str = "", router: str = "", name: str = "tp"):
        self.root = world_readable_tmpdir(f"pexim-{name}-")
        for d in ("spool", "log"):
            (self.root / d).mkdir()
            os.chown(self.root / d, *EXIM_OWNER)
        self.out = self.root / "out"
        self.out.mkdir()
        os.chmod(self.out, 0o777)
        self.pspool = self.root / "pspool"
        (self.pspool / "input").mkdir(parents=True)
        self.conf = self.root / "conf"
        text = HEAD.format(root=self.root, main=main, router=router,
                           transport=transport.replace("{root}", str(self.root))
                           .replace("{out}", str(self.out)))
        self.conf.write_text(text)
        os.chmod(self.conf, 0o644)
        self.config = load(str(self.conf))

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def exim(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([EXIM, "-C", str(self.conf), *args], input=input,
                              capture_output=True, env=dict(_ENV), timeout=60)

    def mainlog(self) -> str:
        p = self.root / "log" / "mainlog"
        return p.read_text("latin-1") if p.exists() else ""

    def submit(self, msg: bytes, sender: str = "sender@x.example",
               rcpts: tuple[str, ...] = ("user@test.example",)) -> str:
        """Queue the message with real exim; keep a copy of its spool files."""
        r = self.exim("-odq", "-oi", "-f", sender, *rcpts, input=msg)
        assert r.returncode == 0, r.stderr
        mid = re.findall(r" (\S{6}-\S{6}-\S{2}) <= ", self.mainlog())[-1]
        for suffix in ("-H", "-D"):
            shutil.copy(self.root / "spool" / "input" / (mid + suffix),
                        self.pspool / "input" / (mid + suffix))
        return mid

    def exim_deliver(self, mid: str) -> str:
        """Deliver with real exim; returns its log lines for the message.

        Exim may still be finishing in a child when -M returns: wait until
        nothing holds the message's -D lock."""
        self.exim("-M", mid)
        data = self.root / "spool" / "input" / (mid + "-D")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                fd = os.open(data, os.O_RDWR)
            except FileNotFoundError:
                break
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.lockf(fd, fcntl.LOCK_UN)
                break
            except OSError:
                time.sleep(0.05)
            finally:
                os.close(fd)
        return "\n".join(line for line in self.mainlog().splitlines() if mid in line)

    def message(self, mid: str) -> DeliveryMessage:
        paths = SpoolPaths(str(self.pspool))
        return DeliveryMessage(self.config, read_header(paths, mid), paths)

    def addrs(self, message: DeliveryMessage) -> list[AddressItem]:
        """The recipients as routing leaves them (split, local part and domain
        tainted)."""
        out = []
        for r in message.spool.recipients:
            a = AddressItem(r.address, router="r", transport="t")
            split_address(a)
            out.append(a)
        return out

    def transport(self, name: str = "t"):
        return next(t for t in self.config.transports if t.name == name)

    def tctx(self) -> TransportContext:
        return TransportContext(self.config)


_FROM_LINE = re.compile(rb"^From (\S+) \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$", re.M)
_DELIVERY_DATE = re.compile(rb"^Delivery-date: .*$", re.M)


def normalise(data: bytes) -> bytes:
    """Times that differ between two deliveries of the same message."""
    data = _FROM_LINE.sub(rb"From \1 <DATE>", data)
    return _DELIVERY_DATE.sub(b"Delivery-date: <DATE>", data)


# Parts of names and bytes that legitimately differ between two deliveries.
_SUBS = [
    (re.compile(rb"\b\d{9,10}\.M\d+P\d+\.test\.example"), b"<MAILDIR-NAME>"),
    (re.compile(rb"(-[0-9A-Za-z]{6}-[0-9A-Za-z]{2})-[0-9A-Za-z]{6}\.(env|msg)"), rb"\1-<PID>.\2"),
    (re.compile(rb"\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d [-+]\d{4},"), b"<MBX-DATE>,"),
    (re.compile(rb"\*mbx\*\r\n[0-9a-f]{8}"), b"*mbx*\r\n<UIDVALIDITY>"),
]


def _norm(data: bytes) -> bytes:
    data = normalise(data)
    for rx, rep in _SUBS:
        data = rx.sub(rep, data)
    return data


def _tree(root: Path) -> dict[str, tuple[str, bytes]]:
    """Every file and directory below ``root``: normalised name -> (mode, content)."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = _norm(str(p.relative_to(root)).encode()).decode()
            st = p.lstat()
            content = b"" if p.is_dir() else _norm(p.read_bytes())
            out[rel] = (oct(st.st_mode), content)
    return out


def _exim_outcome(log: str) -> str | None:
    """Exim's "==" or "**" log line for the first recipient, from there on."""
    m = re.search(r" ((?:==|\*\*) .*)", log)
    return m.group(1) if m else None


def _our_outcome(a) -> str:
    """The same line as the orchestrator writes it for our result."""
    d = Delivery(a.address, router="r", transport="t", errno=a.basic_errno, message=a.message)
    line = (deferred if a.status == "defer" else failed)(d, set())
    if a.status == "defer" and not a.basic_errno:
        # Exim writes "defer (0)" too; log_lines.deferred leaves it out.
        line = line.replace(" T=t: ", " T=t defer (0): ", 1)
    return line


# Bounces go nowhere (their sender is empty), so they do not run the transport.
ROUTER = "  condition = ${if !eq{$sender_address}{}}\n"


def compare_with_exim(conf: Path, msg: bytes, deliver) -> list:
    """Deliver ``msg`` with the transport in ``conf`` through real exim and
    through ``deliver``; the files left in {out} and the outcome must match.
    Returns our addresses for further checks."""
    text = conf.read_text()
    batch = "# test-batch: yes" in text
    transport = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    site = LocalSite(transport + "\n", router=ROUTER, name=conf.stem)
    try:
        mid = site.submit(msg, rcpts=("user@test.example", "other@test.example")
                          if batch else ("user@test.example",))
        log = site.exim_deliver(mid)
        theirs = _tree(site.out)
        expected = _exim_outcome(log)
        shutil.rmtree(site.out)
        site.out.mkdir()
        os.chmod(site.out, 0o777)

        message = site.message(mid)
        addrs = site.addrs(message)
        deliver(site.transport(), message, addrs, site.tctx())
        a = addrs[0]
        if expected is not None:
            assert a.status in ("defer", "fail"), (a.status, expected)
            ours_line = _our_outcome(a)
            assert ours_line == expected, f"\n ours: {ours_line}\n exim: {expected}"
        else:
            assert "=> " in log, log
            assert a.status == "ok", (a.message, log)
        ours = _tree(site.out)
        assert sorted(ours) == sorted(theirs)
        for name in theirs:
            assert ours[name][1] == theirs[name][1], name
            assert ours[name][0] == theirs[name][0], name
        return addrs
    finally:
        site.cleanup()
