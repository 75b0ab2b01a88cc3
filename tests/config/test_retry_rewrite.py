"""Retry and rewrite rules as parsed from their sections."""

from __future__ import annotations

import pytest

from pexim.config.errors import ConfigError
from pexim.config.loader import load
from pexim.config.model import RetryStep


def config(tmp_path, text):
    conf = tmp_path / "c.conf"
    conf.write_text(text)
    return load(str(conf))


def test_retry_rules(tmp_path):
    c = config(tmp_path, "begin retry\n"
                         "*.example.com  quota_7d  F,1d,2h\n"
                         '"^a.*@b$"  rcpt_45x  senders = x@y:z@w  G,16h,1h,1.5; F,4d,6h\n'
                         "*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h\n")
    quota, rcpt, default = c.retry_rules
    assert (quota.pattern, quota.basic_errno, quota.more) == ("*.example.com", "quota", 7 * 86400)
    assert quota.steps == (RetryStep("F", 86400, 7200),)
    assert (rcpt.pattern, rcpt.basic_errno, rcpt.more, rcpt.senders) == (
        "^a.*@b$", "rcpt_4xx", "45x", "x@y:z@w")
    assert rcpt.steps[0] == RetryStep("G", 16 * 3600, 3600, 1500)
    assert [s.letter for s in default.steps] == ["F", "G", "F"]


@pytest.mark.parametrize("rule, message", [
    ("* * F,2h", "comma expected"),
    ("* * X,2h,15m", "unknown retry rule letter"),
    ("* * G,2h,15m,0.5", "bad parameters for retry rule"),
    ("* nosuch F,2h,15m", 'unknown or malformed retry error "nosuch"'),
    ("* refused_B F,2h,15m", 'A or MX expected after "refused"'),
    ("* * F,2h,15m G,1d,1h,2", "semicolon expected"),
])
def test_retry_errors(tmp_path, rule, message):
    with pytest.raises(ConfigError) as info:
        config(tmp_path, f"begin retry\n{rule}\n")
    assert info.value.message == message
    assert info.value.line == 2


def test_rewrite_rules(tmp_path):
    c = config(tmp_path, "begin rewrite\n"
                         "*@old.example  $1@new.example  Ffr\n"
                         '^(.*)@x$  "${quote:$1}@y"  S\n'
                         "a@b  c@d\n")
    first, second, third = c.rewrite_rules
    assert (first.key, first.replacement, first.flags) == ("*@old.example", "$1@new.example", "Ffr")
    assert (second.replacement, second.flags) == ("${quote:$1}@y", "S")
    assert third.flags == "hE"


@pytest.mark.parametrize("rule, message", [
    ("a@b", "missing rewrite replacement string"),
    ("a@b c@d Z", "unknown rewrite flag character 'Z' "
                  "(could be missing quotes round replacement item)"),
    ("a@b c@d S", "rewrite rule has the S flag but is not a regular expression"),
])
def test_rewrite_errors(tmp_path, rule, message):
    with pytest.raises(ConfigError) as info:
        config(tmp_path, f"begin rewrite\n{rule}\n")
    assert info.value.message == message
