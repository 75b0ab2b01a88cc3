"""Option parsing and `-bP` formatting, type by type, with Exim's error texts."""

from __future__ import annotations

import grp
import pwd

import pytest

from pexim.config.errors import ConfigError
from pexim.config.main_options import MAIN_OPTIONS
from pexim.config.options import (
    HIDDEN_VALUE,
    Option,
    OptionTable,
    Settings,
    T,
    format_value,
    handle_option_line,
    parse_value,
    print_time,
    printing,
    read_string,
    read_time,
)

UNKNOWN = 'main option "%s" unknown'
ROOT_GROUP = grp.getgrgid(0).gr_name


def opt(t: T, name: str = "x", default: str | None = None) -> Option:
    return Option(name, t, default)


def error(o: Option, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_value(o, text)
    return info.value.message


def line_error(settings: Settings, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        handle_option_line(settings, text, UNKNOWN)
    assert info.value.file is None
    return info.value.message


def main_settings() -> Settings:
    return Settings(OptionTable(MAIN_OPTIONS))


# --- strings -----------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ('plain "quoted" \\n', 'plain "quoted" \\n'),
    ('"a\\tb\\nc"', "a\tb\nc"),
    ('"\\101\\x41\\x4g"', "AA\x04g"),
    ('"a\\777b"', "a\xffb".encode("latin-1").decode("utf-8", "surrogateescape")),
    ('"ab\\0cd"', "ab"),
    ('"abc\\"', 'abc"'),
    ('"\\q\\\\\\$"', "q\\$"),
    ('""', ""),
])
def test_read_string(text: str, value: str) -> None:
    assert read_string(text, "x") == value


@pytest.mark.parametrize("text, message", [
    ('"abc', "missing quote at end of string value for x"),
    ('"', "missing quote at end of string value for x"),
    ('"abc\\', "missing quote at end of string value for x"),
    ('"abc" def', "extra characters follow string value for x"),
    ('"abc"#', "extra characters follow string value for x (# is comment only at line start)"),
])
def test_read_string_errors(text: str, message: str) -> None:
    assert error(opt(T.STRING), text) == message


def test_printing_escapes_like_exim() -> None:
    assert printing("a\tb\n\x01\x7f") == "a\\tb\\n\\001\\177"
    assert printing("a\tb", escape_tab=False) == "a\tb"
    assert printing("é") == "\\303\\251"
    assert printing("é", topbit=True) == "é"


def test_string_format() -> None:
    o = opt(T.STRING, "bi_command")
    assert format_value(o, None, False) == "bi_command = "
    assert format_value(o, "a\tb", False) == "bi_command = a\\tb"
    assert format_value(o, "v", False, no_labels=True) == "v"


# --- booleans ----------------------------------------------------------------

def test_booleans_on_the_line() -> None:
    s = main_settings()
    handle_option_line(s, "no_accept_8bitmime", UNKNOWN)
    handle_option_line(s, "not_message_logs", UNKNOWN)
    handle_option_line(s, "allow_domain_literals = YES", UNKNOWN)
    handle_option_line(s, "tcp_nodelay = false", UNKNOWN)
    handle_option_line(s, "prdr_enable =", UNKNOWN)
    assert s.get("accept_8bitmime") is False and s.get("message_logs") is False
    assert s.get("allow_domain_literals") is True and s.get("tcp_nodelay") is False
    assert s.bp_line("prdr_enable") == "prdr_enable"
    assert s.bp_line("tcp_nodelay") == "no_tcp_nodelay"


@pytest.mark.parametrize("text, message", [
    ("accept_8bitmime = maybe", '"maybe" is not a valid value for the "accept_8bitmime" option'),
    ("accept_8bitmime = 1x", '"" is not a valid value for the "accept_8bitmime" option'),
    ("accept_8bitmime = yes please",
     'extra characters follow "yes" for boolean option accept_8bitmime'),
    ("accept_8bitmime junk", "extra characters follow boolean option accept_8bitmime"),
    ("accept_8bitmime #c", "extra characters follow boolean option accept_8bitmime"
     " (# is comment only at line start)"),
    ("no_accept_8bitmime = true", "extra characters follow boolean option no_accept_8bitmime"),
    ("no_auto_thaw", "negation prefix applied to a non-boolean option"),
])
def test_boolean_errors(text: str, message: str) -> None:
    assert line_error(main_settings(), text) == message


