"""Build a queue from a description (tests/data/queue/*.json) for -bp / -M / exiqgrep tests.

Each message is written with pexim's spool writer (owned by exim's user, so
real exim can read it after giving up root); ``@name@`` in arguments stands
for that message's id.  Ages are set half-way into a minute so the listing
cannot change between the exim run and the pexim run.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from exim_oracle import world_readable_tmpdir  # noqa: E402

from pexim.message.envelope import Header, Recipient, SpoolMessage  # noqa: E402
from pexim.message.ids import format_id  # noqa: E402
from pexim.spool.paths import SpoolPaths  # noqa: E402
from pexim.spool.writer import DataFile  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "queue"
REPO_SRC = str(Path(__file__).resolve().parents[2] / "src")

CONFIG = """\
keep_environment =
spool_directory = {root}/spool
log_file_path = {root}/log/%slog
primary_hostname = test.example
qualify_domain = test.example
queue_only
{extra}
"""


def exim_owner() -> tuple[int, int]:
    pw = pwd.getpwnam("Debian-exim")
    return pw.pw_uid, pw.pw_gid


@dataclass
class Queue:
    root: Path
    ids: dict[str, str]
    conf: Path

    def args(self, argv: list[str]) -> list[str]:
        out = []
        for a in argv:
            for name, mid in self.ids.items():
                a = a.replace(f"@{name}@", mid)
            out.append(a)
        return out

    def copy(self, suffix: str) -> Queue:
        """A second queue with the same messages (for running an action twice)."""
        root = world_readable_tmpdir("pexim-queue-")
        shutil.rmtree(root)
        shutil.copytree(self.root, root, symlinks=True)
        for src, dirs, files in os.walk(self.root):     # copytree keeps modes, not owners
            for name in ["."] + dirs + files:
                st = os.lstat(os.path.join(src, name))
                dst = os.path.join(root, os.path.relpath(os.path.join(src, name), self.root))
                os.lchown(dst, st.st_uid, st.st_gid)
        conf = root / "configure"
        conf.write_text(self.conf.read_text().replace(str(self.root), str(root)))
        os.chmod(conf, 0o644)
        return Queue(root, dict(self.ids), conf)

    def mainlog(self) -> str:
        p = self.root / "log" / "mainlog"
        return p.read_text() if p.exists() else ""

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def load_case(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def build(case: dict, now: float | None = None) -> Queue:
    """Write the case's messages; ids are distinct and in the order of the case."""
    root = world_readable_tmpdir("pexim-queue-")
    owner = exim_owner()
    for d in ("spool", "log"):
        (root / d).mkdir()
        os.chown(root / d, *owner)
    conf = root / "configure"
    conf.write_text(CONFIG.format(root=root, extra=case.get("config", "")))
    os.chmod(conf, 0o644)
    split = "split_spool_directory" in case.get("config", "")
    now = int(time.time() if now is None else now)
    ids = {}
    for n, m in enumerate(case["messages"]):
        received = now - int(m.get("age", 0)) - 30
        mid = format_id(received, 4000 + n, 5000 * (n % 200))
        ids[m["name"]] = mid
        paths = SpoolPaths(str(root / "spool"), split, m.get("queue", ""))
        _write(paths, mid, received, m, owner)
    return Queue(root, ids, conf)


def _write(paths: SpoolPaths, mid: str, received: int, m: dict, owner) -> None:
    msg = SpoolMessage(id=mid, sender=m.get("sender", "sender@a.example"))
    msg.originator_login = m.get("login", "root")
    msg.received_time = (received, 123456)
    msg.received_protocol = "local"
    msg.ident = msg.originator_login
    msg.sender_set_untrusted = bool(m.get("untrusted"))
    msg.deliver_firsttime = True
    if m.get("frozen"):
        msg.frozen_at = received + 5
    msg.recipients = [Recipient(a) for a in m.get("recipients", ["rcpt@b.example"])]
    msg.nonrecipients = set(m.get("nonrecipients", []))
    msg.headers = [Header(h + "\n") for h in m.get("headers", ["Subject: test"])]
    body = m.get("body", "body line\n")
    if isinstance(body, int):
        body = "x" * 70 + "\n"
        size = m["body"]
    else:
        size = None
    msg.body_linecount = body.count("\n")
    msg.max_received_linelength = max(len(x) for x in body.split("\n"))
    data = DataFile(paths, mid, owner)
    data.write(body.encode())
    if size is not None:             # a big body without writing it: a sparse file
        os.ftruncate(data.fd, size)
    data.commit(msg)
    data.close()
    if "journal" in m:
        j = paths.input_file(mid, "-J")
        with open(j, "w") as fh:
            fh.write("".join(a + "\n" for a in m["journal"]))
        os.chown(j, *owner)
    if "header_file" in m:          # a damaged -H file
        with open(paths.input_file(mid, "-H"), "w") as fh:
            fh.write(m["header_file"].replace("@ID@", mid))
    if m.get("no_data"):
        os.unlink(paths.input_file(mid, "-D"))
    if "msglog" in m:
        paths.ensure("msglog", mid, owner)
        with open(paths.msglog_file(mid), "w") as fh:
            fh.write(m["msglog"])
        os.chmod(paths.msglog_file(mid), 0o640)
        os.chown(paths.msglog_file(mid), *owner)
