"""Bounce, delay-warning and success-DSN cases captured from real exim.

A case (tests/data/bounce/NN-name.case) names the extra main options, how the
message is submitted and which addresses failed (or were deferred, or
delivered) with what error data.  ``capture`` runs real exim on it with the
shared configuration (base.conf, ``queue_only`` so that the generated
message stays on the spool), delivers the message once with ``-M`` and keeps
the original's and the generated messages' -H/-D files plus the mainlog in
tests/data/bounce/NN-name/.  The tests rebuild the same DeliveryMessage from
the original's spool files and compare what pexim generates with those files.

Regenerate after adding a case (as root, real exim installed):

    .venv/bin/python tests/delivery/bounce_cases.py [case-name ...]
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

EXIM = "/usr/sbin/exim"
DATA = Path(__file__).resolve().parents[1] / "data" / "bounce"
_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C",
        "HOME": "/root", "TZ": "UTC"}


@dataclass
class Case:
    name: str
    main: str = ""
    submit: list[str] = field(default_factory=list)
    stdin: bytes = b""
    age: int = 0                    # seconds to move the received time back
    kind: str = "failed"            # failed / deferred / delivered
    addresses: list[dict] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)   # written into the run dir
    server: dict[str, list[str]] = field(default_factory=dict)   # fake SMTP replies

    @property
    def outdir(self) -> Path:
        return DATA / self.name

    def configure(self, directory: str | Path, port: int = 25) -> str:
        base = (DATA / "base.conf").read_text()
        return base.replace("@MAIN@", self.main).replace("@DIR@", str(directory)) \
            .replace("@PORT@", str(port))


def load(path: Path) -> Case:
    case = Case(path.stem)
    section, buf = None, []

    def flush():
        text = "".join(buf)
        if section is None:
            pass
        elif section == "main":
            case.main = text
        elif section.startswith("submit:"):
            case.submit = shlex.split(section[7:])
            case.stdin = text.encode()
        elif section.startswith("age:"):
            case.age = int(section[4:])
        elif section == "server":
            for ln in text.splitlines():
                if ln.strip():
                    key, _, reply = ln.partition(":")
                    case.server.setdefault(key.strip(), []).append(reply.strip())
        elif section.startswith("file:"):
            case.files[section[5:].strip()] = text
        elif section in ("failed", "deferred", "delivered"):
            case.kind = section
            case.addresses = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        buf.clear()

    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("--- "):
            flush()
            section = line[4:].strip()
            continue
        if section is not None:
            buf.append(line)
    flush()
    return case


def cases() -> list[Path]:
    return sorted(DATA.glob("*.case"))


@dataclass
class Captured:
    """What exim left: the original message's spool files, the generated ones."""

    orig_id: str
    orig_h: bytes
    orig_d: bytes
    generated: list[tuple[str, bytes, bytes]]      # (id, -H, -D)
    mainlog: str
    after_h: bytes | None = None                   # the original's -H after -M


def read_captured(case: Case) -> Captured:
    d = case.outdir
    orig_h = (d / "orig-H").read_bytes()
    gens = []
    for h in sorted(d.glob("gen*-H")):
        hb = h.read_bytes()
        gens.append((hb.split(b"\n", 1)[0][:-2].decode(), hb,
                     (d / (h.name[:-2] + "-D")).read_bytes()))
    after = d / "after-H"
    return Captured(orig_h.split(b"\n", 1)[0][:-2].decode(), orig_h,
                    (d / "orig-D").read_bytes(), gens, (d / "mainlog").read_text(),
                    after.read_bytes() if after.exists() else None)


