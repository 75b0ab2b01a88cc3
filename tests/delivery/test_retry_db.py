"""The retry hints database on a fake clock: records follow the retry rules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pexim.config.loader import load
from pexim.delivery import errors, retry
from pexim.delivery.retry import RetryItem
from pexim.hints.store import SqliteStore

CONF = """
spool_directory = {spool}
begin retry
slow.example  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h
*             *  F,1h,10m
"""

T0 = 1_700_000_000


@pytest.fixture
def setup(tmp_path):
    conf = tmp_path / "configure"
    conf.write_text(CONF.format(spool=tmp_path / "spool"))
    config = load(str(conf))
    store = SqliteStore(str(tmp_path / "spool" / "db"))
    return config, store, tmp_path


def _fail(config, store, key, domain, now, errno=errors.ECONNREFUSED, more=errors.MORE_A):
    item = RetryItem(key, errno, more, "Connection refused", host=key.startswith("T:"))
    return retry.update(store, config, [item], domain, now)[key]


def test_fixed_then_geometric_schedule(setup):
    config, store, _ = setup
    key = "T:mx.slow.example:192.0.2.1"
    rec = _fail(config, store, key, "slow.example", T0)
    assert (rec.first_failed, rec.last_try, rec.next_try) == (T0, T0, T0 + 15 * 60)
    assert retry.due(store, key, T0 + 60) is not None          # not time yet
    assert retry.due(store, key, T0 + 15 * 60) is None         # due again
    # Past 2h the G rule starts at 1h and grows by 1.5 each time.
    now = T0 + 2 * 3600 + 1
    rec = _fail(config, store, key, "slow.example", now)
    assert rec.next_try - now == 3600
    now2 = rec.next_try
    rec = _fail(config, store, key, "slow.example", now2)
    assert rec.next_try - now2 == 5400
    assert rec.first_failed == T0 and not rec.expired


def test_expiry_after_the_last_cutoff(setup):
    config, store, _ = setup
    key = "T:other.example"
    _fail(config, store, key, "other.example", T0)
    rec = _fail(config, store, key, "other.example", T0 + 3601)
    assert rec.expired


def test_success_deletes_the_record(setup):
    config, store, _ = setup
    key = "T:other.example"
    _fail(config, store, key, "other.example", T0)
    retry.update(store, config, [RetryItem(key, delete=True)], "other.example", T0 + 700)
    assert retry.read(store, key) is None


def test_dumpdb_prints_exim_dumpdb_lines(setup):
    config, store, tmp_path = setup
    _fail(config, store, "T:127.0.0.1:127.0.0.1:2599", "remote.example", T0)
    out = subprocess.run([sys.executable, "-m", "pexim.hints.dumpdb",
                          str(tmp_path / "spool"), "retry"], capture_output=True, text=True,
                         env={"TZ": "UTC", "PATH": "/usr/bin:/bin"}).stdout
    assert out == ("  T:127.0.0.1:127.0.0.1:2599 111 65 Connection refused\n"
                   "14-Nov-2023 22:13:20  14-Nov-2023 22:13:20  14-Nov-2023 22:23:20 \n")
