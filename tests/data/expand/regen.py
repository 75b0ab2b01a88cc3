#!/usr/bin/env python3
"""pexim's own -be conformance corpus: run the cases, (re)generate expectations.

Layout (everything under tests/data/expand/):

    expand.conf       the configuration every case runs with
    aux/              files the cases read (lookups, messages for -bem, ...)
    cases/TOPIC.txt   one -be input per line; blank lines and lines starting
                      with '#' are ignored, except directives:
                        #! args: ARGS   extra command-line arguments for this
                                        file (e.g. -bem @@DIR@@/aux/msg1.eml)
    cases/TOPIC.expected
                      generated: one JSON object per case, {"in": input,
                      "out": output}, output being what exim prints after the
                      "> " prompt (without the final newline).

`@@DIR@@` in expand.conf, aux files, case inputs and args stands for a fresh
directory the files are copied to; in outputs the directory is written back
as `@@DIR@@`.  Strings are bytes decoded as latin-1.

    python3 tests/data/expand/regen.py              # regenerate all .expected
    python3 tests/data/expand/regen.py if lists     # only these topics
    python3 tests/data/expand/regen.py --check CMD  # compare CMD with .expected

The expectations come only from running real exim (/usr/sbin/exim, as root, as
it insists on a root-owned -C file); they are never typed by hand.
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

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
PLACEHOLDER = "@@DIR@@"
EXIM = "/usr/sbin/exim"
SEP = "xq-sep-%06d-qx"
SEP_RE = re.compile(rb"> xq-sep-(\d{6})-qx\n")
END = "xq-sep-end-qx"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", re.M)
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C",
       "HOME": "/root", "TZ": "UTC"}


def topics() -> list[str]:
    return sorted(f[:-4] for f in os.listdir(CASES) if f.endswith(".txt"))


def read_cases(topic: str) -> tuple[list[str], list[str]]:
    """(inputs, extra args) of a topic file."""
    inputs: list[str] = []
    args: list[str] = []
    with open(os.path.join(CASES, topic + ".txt"), encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#! args:"):
                args += shlex.split(line[8:])
                continue
            if not line.strip() or line.startswith("#"):
                continue
            inputs.append(line)
    return inputs, args


def read_expected(topic: str) -> list[dict]:
    path = os.path.join(CASES, topic + ".expected")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def make_workdir() -> str:
    wd = os.path.realpath(tempfile.mkdtemp(prefix="pexim-expand-", dir="/tmp"))
    os.chmod(wd, 0o755)
    src = os.path.join(HERE, "aux")
    for root, _dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        dst = os.path.normpath(os.path.join(wd, "aux", rel))
        os.makedirs(dst, exist_ok=True)
        os.chmod(dst, 0o755)
        for fn in files:
            with open(os.path.join(root, fn), "rb") as f:
                data = f.read()
            out = os.path.join(dst, fn)
            with open(out, "wb") as f:
                f.write(data.replace(PLACEHOLDER.encode(), wd.encode()))
            os.chmod(out, 0o644)
    # Empty directories the cases rely on (git keeps no empty directory).
    for d in ("spool", "spool/log", "aux/dir/sub"):
        os.makedirs(os.path.join(wd, d), exist_ok=True)
        os.chmod(os.path.join(wd, d), 0o755)
    with open(os.path.join(HERE, "expand.conf"), encoding="latin-1") as f:
        conf = f.read().replace(PLACEHOLDER, wd)
    path = os.path.join(wd, "expand.conf")
    with open(path, "w", encoding="latin-1") as f:
        f.write(conf)
    os.chmod(path, 0o644)
    if os.geteuid() == 0:
        os.chown(path, 0, 0)
    return wd


def run_topic(cmd: list[str], topic: str, wd: str, timeout: float = 120) -> list[str]:
    """Outputs of every case of ``topic`` from one run of ``cmd``."""
    inputs, args = read_cases(topic)
    args = [a.replace(PLACEHOLDER, wd) for a in args]
    if "-bem" not in args:
        args.append("-be")
    stdin = []
    for k, text in enumerate(inputs):
        stdin.append(SEP % k)
        stdin.append(text.replace(PLACEHOLDER, wd))
    stdin.append(END)
    data = ("\n".join(stdin) + "\n").encode("latin-1")
    env = dict(ENV)
    if cmd[0] != EXIM:
        env["PYTHONPATH"] = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            HERE))), "src")
    proc = subprocess.run(cmd + ["-C", os.path.join(wd, "expand.conf")] + args, input=data,
                          capture_output=True, timeout=timeout, env=env, cwd=wd)
    out = proc.stdout
    marks = list(SEP_RE.finditer(out))
    results = ["[no output]"] * len(inputs)
    for j, m in enumerate(marks):
        k = int(m.group(1))
        end = marks[j + 1].start() if j + 1 < len(marks) else out.find(b"> " + END.encode())
        if end < 0:
            end = len(out)
        chunk = out[m.end():end]
        if chunk.startswith(b"> "):
            chunk = chunk[2:]
        if chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        if k < len(results):
            results[k] = chunk.decode("latin-1").replace(wd, PLACEHOLDER)
    last = int(marks[-1].group(1)) if marks else -1
    if out.find(b"> " + END.encode()) < 0 and 0 <= last < len(results):
        # The program died on case ``last``: keep what it said and how it ended.
        err = TIMESTAMP.sub("", proc.stderr.decode("latin-1")).replace(wd, PLACEHOLDER)
        results[last] += "\n[exit rc=%d] %s" % (proc.returncode, err)
        for k in range(last + 1, len(results)):
            results[k] = "[no output]"
    if proc.returncode != 0 and not marks:
        err = proc.stderr.decode("latin-1").replace(wd, PLACEHOLDER)
        results = ["[rc=%d] %s" % (proc.returncode, err)] * len(inputs)
    return results


def regenerate(names: list[str]) -> None:
    wd = make_workdir()
    try:
        for t in names:
            inputs, _ = read_cases(t)
            outs = run_topic([EXIM], t, wd)
            broken = [o for o in outs if o.startswith(("[rc=", "[no output]"))]
            if broken:
                raise SystemExit("%s: exim did not answer: %s" % (t, broken[0]))
            with open(os.path.join(CASES, t + ".expected"), "w", encoding="utf-8") as f:
                for i, o in zip(inputs, outs, strict=False):
                    f.write(json.dumps({"in": i, "out": o}, ensure_ascii=False) + "\n")
            print("%-14s %4d cases" % (t, len(inputs)))
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def check(cmd: list[str], names: list[str], show: int = 10) -> int:
    wd = make_workdir()
    total = bad = 0
    try:
        for t in names:
            exp = read_expected(t)
            outs = run_topic(cmd, t, wd)
            nb = 0
            for e, o in zip(exp, outs, strict=False):
                total += 1
                if e["out"] != o:
                    nb += 1
                    if show > 0:
                        show -= 1
                        print("FAIL [%s] %s\n  exim : %r\n  pexim: %r" % (t, e["in"], e["out"], o))
            bad += nb
            print("%-14s %4d/%d" % (t, len(exp) - nb, len(exp)))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    print("own corpus: %d/%d" % (total - bad, total))
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--check"]:
        cmd = shlex.split(argv[1])
        if os.sep in cmd[0]:
            cmd[0] = os.path.abspath(cmd[0])
        show = 10
        rest = argv[2:]
        if rest[:1] == ["--show"]:
            show = int(rest[1])
            rest = rest[2:]
        return check(cmd, rest or topics(), show)
    regenerate(argv or topics())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
