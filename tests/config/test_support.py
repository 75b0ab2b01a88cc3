"""Unsupported options are named when a mode would need them."""

from __future__ import annotations

import subprocess
import sys

from pexim.build import embedded_config_path
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


def test_embedded_configuration_runs(tmp_path):
    assert refusal(load(embedded_config_path()), "-bd") is None


def test_set_options_are_named(tmp_path):
    config = write(tmp_path, "smtp_banner = hi\ntls_certificate = /x.pem\n"
                             "begin routers\nr1:\n  driver = accept\n"
                             "  transport = t1\nbegin transports\nt1:\n  driver = pipe\n")
    names = unsupported_settings(config)
    assert 'main option "tls_certificate"' in names
    assert 'main option "smtp_banner"' not in names
    assert 'option "transport" of router r1 (accept)' in names
    message = refusal(config, "-bd")
    assert message.startswith("pexim: -bd cannot run with this configuration")
    assert 'main option "tls_certificate"' in message
    assert "router" not in message        # receiving does not need the routers


def test_options_set_off_ask_for_nothing(tmp_path):
    config = write(tmp_path, "tls_advertise_hosts =\nauth_advertise_hosts =\n"
                             "no_smtp_enforce_sync\n")
    assert refusal(config, "-bh") is None


def test_authenticators_are_refused_until_auth_works(tmp_path):
    config = write(tmp_path, "begin authenticators\np:\n  driver = plaintext\n"
                             "  public_name = PLAIN\n")
    assert 'option "public_name" of authenticator p (plaintext)' in refusal(config, "-bh")


def test_bh_refuses_with_exit_1(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("keep_environment =\nspamd_address = 127.0.0.1 783\n")
    out = subprocess.run([sys.executable, "-m", "pexim", "-C", str(conf), "-bh", "127.0.0.1"],
                         input="QUIT\r\n", capture_output=True, text=True)
    assert out.returncode == 1
    assert 'main option "spamd_address"' in out.stderr
