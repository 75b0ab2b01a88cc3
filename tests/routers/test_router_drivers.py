"""Router driver tables and init checks (messages as Exim 4.96 words them)."""

import pytest
from driver_fakes import error, instance

from pexim.config import drivers


def test_registry_lists_debian_routers_and_rejects_others():
    assert drivers.driver_names("router") == ("accept", "dnslookup", "ipliteral", "iplookup",
                                              "manualroute", "queryprogram", "redirect")
    assert drivers.option_table("router", "nosuch") is None
    assert drivers.driver_module("router", "base") is None


def test_generic_options_come_first_then_private_each_sorted():
    names = [o.name for o in drivers.options_in_order("router", "iplookup")]
    generic = [o.name for o in drivers.base_module("router").GENERIC_OPTIONS]
    assert names[:len(generic)] == sorted(generic)
    assert names[len(generic):] == ["hosts", "optional", "port", "protocol", "query",
                                    "reroute", "response_pattern", "timeout"]


def test_accept_changes_the_log_as_local_default_only_for_itself():
    def default(driver):
        return next(o.default for o in drivers.options_in_order("router", driver)
                    if o.name == "log_as_local")
    assert (default("accept"), default("dnslookup")) == ("true", "false")


def test_every_option_is_declared_unsupported():
    for name in drivers.driver_names("router"):
        assert not any(o.supported for o in drivers.options_in_order("router", name))


@pytest.mark.parametrize("driver,values,message", [
    ("accept", {}, "Exim configuration error:\n  x1 router:\n"
                   "  a transport is required for this router"),
    ("accept", {"verify_only": True}, ""),
    ("redirect", {"data": "a", "transport": "t"},
     "Exim configuration error:\n  x1 router:\n  a transport must not be defined for this router"),
    ("dnslookup", {"transport": "t", "self": "bad"},
     "Exim configuration error for x1 router:\n  bad is not valid for the self option"),
    ("dnslookup", {"transport": "t", "self": "reroute: rewrite: a.b"}, ""),
    ("iplookup", {"hosts": "h"}, "Exim configuration error for x1 router:\n"
                                 "  a port must be specified"),
    ("iplookup", {"port": 53}, "Exim configuration error for x1 router:\n"
                               "  a host list must be specified"),
    ("manualroute", {"route_list": "* h", "host_all_ignored": "ignore"},
     "Exim configuration error for x1 router:\n"
     "  unrecognized setting for host_all_ignored option"),
    ("manualroute", {}, "Exim configuration error for x1 router:\n"
                        "  route_list or route_data (but not both) must be specified"),
    ("queryprogram", {"command": "/bin/true"},
     "Exim configuration error for x1 router:\n  command_user must be specified"),
    ("redirect", {"data": "a", "file": "/f"},
     'Exim configuration error for x1 router:\n  only one of "file" or "data" must be specified'),
    ("redirect", {"data": "a", "allow_filter": True},
     'Exim configuration error for x1 router:\n'
     '  "user" or "check_local_user" must be set with "allow_filter"'),
])
def test_init_checks(driver, values, message):
    assert error("router", driver, **values) == message


def test_retry_use_local_part_follows_check_local_user_unless_set():
    derived = drivers.derived_values
    assert derived("router", instance("router", "redirect", data="a", check_local_user=True))[
        "retry_use_local_part"] is True
    assert "retry_use_local_part" not in derived(
        "router", instance("router", "redirect", data="a", retry_use_local_part=False))


def test_redirect_one_time_forbids_files_pipes_and_replies():
    got = drivers.derived_values("router", instance("router", "redirect", data="a",
                                                    one_time=True))
    assert got["forbid_file"] and got["forbid_pipe"] and got["forbid_filter_reply"]


def test_init_errors_carry_no_file_line():
    err = drivers.DriverError("x")
    assert err.located("f", 3).file is None