def test_expand_bool_keeps_string() -> None:
    table = OptionTable([Option("*expand_flag", T.STRING, hidden=True),
                         Option("flag", T.EXPAND_BOOL, "false")])
    s = Settings(table)
    handle_option_line(s, "flag = ${if eq{a}{a}}", UNKNOWN)
    assert s.get("flag") == "${if eq{a}{a}}"
    assert s.bp_line("flag") == "flag = ${if eq{a}{a}}"
    s2 = Settings(table)
    handle_option_line(s2, "flag = yes", UNKNOWN)
    assert s2.bp_line("flag") == "flag"


def test_bool_verify_and_bool_set() -> None:
    table = OptionTable([Option("*set_check", T.BOOL, "false", hidden=True),
                         Option("check", T.BOOL_SET, "false"),
                         Option("verify", T.BOOL_VERIFY, "false"),
                         Option("verify_recipient", T.BOOL, "false")])
    s = Settings(table)
    handle_option_line(s, "verify", UNKNOWN)
    handle_option_line(s, "no_check", UNKNOWN)
    assert s.get("verify_recipient") is True
    assert s.values["*set_check"] is True and s.get("check") is False


# --- integers ----------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("10", 10), ("0x10", 16), ("010", 8), ("1K", 1024), ("2k", 2048), ("1M", 1 << 20),
    ("1G", 1 << 30), ("-5", -5), ("+5", 5), ("2097151K", 2097151 * 1024), (" 7 ", 7),
])
def test_int_parse(text: str, value: int) -> None:
    assert parse_value(opt(T.INT), text) == value


@pytest.mark.parametrize("text, message", [
    ("", "integer expected for x"),
    ("abc", "integer expected for x"),
    ("08", "extra characters follow integer value for x"),
    ("0x", "extra characters follow integer value for x"),
    ("5 #c", "extra characters follow integer value for x (# is comment only at line start)"),
    ("1T", 'absolute value of integer "1T" is too large (overflow)'),
    ("2147483648", 'absolute value of integer "2147483648" is too large (overflow)'),
    ("2097152K", 'absolute value of integer "2097152K" is too large (overflow)'),
    ("99999999999999999999", 'absolute value of integer "99999999999999999999" is too large'
     " (overflow)"),
])
def test_int_errors(text: str, message: str) -> None:
    assert error(opt(T.INT), text) == message


def test_octint() -> None:
    o = opt(T.OCTINT, "mode")
    assert parse_value(o, "0644") == 0o644 and parse_value(o, "644") == 0o644
    assert format_value(o, 0o644, False) == "mode = 0644"
    assert format_value(o, 0, False) == "mode = 0"
    assert error(o, "9") == "octal integer expected for mode"
    assert error(o, "0x1") == "extra characters follow octal integer value for mode"


@pytest.mark.parametrize("value, shown", [
    (0, "0"), (1024, "1K"), (1025, "1025"), (2 << 20, "2M"), (1 << 30, "1024M"), (-1024, "-1K"),
])
def test_mkint_format(value: int, shown: str) -> None:
    assert format_value(opt(T.MKINT, "m"), value, False) == f"m = {shown}"


@pytest.mark.parametrize("text, shown", [
    ("1024", "1M"), ("100", "100K"), ("10M", "10M"), ("1048576", "1G"), ("1T", "1T"),
    ("1P", "1024T"), ("1Z", "1073741824T"), ("-1", "-1K"), ("0", "0"), ("1k", "1K"),
])
def test_kint(text: str, shown: str) -> None:
    o = opt(T.KINT, "k")
    assert format_value(o, parse_value(o, text), False) == f"k = {shown}"


def test_kint_errors() -> None:
    o = opt(T.KINT, "k")
    assert error(o, "1.5M") == "extra characters follow integer value for k"
    assert "too large" in error(o, "9007199254740992M")


# --- fixed point -------------------------------------------------------------

@pytest.mark.parametrize("text, shown", [
    ("2.5", "2.5"), ("2", "2.0"), ("0.25", "0.25"), ("1.05", "1.05"), ("2.12345", "2.123"),
    ("2.", "2.0"), ("3000000", ""), ("99999999999", "276446.232"),
])
def test_fixed(text: str, shown: str) -> None:
    o = opt(T.FIXED, "load")
    line = format_value(o, parse_value(o, text), False)
    assert line == (f"load = {shown}" if shown else "load =")


@pytest.mark.parametrize("text, message", [
    (".5", "fixed-point number expected for load"),
    ("-1", 'integer "-1" is too large (overflow)'),
    ("2.5x", "extra characters follow fixed-point value for load"),
    ("0x10", "extra characters follow fixed-point value for load"),
])
def test_fixed_errors(text: str, message: str) -> None:
    assert error(opt(T.FIXED, "load"), text) == message


