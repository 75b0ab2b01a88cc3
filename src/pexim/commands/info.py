"""`-bV` (version and build features) and `-bP` (print configuration values)."""

from __future__ import annotations

import os
import sys

from pexim import EXIM_VERSION, __version__, build
from pexim.config import drivers
from pexim.config.drivers_bp import driver_bp_lines
from pexim.environment import cleaned_environment

_HIDDEN = "<value not displayable>"
_DRIVER_KINDS = ("router", "transport", "authenticator")
_LIST_TYPES = (("address", "address"), ("domain", "domain"), ("host", "host"),
               ("localpart", "localpart"))


def print_version() -> None:
    out = sys.stdout.write
    out(f"Exim version {EXIM_VERSION} #1 built {build.build_date()}\n")
    out(f"pexim {__version__}: an Exim-compatible MTA in Python "
        f"{sys.version.split()[0]}\n")
    out(f"Support for: {' '.join(build.SUPPORT_FOR)}\n")
    out(f"Lookups (built-in): {' '.join(build.LOOKUPS)}\n")
    for title, kind in (("Authenticators", "authenticator"), ("Routers", "router"),
                        ("Transports", "transport")):
        out(f"{title}: {' '.join(drivers.driver_names(kind))}\n")
    out(f"Fixed never_users: {':'.join(str(u) for u in build.FIXED_NEVER_USERS)}\n")
    out("Configure owner: 0:0\n")
    out("Size of off_t: 8\n")


def print_help() -> int:
    sys.stdout.write(
        "pexim accepts Exim's command line; see the Exim specification, chapter\n"
        "\"The Exim command line\", and docs/features.md for what pexim implements.\n")
    return 0


def is_admin(config) -> bool:
    """Exim's admin user: root, the Exim user, or a member of the Exim group or of
    admin_groups (they may see `hide` values and macros)."""
    uid = os.getuid()
    if uid == 0 or uid == config.main.get("exim_user"):
        return True
    groups = {os.getgid(), *os.getgroups()}
    admin = {config.main.get("exim_group"), *(config.main.get("admin_groups") or ())}
    return bool(groups & admin)


def print_options(config, args: list[str], no_labels: bool = False) -> int:
    """Exim's readconf_print for each argument; the exit code follows the last one."""
    if not args:
        args = ["all"]
    ok = True
    i = 0
    while i < len(args):
        name = args[i]
        if i < len(args) - 1 and name in (*_DRIVER_KINDS, "macro"):
            ok = _print_one(config, args[i + 1], name, no_labels)
            i += 2
        else:
            ok = _print_one(config, name, None, no_labels)
            i += 1
    return 0 if ok else 1


def _print_one(config, name: str, kind: str | None, no_labels: bool) -> bool:
    out = sys.stdout.write
    admin = is_admin(config)
    if kind is None:
        if name.startswith("+"):
            return _print_named_list(config, name[1:], no_labels)
        if name in ("config_file", "configure_file"):
            out(config.filename + "\n")
            return True
        if name == "all":
            for line in config.main.bp_lines(admin=admin, no_labels=no_labels):
                out(line + "\n")
            return True
        if name == "local_scan":
            out("local_scan() options are not supported\n")
            return False
        if name == "config":
            _print_config(config, admin, no_labels)
            return True
        if name == "environment":
            env = cleaned_environment(config.main, os.environ)
            for key in sorted(env):
                out((key if no_labels else f"{key}={env[key]}") + "\n")
            return True
        plural = {"routers": "router", "transports": "transport",
                  "authenticators": "authenticator", "macros": "macro"}
        lists = {"router_list": "router", "transport_list": "transport",
                 "authenticator_list": "authenticator", "macro_list": "macro"}
        if name in plural:
            return _print_one_kind(config, None, plural[name], no_labels, names_only=False)
        if name in lists:
            return _print_one_kind(config, None, lists[name], no_labels, names_only=True)
        line = config.main.bp_line(name, admin=admin, no_labels=no_labels)
        if line is None:
            out(f"{name} is not a known option\n")
            return False
        out(line + "\n")
        return True
    return _print_one_kind(config, name, kind, no_labels, names_only=False)


def _print_one_kind(config, name, kind, no_labels, names_only) -> bool:
    out = sys.stdout.write
    if kind == "macro":
        if not is_admin(config):
            sys.stderr.write("exim: permission denied\n")
            return False
        for m in config.macros:
            if name is None or m.name == name:
                if names_only:
                    out(m.name + "\n")
                elif no_labels:
                    out(m.value + "\n")
                else:
                    out(f"{m.name}={m.value}\n")
                if name is not None:
                    return True
        if name is None:
            return True
        out(f"macro {name} not found\n")
        return False
    for d in config.drivers(kind):
        if names_only:
            out(d.name + "\n")
            continue
        if name is None:
            out(f"\n{d.name} {kind}:\n")
        elif d.name != name:
            continue
        for line in driver_bp_lines(d, admin=is_admin(config), no_labels=no_labels):
            out(line + "\n")
        if name is not None:
            return True
    if name is None:
        return True
    out(f"{kind} {name} not found\n")
    return False


def _print_named_list(config, name: str, no_labels: bool) -> bool:
    found = False
    for kind, word in _LIST_TYPES:
        nl = config.named_lists[kind].get(name)
        if nl is not None:
            found = True
            sys.stdout.write((nl.text if no_labels else f"{word}list {name} = {nl.text}") + "\n")
    if not found:
        sys.stdout.write(f'no address, domain, host, or local part list called "{name}" exists\n')
    return found


def _print_config(config, admin: bool, terse: bool) -> None:
    """`-bP config`: the logical lines as read, re-indented (Exim's print_config)."""
    out = sys.stdout.write
    ts = 0 if terse else 2
    indent = 0
    out(f"# Exim Configuration ({EXIM_VERSION})\n")
    for raw in config.saved_lines:
        current = raw.lstrip()
        if not current:
            continue
        current = _collapse_spaces(current)
        if current.startswith("#"):
            out(current + "\n")
        elif current.startswith("begin") and current[5:6].isspace():
            if not terse:
                out("\n")
            out(current + "\n")
            indent = ts
        elif current.endswith(":") and "=" not in current:
            if not terse:
                out("\n")
            out(" " * ts + current + "\n")
            indent = 2 * ts
        elif not admin and (current[0].isupper()
                            or (current.startswith("hide") and current[4:5].isspace())):
            if "=" in current:
                out(" " * indent + current[:current.index("=")] + "= " + _HIDDEN + "\n")
            else:
                out(_HIDDEN.rjust(indent) + "\n")
        else:
            out(" " * indent + current + "\n")


def _collapse_spaces(s: str) -> str:
    """Collapse white space runs, stopping at a quote or `$` (careful formatting).

    This is Exim's print_config() loop, quirk included: after a run has been
    squeezed with memmove(), the stop test looks at the character at the run's
    *old* end offset in the shifted buffer (or at stale bytes past the new end),
    so a run longer than one character usually does not stop collapsing.
    """
    buf = list(s) + ["\0"]
    p = 0
    while buf[p] != "\0":
        if buf[p] in _C_SPACE:
            buf[p] = " "
            nxt = p
            while buf[nxt] in _C_SPACE:
                nxt += 1
            if nxt - p > 1:
                tail = buf[nxt:buf.index("\0", nxt) + 1]
                buf[p + 1:p + 1 + len(tail)] = tail
            if buf[nxt] in "\"'$":
                break
        p += 1
    return "".join(buf[:buf.index("\0")])


_C_SPACE = " \t\n\v\f\r"
