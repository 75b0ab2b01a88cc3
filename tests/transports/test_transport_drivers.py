"""Transport driver tables, derived defaults and init checks."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "routers"))
from driver_fakes import error, instance  # noqa: E402

from pexim.config import drivers  # noqa: E402


def test_queuefile_is_known_with_its_directory_option():
    assert [o.name for o in drivers.private_options("transport", "queuefile")] == ["directory"]
    assert error("transport", "queuefile") == (
        "Exim configuration error:\n  directory must be set for the x1 transport")


def test_local_transports_retry_per_local_part_smtp_does_not():
    def default(driver):
        return next(o.default for o in drivers.options_in_order("transport", driver)
                    if o.name == "retry_use_local_part")
    assert [default(d) for d in ("appendfile", "pipe", "lmtp", "autoreply", "smtp")] == \
        ["true", "true", "true", "true", "false"]


def test_appendfile_mbox_defaults_and_bsmtp_escaping():
    mbox = drivers.derived_values("transport", instance("transport", "appendfile", file="/f"))
    assert mbox["check_string"] == "From " and mbox["message_suffix"] == "\n"
    bsmtp = drivers.derived_values("transport", instance("transport", "appendfile",
                                                         file="/f", use_bsmtp=True))
    assert (bsmtp["check_string"], bsmtp["escape_string"]) == (".", "..")
    assert "message_prefix" not in bsmtp


def test_appendfile_mbx_switches_to_mbx_locking():
    got = drivers.derived_values("transport", instance("transport", "appendfile", file="/f",
                                                       mbx_format=True))
    assert (got["use_lockfile"], got["use_mbx_lock"], got["use_fcntl_lock"]) == \
        (False, True, True)


def test_smtp_port_follows_protocol():
    got = drivers.derived_values("transport", instance("transport", "smtp", protocol="lmtp"))
    assert got["port"] == "lmtp"


@pytest.mark.parametrize("driver,values,message", [
    ("appendfile", {"file": "/f", "directory": "/d"},
     'Exim configuration error for x1 transport:\n'
     '  only one of "file" or "directory" can be specified'),
    ("appendfile", {"use_lockfile": False, "use_fcntl_lock": False},
     "Exim configuration error for x1 transport:\n  no locking configured"),
    ("appendfile", {"create_file": "nowhere"},
     "Exim configuration error:\n"
     "  invalid value given for \"create_file\" for the x1 transport: 'nowhere'"),
    ("appendfile", {"user": 0},
     "Exim configuration error:\n  user set without group for the x1 transport"),
    ("lmtp", {}, "Exim configuration error:\n"
                 "  one (and only one) of command or socket must be set for the x1 transport"),
    ("pipe", {"user": 65534, "group": 65534, "pipe_as_creator": True},
     "Exim configuration error:\n  both pipe_as_creator and an explicit uid/gid are set "
     "for the x1 transport"),
    ("pipe", {"body_only": True, "headers_only": True},
     "Exim configuration error:\n  x1 transport: body_only and headers_only are mutually "
     "exclusive"),
    ("smtp", {"shadow_transport": "t"},
     "Exim configuration error:\n  shadow transport not allowed on non-local transport x1"),
    ("smtp", {"data_timeout": 0},
     "Exim configuration error:\n  command, data, or final timeout value is zero for x1 "
     "transport"),
    ("smtp", {}, ""),
])
def test_init_checks(driver, values, message):
    assert error("transport", driver, **values) == message


def test_queuefile_is_a_pexim_extension(tmp_path):
    """Debian's exim lacks the experimental queuefile transport; pexim has it."""
    from pexim.config.loader import load

    conf = tmp_path / "q.conf"
    conf.write_text("begin transports\nq:\n  driver = queuefile\n  directory = /var/tmp/q\n")
    config = load(str(conf))
    assert config.transports[0].driver == "queuefile"
    assert config.transports[0].get("directory") == "/var/tmp/q"
    assert any(m.name == "_DRIVER_TRANSPORT_QUEUEFILE" for m in config.macros)
