"""json lookups (not in Debian's exim): outcomes from the spec and Exim's json.c
with Jansson, run through `pexim -be`."""

from __future__ import annotations

import pytest
from lookup_oracle import DATA, run_be, table, write_config

from pexim.lookups.json import dumps, real_dump

CASES = table("json.table")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("json")
    conf = write_config(d, "")
    got = run_be("pexim", conf, [e.replace("@D@", str(DATA)) for e, _ in CASES], d)
    return [g.replace(str(DATA), "@D@") for g in got]


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0][:60] for c in CASES])
def test_json(results, i):
    assert results[i] == CASES[i][1]


@pytest.mark.parametrize("value,text", [(0.1, "0.10000000000000001"), (1e100, "1e100"),
                                        (1.0, "1.0"), (-2.5e-7, "-2.4999999999999999e-7"),
                                        (123.0, "123.0")])
def test_jansson_reals(value, text):
    assert real_dump(value) == text


def test_jansson_layout():
    assert dumps({"a": [1, {"b": None}], "c": "\x1f\\"}) == '{"a": [1, {"b": null}], "c": "\\u001F\\\\"}'