def test_fixed_unset() -> None:
    assert format_value(opt(T.FIXED, "load"), None, False) == "load ="


# --- times -------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("30s", 30), ("90m", 5400), ("1d6h30m", 109800), ("1w", 604800), ("1h1h", 7200),
    ("4294967297s", 1), ("30", -1), ("0", -1), ("1.5s", -1), ("1h 2m", -1), ("", -1),
    ("2147483648s", -1), ("4000w", -1), ("-5s", -1),
])
def test_read_time(text: str, seconds: int) -> None:
    """Invalid (-1) is any negative result: int overflow wraps negative, as in C."""
    got = read_time(text)
    assert got == seconds if seconds >= 0 else got < 0


@pytest.mark.parametrize("seconds, shown", [
    (0, "0s"), (30, "30s"), (5400, "1h30m"), (604800, "1w"), (86400, "1d"),
    (2147483647, "3550w5d3h14m7s"), (-5, "-5s"),
])
def test_print_time(seconds: int, shown: str) -> None:
    assert print_time(seconds) == shown


def test_time_option() -> None:
    o = opt(T.TIME, "retry_data_expire")
    assert format_value(o, parse_value(o, "1d6h"), False) == "retry_data_expire = 1d6h"
    assert error(o, "5x") == "invalid time value for retry_data_expire"


def test_timelist() -> None:
    o = opt(T.TIMELIST, "delay_warning")
    assert parse_value(o, "1h : 2h") == (3600, 7200)
    assert parse_value(o, "0s:1h") == ()
    assert parse_value(o, "") == ()
    assert format_value(o, (3600, 86400), False) == "delay_warning = 1h:1d"
    assert error(o, "2h:1h") == "time value out of order for delay_warning"
    assert error(o, "1h:") == "invalid time value for delay_warning"
    many = ":".join(f"{n}h" for n in range(1, 12))
    assert error(o, many) == "too many time values for delay_warning"


def test_time_or_expand() -> None:
    o = opt(T.TIME_OR_EXPAND, "smtp_receive_timeout")
    assert parse_value(o, "$acl_c_t") == "$acl_c_t"
    assert format_value(o, "$a\tb", False) == "smtp_receive_timeout = $a\\tb"
    assert format_value(o, 90, False) == "smtp_receive_timeout = 1m30s"
    assert error(o, '"5m"') == "invalid time value for smtp_receive_timeout"


# --- users and groups ----------------------------------------------------------

def test_uid_and_matching_group() -> None:
    mail = pwd.getpwnam("mail")
    s = main_settings()
    handle_option_line(s, "system_filter_user = mail", UNKNOWN)
    assert s.get("system_filter_user") == mail.pw_uid
    assert s.get("system_filter_group") == mail.pw_gid
    assert s.bp_line("system_filter_user") == "system_filter_user = mail"
    assert s.bp_line("*set_system_filter_group") == "*set_system_filter_group"


def test_group_set_first_is_kept() -> None:
    s = main_settings()
    handle_option_line(s, "system_filter_group = 0", UNKNOWN)
    handle_option_line(s, "system_filter_user = mail", UNKNOWN)
    assert s.bp_line("system_filter_group") == f"system_filter_group = {ROOT_GROUP}"


def test_uid_unset_and_numbers() -> None:
    s = main_settings()
    assert s.bp_line("system_filter_user") == "system_filter_user = "
    assert s.bp_line("never_users") == "never_users ="
    handle_option_line(s, "never_users = -1:0:99999", UNKNOWN)
    assert s.bp_line("never_users") == "never_users = 4294967295:root:99999"
    assert s.bp_line("never_users", no_labels=True) == "4294967295:root:99999"


@pytest.mark.parametrize("text, message", [
    ("system_filter_user = nosuch", "user nosuch was not found"),
    ("system_filter_group = nosuch", "group nosuch was not found"),
    ("never_users = root::mail", "user root:mail was not found"),
    ("never_users = :", "user  was not found"),
    ("trusted_groups = nosuch", "group nosuch was not found"),
])
def test_uid_errors(text: str, message: str) -> None:
    assert line_error(main_settings(), text) == message


def test_uid_list_separators() -> None:
    s = main_settings()
    handle_option_line(s, "trusted_users = <; root ; mail", UNKNOWN)
    assert s.get("trusted_users") == (0,)       # Exim counts items by colons


def test_gid_printed_signed() -> None:
    o = opt(T.GID, "g")
    assert format_value(o, 0xFFFFFFFF, True) == "g = -1"
    assert format_value(o, 0, False) == "g = "


