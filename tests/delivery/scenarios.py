"""End-to-end delivery scenarios run through real exim and pexim side by side.

A case (tests/data/deliver/*.case) is a configuration and a few command
steps; each side gets its own directory (``@DIR@`` in the configuration),
runs the same steps as root, and the two are compared after the steps:

- the mainlog lines, with times, pids and message ids normalised (ids are
  numbered in order of first appearance, so "the bounce of message 1" is
  recognisable on both sides);
- every file under ``@DIR@/mail`` (mbox and Maildir), byte for byte after the
  same normalisation of ids and dates;
- which messages are left on the spool.

    # comment lines first
    --- configure
    ...
    --- step: -odi -f sender@test.example user@test.example
    Subject: hi
    <blank line>
    body
    --- step: -qf
    --- step: -Mg @ID@        (@ID@: the oldest message on the spool)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

EXIM = "/usr/sbin/exim"
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "deliver"

_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C",
        "HOME": "/root", "TZ": "UTC"}


@dataclass
class Step:
    args: list[str]
    stdin: bytes = b""


@dataclass
class Case:
    name: str
    configure: str
    steps: list[Step] = field(default_factory=list)


def load(path: Path) -> Case:
    import shlex

    case = Case(path.stem, "")
    section = None
    buf: list[str] = []

    def flush():
        text = "".join(buf)
        if section == "configure":
            case.configure = text
        elif section is not None:
            case.steps.append(Step(shlex.split(section), text.encode()))
        buf.clear()

    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("--- "):
            flush()
            head = line[4:].strip()
            section = "configure" if head == "configure" else head.removeprefix("step:").strip()
            continue
        if section is not None:
            buf.append(line)
    flush()
    return case


@dataclass
class Outcome:
    mainlog: list[str]
    files: dict[str, str]
    spool: list[str]
    outputs: list[str]


_ID = re.compile(r"(?<![0-9A-Za-z])(E?)([0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2})"
                 r"(?![0-9A-Za-z])")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? ", re.M)
_DATE = re.compile(r"\w{3}, \d\d? \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}")
_BSD = re.compile(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}")
_PID = re.compile(r"pid=\d+")
_BOUNDARY = re.compile(r"\d{10}-eximdsn-\d+")
# A bounce's size depends on the random part of its MIME boundary (rand()).
_BOUNCE_SIZE = re.compile(r"(<= <> R=\S+ .*S=)\d+")


class Normaliser:
    """Numbers message ids in order of appearance; strips times and pids."""

    def __init__(self, directory: str):
        self.ids: dict[str, str] = {}
        self.directory = directory

    def __call__(self, text: str) -> str:
        text = text.replace(self.directory, "@DIR@")
        text = _STAMP.sub("", text)
        text = _ID.sub(lambda m: m.group(1) + self.ids.setdefault(
            m.group(2), f"ID{len(self.ids) + 1}"), text)
        text = _DATE.sub("DATE", text)
        text = _BSD.sub("BSDDATE", text)
        text = _BOUNDARY.sub("BOUNDARY", text)
        text = _BOUNCE_SIZE.sub(r"\1SIZE", text)
        return _PID.sub("pid=PID", text)


def _first_id(directory: Path) -> str:
    """@ID@ in a step: the oldest message on the spool (for -M and friends)."""
    ids = sorted(p.name[:-2] for p in (directory / "spool" / "input").glob("*-H"))
    return ids[0] if ids else "NO-MESSAGE"


def run(case: Case, directory: Path, program: str) -> Outcome:
    directory.mkdir(parents=True, exist_ok=True)
    for sub in ("mail", "log", "spool"):
        (directory / sub).mkdir(exist_ok=True)
    for d in (directory, directory / "mail", directory / "log", directory / "spool"):
        os.chmod(d, 0o777)
    conf = directory / "configure"
    conf.write_text(case.configure.replace("@DIR@", str(directory)))
    os.chmod(conf, 0o644)
    cmd = [EXIM] if program == "exim" else [sys.executable, "-m", "pexim"]
    env = dict(_ENV)
    if program != "exim":
        env["PYTHONPATH"] = str(REPO / "src")
    norm = Normaliser(str(directory))
    outputs = []
    for step in case.steps:
        args = [a.replace("@ID@", _first_id(directory)) for a in step.args]
        proc = subprocess.run(cmd + ["-C", str(conf)] + args, input=step.stdin,
                              capture_output=True, env=env, cwd=str(directory), timeout=60)
        # exim echoes panic-log lines to stderr (pexim keeps them in the logs):
        # compared through the logs, not here.
        panic = directory / "log" / "paniclog"
        echoed = {_STAMP.sub("", ln) for ln in
                  (panic.read_text(errors="replace").splitlines(True) if panic.exists() else [])}
        err = "".join(ln for ln in proc.stderr.decode(errors="replace").splitlines(True)
                      if "exim user lost privilege" not in ln
                      and _STAMP.sub("", ln) not in echoed)
        outputs.append(f"rc={proc.returncode} out={proc.stdout.decode(errors='replace')}"
                       f" err={err}")
    mainlog_path = directory / "log" / "mainlog"
    log_text = mainlog_path.read_text(errors="replace") if mainlog_path.exists() else ""
    lines = [ln for ln in norm(log_text).splitlines()
             if "exim user lost privilege" not in ln]
    panic_path = directory / "log" / "paniclog"
    if panic_path.exists():
        lines += ["PANIC " + ln for ln in norm(panic_path.read_text(errors="replace")).splitlines()
                  if "exim user lost privilege" not in ln]
    files = {}
    mail = directory / "mail"
    for path in sorted(mail.rglob("*")):
        if path.is_file():
            rel = str(path.relative_to(mail))
            if "/new/" in rel or "/cur/" in rel or "/tmp/" in rel:
                rel = rel.rsplit("/", 1)[0] + "/MAILDIR-FILE"
            files.setdefault(rel, "")
            files[rel] += norm(path.read_text(errors="replace"))
    spool = sorted(norm(p.name) for p in (directory / "spool" / "input").glob("*-H")) \
        if (directory / "spool" / "input").exists() else []
    return Outcome(lines, files, spool, [norm(o) for o in outputs])
