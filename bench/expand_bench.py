"""Expansions per second for typical ACL strings: compiled once (how pexim
runs configuration options) against parsed every time.

    .venv/bin/python bench/expand_bench.py [--seconds S]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

from pexim.expand import ExpandContext, compile  # noqa: E402

CONF = """\
primary_hostname = mx.example.net
domainlist local_domains = example.net : *.example.net : lsearch;{dir}/domains
"""


def cases(d: str) -> list[tuple[str, str]]:
    return [
        ("acl-condition",
         "${if and{{match_domain{$domain}{+local_domains}}{!eq{$sender_address}{}}}}"),
        ("lsearch-lookup", "${lookup{$local_part}lsearch{%s/aliases}{$value}fail}" % d),
        ("string-ops", "${lc:${local_part:$sender_address}}@${domain:$sender_address}"),
    ]


def rate(fn, seconds: float) -> float:
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(200):
            fn()
        n += 200
        if time.perf_counter() >= deadline:
            break
    return n / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "domains"), "w") as f:
            f.write("".join("d%d.example.org:\n" % k for k in range(200)))
        with open(os.path.join(d, "aliases"), "w") as f:
            f.write("".join("user%d: user%d@mail.example.net\n" % (k, k) for k in range(500)))
            f.write("postmaster: root@example.net\n")
        conf = os.path.join(d, "bench.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(dir=d))
        from pexim.config.loader import load
        config = load(conf, {}, lambda text: None)
        ctx = ExpandContext(config=config)
        ctx.values.update({"domain": "d150.example.org", "local_part": "postmaster",
                           "sender_address": "Someone@Remote.Example"})
        print("%-16s %14s %14s %8s" % ("expansion", "compiled/s", "parsed/s", "ratio"))
        for name, text in cases(d):
            exp = compile(text)
            once = rate(lambda e=exp: e.evaluate(ctx), args.seconds)
            each = rate(lambda t=text: compile(t).evaluate(ctx), args.seconds)
            print("%-16s %14.0f %14.0f %7.1fx" % (name, once, each, once / each))
            print("  %s -> %r" % (text, exp.evaluate(ctx)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