def _exim(conf: Path, args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([EXIM, "-C", str(conf)] + args, input=stdin, capture_output=True,
                          env=_ENV, timeout=60)


def _ids(spool: Path) -> list[str]:
    return sorted(p.name[:-2] for p in (spool / "input").glob("*-H"))


class FakeServer:
    """A scripted SMTP server on 127.0.0.1 for the remote cases: the case's
    "--- server" lines give the greeting and the replies to EHLO, MAIL, RCPT
    (one per recipient, in order) and the end of DATA; "|" separates the lines
    of a multi-line reply."""

    def __init__(self, script: dict[str, list[str]]):
        import socket
        import threading

        self.script = {k: list(v) for k, v in script.items()}
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _reply(self, key: str, default: str) -> bytes:
        items = self.script.get(key) or [default]
        text = items.pop(0) if len(items) > 1 else items[0]
        return b"".join(ln.encode() + b"\r\n" for ln in text.split("|"))

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as rf:
                conn.sendall(self._reply("greeting", "220 fake.example ESMTP"))
                in_data = False
                for raw in rf:
                    line = raw.rstrip(b"\r\n").decode("latin-1")
                    if in_data:
                        if line == ".":
                            in_data = False
                            conn.sendall(self._reply("data", "250 OK queued"))
                        continue
                    verb = line[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        conn.sendall(self._reply("ehlo", "250 fake.example"))
                    elif verb == "MAIL":
                        conn.sendall(self._reply("mail", "250 OK"))
                    elif verb == "RCPT":
                        conn.sendall(self._reply("rcpt", "250 Accepted"))
                    elif verb == "DATA":
                        conn.sendall(b"354 go ahead\r\n")
                        in_data = True
                    elif verb == "QUIT":
                        conn.sendall(b"221 bye\r\n")
                        break
                    else:
                        conn.sendall(b"250 OK\r\n")

    def close(self):
        self.sock.close()


def capture(case: Case) -> Captured:
    """Run real exim on ``case`` and store what it spooled under case.outdir."""
    work = Path(tempfile.mkdtemp(prefix="pexim-bounce-"))
    server = FakeServer(case.server)
    try:
        for sub in ("", "mail", "log", "spool"):
            (work / sub).mkdir(exist_ok=True)
            os.chmod(work / sub, 0o777)
        for name, text in case.files.items():
            (work / name).write_text(text.replace("@DIR@", str(work)))
            os.chmod(work / name, 0o644)
        conf = work / "configure"
        conf.write_text(case.configure(work, server.port))
        os.chmod(conf, 0o644)
        proc = _exim(conf, case.submit, case.stdin)
        ids = _ids(work / "spool")
        if len(ids) != 1:
            raise RuntimeError(f"{case.name}: submission left {ids}: {proc.stderr!r}")
        orig = ids[0]
        hpath = work / "spool" / "input" / f"{orig}-H"
        if case.age:
            lines = hpath.read_bytes().split(b"\n")
            secs, usec = lines[3].split(b" ")
            lines[3] = b"%d %s" % (int(secs) - case.age, usec)
            hpath.write_bytes(b"\n".join(lines))
        orig_h = hpath.read_bytes()
        orig_d = (work / "spool" / "input" / f"{orig}-D").read_bytes()
        _exim(conf, ["-M", orig])
        after = hpath.read_bytes() if hpath.exists() else None
        gens = []
        for mid in _ids(work / "spool"):
            if mid == orig:
                continue
            gens.append((mid, (work / "spool" / "input" / f"{mid}-H").read_bytes(),
                         (work / "spool" / "input" / f"{mid}-D").read_bytes()))
        log = (work / "log" / "mainlog").read_text()
        log = "".join(ln for ln in log.splitlines(True) if "lost privilege" not in ln)
        log = log.replace(str(work), "@DIR@").replace(":%d" % server.port, ":PORT")
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)
    out = case.outdir
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    (out / "orig-H").write_bytes(orig_h)
    (out / "orig-D").write_bytes(orig_d)
    if after is not None:
        (out / "after-H").write_bytes(after)
    for n, (_mid, h, d) in enumerate(gens, 1):
        (out / f"gen{n}-H").write_bytes(h)
        (out / f"gen{n}-D").write_bytes(d)
    (out / "mainlog").write_text(log)
    return read_captured(case)


# --- comparing ------------------------------------------------------------------

BOUNDARY = re.compile(rb"\d{10}-eximdsn-\d+")


def spool_headers(h: bytes) -> list[tuple[str, str]]:
    """The (type, text) header lines of a -H file, in order."""
    text = h.decode("latin-1")
    blank = text.index("\n\n")
    rest = text[blank + 2:]
    out = []
    i = 0
    while i < len(rest):
        m = re.match(r"(\d{3})(.) ", rest[i:])
        if not m:
            break
        n = int(m.group(1))
        start = i + m.end()
        out.append((m.group(2), rest[start:start + n]))
        i = start + n
    return out


def generated_text(h: bytes, d: bytes) -> bytes:
    """The message exim's child received, before its own additions: the headers
    without the Received: it put on top and the Message-Id:/Date: fix-ups it
    appended, then the blank line and the body."""
    headers = spool_headers(h)
    keep = [t for typ, t in headers[1:]
            if not (typ == "I" and t.startswith("Message-Id: <E"))
            and not t.startswith("Date: ")]
    body = d.split(b"\n", 1)[1]
    return "".join(keep).encode("latin-1") + b"\n" + body


if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for p in cases():
        if wanted and p.stem not in wanted:
            continue
        got = capture(load(p))
        print(f"{p.stem}: original {got.orig_id}, generated {[g[0] for g in got.generated]}")
