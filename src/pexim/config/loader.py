"""Reads a whole runtime configuration into a `Config` (Exim's readconf_main/_rest).

Sections are dispatched here; the option syntax lives in options.py, logical
lines in reader.py, drivers' option tables in routers/, transports/ and auth/.
"""

from __future__ import annotations

import os

from pexim.acl import parse as acl_parse
from pexim.config import drivers
from pexim.config.errors import ConfigError, UnlocatedConfigError
from pexim.config.main_checks import check_main
from pexim.config.main_options import MAIN_OPTIONS
from pexim.config.model import Acl, Config, DriverInstance, NamedList
from pexim.config.options import OptionTable, Settings, handle_option_line, read_string
from pexim.config.reader import LineReader, MacroTable
from pexim.config.retry import parse_retry_rule
from pexim.config.rewrite import parse_rewrite_rule

_MAIN_TABLE: OptionTable | None = None

_LIST_KEYWORDS = (
    ("domainlist", "domain", "domain list"),
    ("hostlist", "host", "host list"),
    ("addresslist", "address", "address list"),
    ("localpartlist", "localpart", "local part list"),
)

# Exim looks section names up after adding a trailing "s" when missing.
_SECTIONS = ("acls", "authenticators", "local_scans", "retrys", "rewrites",
             "routers", "transports")


def main_table() -> OptionTable:
    global _MAIN_TABLE
    if _MAIN_TABLE is None:
        _MAIN_TABLE = OptionTable(MAIN_OPTIONS)
    return _MAIN_TABLE


def load(path: str, defines: dict[str, str] | None = None, warn=None) -> Config:
    """Read and check the configuration file at `path`.

    `defines` are `-D` macros from the command line: they override definitions
    in the file. Raises ConfigError, located as Exim locates it. `warn(text)`
    is called for what Exim logs and carries on after (as it reads).
    """
    from pexim.config.builtin_macros import builtin_macros

    macros = MacroTable(builtin_macros())
    for name, value in (defines or {}).items():
        macros.define_command_line(name, value)
    reader = LineReader(path, macros)
    reader.warn = warn
    abspath = os.path.abspath(path)
    config = Config(filename=path, directory=os.path.dirname(abspath),
                    main=Settings(main_table()))
    try:
        _read_main(reader, config)
        _read_rest(reader, config)
    except ConfigError as err:
        raise reader.locate(err) from None
    finally:
        reader.close()
    config.macros = macros.all()
    config.saved_lines = reader.saved_lines
    drivers.check_references(config)
    return config


def _read_main(reader: LineReader, config: Config) -> None:
    first = True
    while (line := reader.next_line()) is not None:
        if first and line.startswith("\ufeff"):
            raise reader.error("found unexpected BOM (Byte Order Mark)")
        first = False
        if line[0].isupper():
            reader.macros.assign(line)
            continue
        for keyword, kind, description in _LIST_KEYWORDS:
            if line.startswith(keyword):
                _read_named_list(config, kind, description, line[len(keyword):])
                break
        else:
            handle_option_line(config.main, line, 'main option "%s" unknown')
    check_main(config.main)


def _read_named_list(config: Config, kind: str, description: str, s: str) -> None:
    force_cache = s.startswith("_cache")
    if force_cache:
        s = s[6:]
    if not s[:1] or s[0] not in " \t":
        raise ConfigError("unrecognized configuration line")
    s = s.lstrip()
    i = 0
    while i < len(s) and (s[i].isalnum() or s[i] == "_"):
        i += 1
    name, s = s[:i], s[i:].lstrip()
    lists = config.named_lists[kind]
    if name in lists:
        raise ConfigError(f'duplicate name "{name}" for a named {description}')
    if not s.startswith("="):
        raise ConfigError(f"missing '=' after \"{name}\"")
    text = read_string(s[1:].lstrip(), name)
    lists[name] = NamedList(kind, name, text, force_cache or "$" not in text)


