"""Unsupported options are named when a mode would need them."""

from __future__ import annotations

from pexim.config.loader import load
from pexim.config.support import refusal, unsupported_settings


def write(tmp_path, text):
    conf = tmp_path / "c.conf"
    conf.write_text(text)
    return load(str(conf))


def test_nothing_set_nothing_refused(tmp_path):
    config = write(tmp_path, "")
    assert unsupported_settings(config) == []
    assert refusal(config, "-bd") is None


def test_set_options_are_named(tmp_path):
    config = write(tmp_path, "smtp_banner = hi\nbegin routers\nr1:\n  driver = accept\n"
                             "  transport = t1\nbegin transports\nt1:\n  driver = pipe\n")
    names = unsupported_settings(config)
    assert 'main option "smtp_banner"' in names
    assert 'option "transport" of router r1 (accept)' in names
    message = refusal(config, "-bd")
    assert message.startswith("pexim: -bd cannot run with this configuration")
    assert 'main option "smtp_banner"' in message
