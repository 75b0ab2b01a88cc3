"""Authenticator driver tables, public-name rules and init checks."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "routers"))
from driver_fakes import error, instance  # noqa: E402

from pexim.config import drivers  # noqa: E402


def test_gsasl_and_heimdal_are_not_in_this_build():
    assert drivers.option_table("authenticator", "gsasl") is None
    assert drivers.option_table("authenticator", "heimdal_gssapi") is None


def test_public_name_defaults_to_instance_name_except_cram_md5():
    assert error("authenticator", "plaintext") == ""
    assert error("authenticator", "cram_md5", server_secret="s") == (
        "Exim configuration error:\n  no public name specified for the x1 authenticator")


def test_tls_always_uses_instance_name_and_aliases_server_param():
    got = drivers.derived_values("authenticator", instance(
        "authenticator", "tls", public_name="X", server_param1="v"))
    assert got["public_name"] == "x1" and got["server_param"] == "v"


def test_cyrus_mechanism_defaults_to_public_name():
    got = drivers.derived_values("authenticator", instance(
        "authenticator", "cyrus_sasl", public_name="PLAIN"))
    assert got["server_mech"] == "PLAIN"


def test_spa_client_needs_both_username_and_password():
    assert error("authenticator", "spa", client_password="p") == (
        "Exim configuration error for x1 authenticator:\n"
        "  one of client_username and client_password cannot be set without the other")


class _Config:
    def __init__(self, auths):
        self.auths = auths

    def drivers(self, kind):
        return self.auths if kind == "authenticator" else []


def test_same_public_name_on_the_same_side_is_an_error():
    a1 = instance("authenticator", "plaintext", "a1", public_name="PLAIN", client_send="x")
    a2 = instance("authenticator", "spa", "a2", public_name="plain",
                  client_username="u", client_password="p")
    try:
        drivers.check_references(_Config([a1, a2]))
    except drivers.DriverError as err:
        assert err.message == ("two client authenticators (a1 and a2) have the same "
                               "public name (PLAIN)")
    else:
        raise AssertionError("no error")
    server = instance("authenticator", "dovecot", "a3", public_name="PLAIN",
                      server_socket="/s")
    drivers.check_references(_Config([a1, server]))