def test_expand_uid() -> None:
    table = OptionTable([Option("*expand_group", T.STRING, hidden=True),
                         Option("*expand_user", T.STRING, hidden=True),
                         Option("*set_group", T.BOOL, "false", hidden=True),
                         Option("*set_user", T.BOOL, "false", hidden=True),
                         Option("group", T.EXPAND_GID),
                         Option("user", T.EXPAND_UID)])
    s = Settings(table)
    handle_option_line(s, 'user = "$local_part\\t"', UNKNOWN)
    assert s.get("user") == "$local_part\t"
    assert s.bp_line("user") == "user = $local_part\t"
    assert s.bp_line("group") == "group = "
    s2 = Settings(table)
    handle_option_line(s2, "user = root", UNKNOWN)
    assert s2.bp_line("user") == "user = root"
    assert s2.bp_line("group") == f"group = {ROOT_GROUP}"


# --- the line grammar ------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("foo = 3", 'main option "foo" unknown'),
    ("no_foo", 'main option "no_foo" unknown'),
    ("hide hide acl_smtp_rcpt = x", 'main option "hide" unknown'),
    ("hide", 'main option "" unknown'),
    ("_foo = 3", "option setting expected: _foo = 3"),
    ("a" * 70 + " = 1", 'main option "' + "a" * 63 + '" unknown'),
    ("auto_thaw", "unexpected end of line (data missing) after auto_thaw"),
    ("auto_thaw 3", 'missing "=" after auto_thaw'),
])
def test_line_errors(text: str, message: str) -> None:
    assert line_error(main_settings(), text) == message


def test_set_twice_and_synonyms() -> None:
    s = main_settings()
    handle_option_line(s, "accept_8bitmime", UNKNOWN)
    assert line_error(s, "no_accept_8bitmime") == \
        '"no_accept_8bitmime" option set for the second time'
    handle_option_line(s, "daemon_smtp_port = 25", UNKNOWN)
    handle_option_line(s, "daemon_smtp_ports = 26", UNKNOWN)
    assert s.get("daemon_smtp_port") == "26"
    assert s.is_set("daemon_smtp_ports") and not s.is_set("auto_thaw")


def test_hide() -> None:
    s = main_settings()
    handle_option_line(s, "hide tls_privatekey = /secret", UNKNOWN)
    handle_option_line(s, "hide no_prdr_enable", UNKNOWN)
    assert s.bp_line("tls_privatekey") == "tls_privatekey = /secret"
    assert s.bp_line("tls_privatekey", admin=False) == f"tls_privatekey = {HIDDEN_VALUE}"
    assert s.bp_line("prdr_enable", admin=False) == f"prdr_enable = {HIDDEN_VALUE}"
    assert s.bp_line("prdr_enable", admin=False, no_labels=True) == HIDDEN_VALUE
    lines = list(s.bp_lines(admin=False))
    assert f"tls_privatekey = {HIDDEN_VALUE}" in lines


# --- settings ----------------------------------------------------------------------

def test_main_table_shape() -> None:
    table = OptionTable(MAIN_OPTIONS)
    names = [o.name for o in MAIN_OPTIONS]
    assert names == sorted(names) and len(set(names)) == len(names)
    assert sum(not o.hidden for o in MAIN_OPTIONS) == 271
    assert table.find("smtp_receive_timeout").type is T.TIME_OR_EXPAND
    assert table.find("nosuch") is None


def test_derived_defaults() -> None:
    s = main_settings()
    handle_option_line(s, "primary_hostname = mail.example", UNKNOWN)
    handle_option_line(s, "spool_directory = /tmp/sp", UNKNOWN)
    assert s.get("qualify_recipient") == "mail.example"
    assert s.bp_line("process_log_path") == "process_log_path = /tmp/sp/exim-process.info"


def test_print_topbitchars_applies_to_printing() -> None:
    s = main_settings()
    handle_option_line(s, 'bi_command = "caf\\xc3\\xa9"', UNKNOWN)
    assert s.bp_line("bi_command") == "bi_command = caf\\303\\251"
    handle_option_line(s, "print_topbitchars", UNKNOWN)
    assert s.bp_line("bi_command") == "bi_command = café"


def test_extended_keeps_values_and_adds_defaults() -> None:
    generic = OptionTable([Option("driver", T.STRING), Option("debug_print", T.STRING)])
    s = Settings(generic)
    handle_option_line(s, "driver = pipe", UNKNOWN)
    full = s.extended(OptionTable(generic.options, [Option("timeout", T.TIME, "1h")]))
    assert full.get("driver") == "pipe" and full.is_set("driver")
    assert full.bp_line("timeout") == "timeout = 1h"
