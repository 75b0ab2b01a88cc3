"""The sans-IO PROXY header parser: the cases in tests/data/proxy/headers.txt,
fed whole and one byte at a time (a header split across reads is read whole)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pexim.smtp.proxy import ProxyParser

CASES = Path(__file__).resolve().parents[1] / "data" / "proxy" / "headers.txt"


def _cases():
    for n, line in enumerate(CASES.read_text().splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            data, _, want = line.partition(" => ")
            # Both sides are Python expressions (bytes arithmetic, tuples, None).
            yield pytest.param(_value(data), _value(want), id="line%d" % n)


def _value(text: str):
    return eval(compile(ast.parse(text, mode="eval"), CASES.name, "eval"),  # noqa: S307
                {"__builtins__": {}, "bytes": bytes})


def _check(header, rest, want):
    got = {"ok": header.ok, "version": header.version, "command": header.command,
           "source": header.source, "dest": header.dest, "rest": rest, "error": header.error}
    for key, value in want.items():
        assert got[key] == value, (key, got)


@pytest.mark.parametrize("data,want", list(_cases()))
def test_whole(data, want):
    p = ProxyParser()
    header = p.feed(data)
    assert header is not None
    _check(header, p.rest, want)


@pytest.mark.parametrize("data,want", list(_cases()))
def test_byte_by_byte(data, want):
    p = ProxyParser()
    header = None
    for i in range(len(data)):
        header = p.feed(data[i:i + 1])
    assert header is not None
    if not want["ok"] and want.get("version") != 2:
        # How much of a bad first line is swallowed depends on the first read's size.
        want = {k: v for k, v in want.items() if k != "rest"}
    _check(header, p.rest, want)


def test_waits_for_more_then_times_out():
    p = ProxyParser()
    assert p.feed(b"PROXY TCP4 10.1.2.3") is None
    assert p.feed(b" 10.1.2.4 1") is None
    h = p.end("timeout")
    assert not h.ok and h.error == "Timeout while reading proxy header" and p.rest == b""


def test_nothing_sent_then_closed():
    p = ProxyParser()
    assert p.feed(b"") is None
    h = p.end("eof")
    assert (h.ok, h.version, h.source) == (False, 0, None)


def test_data_after_result_is_rest():
    p = ProxyParser()
    p.feed(b"PROXY UNKNOWN\r\nEH")
    p.feed(b"LO x\r\n")
    assert p.rest == b"EHLO x\r\n"