def _read_rest(reader: LineReader, config: Config) -> None:
    seen: set[str] = set()
    while reader.next_section is not None:
        name = reader.next_section
        key = name if name[-1:].lower() == "s" else name + "s"
        if key.lower() not in _SECTIONS:
            raise reader.error(f'"{name}" is not a known configuration section name')
        key = key.lower()
        if key in seen:
            raise reader.error(f'"{name}" section is repeated in the configuration file')
        seen.add(key)
        if key == "acls":
            _read_acls(reader, config)
        elif key == "retrys":
            while (line := reader.next_line()) is not None:
                config.retry_rules.append(parse_retry_rule(line, reader.error,
                                                            reader.warn))
        elif key == "rewrites":
            while (line := reader.next_line()) is not None:
                config.rewrite_rules.append(parse_rewrite_rule(line, reader.error))
        elif key == "local_scans":
            raise reader.error("local_scan() options not supported: "
                               "(LOCAL_SCAN_HAS_OPTIONS not defined in Local/Makefile)")
        else:
            kind = {"routers": "router", "transports": "transport",
                    "authenticators": "authenticator"}[key]
            _read_drivers(reader, config, kind)


def _read_name(line: str) -> tuple[str, str]:
    """Exim's readconf_readname: a leading name and the rest after white space."""
    s = line.lstrip()
    i = 0
    if s[:1].isalpha():
        while i < len(s) and (s[i].isalnum() or s[i] == "_"):
            i += 1
    return s[:i], s[i:].lstrip()


def _read_drivers(reader: LineReader, config: Config, kind: str) -> None:
    """One driver section (readconf_driver_init)."""
    instances = config.drivers(kind)
    current: DriverInstance | None = None
    generic = drivers.generic_table(kind)
    while (line := reader.next_line()) is not None:
        name, rest = _read_name(line)
        if name[:1].isupper() and rest.startswith("="):
            _finish_driver(current, kind)
            current = None
            reader.macros.assign(line)
            continue
        if rest.startswith(":"):
            _finish_driver(current, kind)
            if any(d.name == name for d in instances):
                raise UnlocatedConfigError(f'there are two {kind}s called "{name}"')
            extra = rest[1:].lstrip()
            if extra:
                comment = " (# is comment only at line start)" if extra[0] == "#" else ""
                raise reader.error(f"extra characters follow driver name {name}{comment}")
            current = DriverInstance(kind, name, reader.filename, reader.lineno,
                                     settings=Settings(generic))
            instances.append(current)
            continue
        if current is None:
            raise reader.error(f"{kind} name missing")
        option = _option_name(line)
        if generic.find(option) is not None:
            handle_option_line(current.settings, line, 'option "%s" unknown')
            if current.driver is None and current.settings.is_set("driver"):
                _init_driver(current, kind, reader)
        elif current.driver is not None:
            handle_option_line(current.settings, line, 'option "%s" unknown')
        else:
            raise reader.error(f'option "{name}" unknown '
                               '("driver" must be specified before any private options)')
    _finish_driver(current, kind)


def _option_name(line: str) -> str:
    """The option a line sets, without `hide` and `no_`/`not_` prefixes."""
    name, rest = _read_name(line)
    if name == "hide":
        name, rest = _read_name(rest)
    for prefix in ("no_", "not_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _init_driver(instance: DriverInstance, kind: str, reader: LineReader) -> None:
    driver = instance.settings.get("driver")
    table = drivers.option_table(kind, driver)
    if table is None:
        raise reader.error(f'{kind} {instance.name}: cannot find {kind} driver "{driver}"')
    instance.driver = driver
    instance.settings = instance.settings.extended(table)


def _finish_driver(instance: DriverInstance | None, kind: str) -> None:
    if instance is None:
        return
    if instance.driver is None:
        raise UnlocatedConfigError(f'no driver defined for {kind} "{instance.name}"')
    drivers.check_instance(kind, instance)


def _read_acls(reader: LineReader, config: Config) -> None:
    """Named ACLs, parsed line by line so errors carry the line (readconf_acl)."""
    current: Acl | None = None
    while (line := reader.next_line()) is not None:
        name, rest = _read_name(line)
        if name[:1].isupper() and rest.startswith("="):
            reader.macros.assign(line)
            current = None
            continue
        if current is None or acl_parse.starts_new_acl(line):
            if not rest.startswith(":") or not name:
                raise reader.error("missing or malformed ACL name")
            if name in config.acls:
                raise reader.error(f'there are two ACLs called "{name}"')
            current = Acl(name, reader.filename, reader.lineno)
            config.acls[name] = current
            continue
        try:
            acl_parse.add_line(current.statements, line, reader._src.filename, reader._src.lineno)
        except acl_parse.AclSyntaxError as err:
            raise reader.error(f"error in ACL: {err}") from None
