"""What every router does around its driver (Exim's route.c checks and rf_*.c helpers).

``check_preconditions`` runs the generic preconditions in Exim's order and
says whether the router is skipped; the ``rf_*``-style helpers are what the
drivers call to finish a successful routing (errors_to, headers, transport,
uid/gid, queueing), so every driver behaves the same way.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass

from pexim.delivery.address import FAIL, OK, PASS, AddressItem, Host
from pexim.expand import ExpansionError, ForcedFail, Tainted, compile_cached
from pexim.lists import ListDefer, iter_list, match_address, match_domain, match_localpart

SKIP = "skip"


class RouterDefer(Exception):
    """A router (or its preconditions) deferred with this message."""

    def __init__(self, message: str, errno: int = 0):
        super().__init__(message)
        self.message = message
        self.errno = errno


@dataclass
class PwEntry:
    """The bits of a passwd entry routers use (check_local_user)."""

    name: str
    uid: int
    gid: int
    dir: str


def find_user(name: str) -> PwEntry | None:
    try:
        pw = pwd.getpwnam(name)
    except (KeyError, ValueError):
        return None
    return PwEntry(pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir)


def expand(rctx, addr: AddressItem, text: str, ctx=None) -> str:
    """Expand an option for this address; ExpansionError/ForcedFail propagate."""
    return compile_cached(text).evaluate(ctx if ctx is not None else rctx.expand_context(addr))


def expand_bool(rctx, addr, r, option: str) -> bool:
    """exp_bool(): `more` and `unseen` may be expanded strings."""
    value = r.get(option)
    if not isinstance(value, str):
        return bool(value)
    default = option == "more"
    try:
        text = expand(rctx, addr, value)
    except ForcedFail:
        return default
    except ExpansionError as e:
        raise RouterDefer(f'failed to expand "{option}" in {r.name} router: {e.message}') \
            from None
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    raise RouterDefer(f'"{text}" is not a valid value for the "{option}" option in the '
                      f'{r.name} router')


# -- preconditions ---------------------------------------------------------------

def _affix(local_part: str, affixes: str, prefix: bool) -> int:
    """route_check_prefix/suffix: length of the first matching affix (0: none)."""
    low = local_part.lower()
    for item in iter_list(affixes):
        a = item.lower()
        if not a:
            continue
        if prefix:
            if a.startswith("*"):
                tail = a[1:]
                pos = low.rfind(tail) if tail else len(low)
                if pos >= 0 and pos + len(tail) <= len(low):
                    return pos + len(tail)
            elif low.startswith(a) and len(a) <= len(low):
                return len(a)
        else:
            if a.endswith("*"):
                head = a[:-1]
                pos = low.find(head)
                if pos >= 0:
                    return len(low) - pos
            elif low.endswith(a):
                return len(a)
    return 0


def strip_affixes(r, addr: AddressItem, caseful: bool) -> bool:
    """Set the local part for this router, stripping prefix/suffix; False: skip."""
    addr.prefix = addr.suffix = ""
    lp = addr.cc_local_part if caseful else addr.cc_local_part.lower()
    prefixes = r.get("local_part_prefix")
    if prefixes:
        n = _affix(lp, prefixes, True)
        if n:
            addr.prefix, lp = lp[:n], lp[n:]
        elif not r.get("local_part_prefix_optional"):
            return False
    suffixes = r.get("local_part_suffix")
    if suffixes:
        n = _affix(lp, suffixes, False)
        if n:
            addr.suffix, lp = lp[len(lp) - n:], lp[:len(lp) - n]
        elif not r.get("local_part_suffix_optional"):
            return False
    addr.local_part = Tainted(lp)
    return True


def _check_list(rctx, r, addr, option: str, check):
    """route_check_dls(): expand the list, match; (matched, value) or RouterDefer."""
    text = r.get(option)
    if text is None:
        return True, None
    ctx = rctx.expand_context(addr)
    try:
        lst = expand(rctx, addr, text, ctx)
    except ForcedFail:
        return False, None
    except ExpansionError as e:
        rctx.log_panic(f'failed to expand "{text}" while checking a list: {e.message}')
        raise RouterDefer(f"{option} check lookup or other defer") from None
    try:
        return check(ctx, lst)
    except ListDefer:
        raise RouterDefer(f"{option} check lookup or other defer") from None


def check_preconditions(rctx, r, addr: AddressItem) -> str:
    """check_router_conditions(): OK, or SKIP; raises RouterDefer."""
    verify = rctx.verify
    if (verify == "sender" and not r.get("verify_sender")) or \
            (verify == "recipient" and not r.get("verify_recipient")):
        return SKIP
    if r.get("verify_only") and verify is None:
        return SKIP
    if rctx.test and not r.get("address_test"):
        return SKIP
    if rctx.expn and not r.get("expn"):
        return SKIP
    ok, value = _check_list(rctx, r, addr, "domains",
                            lambda ctx, lst: match_domain(ctx, addr.domain, lst))
    if not ok:
        return SKIP
    if r.get("domains") is not None:
        addr.domain_data = value if value is not None else str(addr.domain)
    caseful = bool(r.get("caseful_local_part"))
    check_lp = addr.cc_local_part
    if addr.prefix:
        check_lp = check_lp[len(addr.prefix):]
    if addr.suffix:
        check_lp = check_lp[:len(check_lp) - len(addr.suffix)]
    ok, value = _check_list(rctx, r, addr, "local_parts",
                            lambda ctx, lst: match_localpart(ctx, check_lp, lst,
                                                             caseless=not caseful))
    if not ok:
        return SKIP
    if r.get("local_parts") is not None:
        addr.local_part_data = value if value is not None else str(addr.local_part)
    pw = None
    if r.get("check_local_user"):
        pw = rctx.find_user(str(addr.local_part))
        if pw is None:
            return SKIP
        addr.home_dir = pw.dir
        addr.extra["pw"] = pw
        addr.local_part_data = pw.name
    home = r.get("router_home_directory")
    if home is not None:
        try:
            addr.home_dir = expand(rctx, addr, home)
        except ForcedFail:
            pass
        except ExpansionError as e:
            raise RouterDefer(f'failed to expand "{home}" for router_home_directory: '
                              f'{e.message}') from None
    # While a sender is verified, $sender_address is <> (as for a bounce to it).
    sender = "" if verify == "sender" else (rctx.sender or "")
    ok, _ = _check_list(rctx, r, addr, "senders",
                        lambda ctx, lst: match_address(ctx, sender, lst))
    if not ok:
        return SKIP
    debug_print = r.get("debug_print")
    if debug_print is not None and rctx.debug is not None:
        try:
            rctx.debug(expand(rctx, addr, debug_print))
        except ExpansionError:
            pass
    if r.get("require_files") is not None and check_files(rctx, r, addr) == SKIP:
        return SKIP
    condition = r.get("condition")
    if condition is not None:
        for cond in condition if isinstance(condition, list) else [condition]:
            if not _condition_true(rctx, r, addr, cond):
                return SKIP
    return OK


def _condition_true(rctx, r, addr, cond: str) -> bool:
    ctx = rctx.expand_context(addr)
    try:
        text = expand(rctx, addr, cond, ctx)
    except ForcedFail:
        return False
    except ExpansionError as e:
        if ctx.extra.get("search_error"):
            raise RouterDefer("condition check lookup defer") from None
        rctx.log_panic(f'failed to expand condition "{cond}" for {r.name} router: '
                       f'{e.message}')
        return False
    return text.lower() not in ("", "0", "no", "false")


def check_files(rctx, r, addr) -> str:
    """require_files: each item must exist (or, with '!', not exist); SKIP if not."""
    try:
        text = expand(rctx, addr, r.get("require_files"))
    except ForcedFail:
        return OK
    except ExpansionError as e:
        raise RouterDefer(f'failed to expand "{r.get("require_files")}" for require_files: '
                          f'{e.message}') from None
    for item in iter_list(text):
        want = True
        while item.startswith("!"):
            want = not want
            item = item[1:].lstrip()
        if not item.startswith("/"):
            continue            # a user or group to test as: pexim tests as itself
        try:
            os.stat(item)
            exists = True
        except FileNotFoundError:
            exists = False
        except NotADirectoryError:
            exists = False
        except OSError as e:
            raise RouterDefer(f"require_files: error for {item}: {e.strerror}") from None
        if exists != want:
            return SKIP
    return OK


# -- after the driver: rf_* helpers ----------------------------------------------

def get_errors_address(rctx, r, addr) -> None:
    """rf_get_errors_address(): errors_to, verified as a recipient when delivering."""
    text = r.get("errors_to")
    if text is None:
        return
    try:
        value = expand(rctx, addr, text)
    except ForcedFail:
        return
    except ExpansionError as e:
        raise RouterDefer(f'failed to expand "{text}" in {r.name} router: {e.message}') \
            from None
    if not value:
        addr.errors_address = ""
        return
    if rctx.verify is not None or rctx.test or rctx.errors_to_verifier is None:
        addr.errors_address = value
        return
    if rctx.errors_to_verifier(value):
        addr.errors_address = value


def get_munge_headers(rctx, r, addr) -> None:
    """rf_get_munge_headers(): headers_add / headers_remove, expanded now."""
    for option, target in (("headers_add", addr.extra_headers),
                           ("headers_remove", addr.remove_headers)):
        value = r.get(option)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            try:
                text = expand(rctx, addr, item)
            except ForcedFail:
                continue
            except ExpansionError as e:
                raise RouterDefer(f'failed to expand "{item}" in {r.name} router: '
                                  f'{e.message}') from None
            if option == "headers_add":
                if text:
                    target.append(text if text.endswith("\n") else text + "\n")
            else:
                target.extend(i for i in iter_list(text) if i)


def get_transport(rctx, r, addr, option: str = "transport", text: str | None = None):
    """rf_get_transport(): the (expanded) transport name, checked to exist."""
    if text is None:
        text = r.get(option)
    if text is None:
        return None
    name = text
    if "$" in text:
        try:
            name = expand(rctx, addr, text)
        except ExpansionError as e:
            raise RouterDefer(f'failed to expand transport "{text}" in {r.name} router: '
                              f'{e.message}') from None
        if isinstance(name, Tainted):
            raise RouterDefer(f'attempt to use tainted value "{name}" from "{text}" for '
                              f'transport in {r.name} router')
    if rctx.config_transport(name) is None:
        raise RouterDefer(f'transport "{name}" not found in {r.name} router')
    return str(name)


def get_ugid(rctx, r, addr) -> None:
    """rf_get_ugid(): user/group/initgroups, else check_local_user's uid and gid."""
    pw = addr.extra.get("pw")
    user, group = r.get("user"), r.get("group")
    uid = gid = None
    if user is not None:
        if isinstance(user, str):
            try:
                name = expand(rctx, addr, user)
            except ExpansionError as e:
                raise RouterDefer(f'Failed to expand user string "{user}" for the {r.name} '
                                  f'router: {e.message}') from None
            found = find_user(name) if not name.isdigit() else None
            if name.isdigit():
                uid = int(name)
            elif found is None:
                raise RouterDefer(f'Failed to find user "{name}" from expanded string '
                                  f'"{user}" for the {r.name} router')
            else:
                uid, gid = found.uid, found.gid
        else:
            uid = int(user)
            try:
                gid = pwd.getpwuid(uid).pw_gid
            except KeyError:
                gid = None
    elif pw is not None:
        uid, gid = pw.uid, pw.gid
    if group is not None:
        if isinstance(group, str):
            import grp
            try:
                name = expand(rctx, addr, group)
            except ExpansionError as e:
                raise RouterDefer(f'Failed to expand group string "{group}" for the '
                                  f'{r.name} router: {e.message}') from None
            try:
                gid = int(name) if name.isdigit() else grp.getgrnam(name).gr_gid
            except KeyError:
                raise RouterDefer(f'Failed to find group "{name}" from expanded string '
                                  f'"{group}" for the {r.name} router') from None
        else:
            gid = int(group)
    if uid is not None:
        addr.uid = uid
    if gid is not None:
        addr.gid = gid
    addr.initgroups = bool(r.get("initgroups"))


def queue_add(rctx, r, addr, out) -> None:
    """rf_queue_add(): the address goes to a local or a remote transport list."""
    get_ugid(rctx, r, addr)
    if addr.transport is not None and rctx.transport_is_local(addr.transport):
        out.local.append(addr)
    else:
        out.remote.append(addr)


def finish(rctx, r, addr, out, transport_option: str = "transport") -> str:
    """What accept-like drivers do: errors_to, headers, transport, then queue."""
    get_errors_address(rctx, r, addr)
    get_munge_headers(rctx, r, addr)
    addr.transport = get_transport(rctx, r, addr, transport_option)
    queue_add(rctx, r, addr, out)
    return OK


# -- hosts -----------------------------------------------------------------------

def self_action(rctx, r, addr, host: Host, out) -> str:
    """rf_self_action(): the first host is this host."""
    code = r.get("self") or "freeze"
    addr.self_hostname = host.name
    msg = "lowest numbered MX record points to local host" if host.mx >= 0 else \
        "remote host address is the local host"
    if code == "freeze":
        rctx.log_main(f"{msg}: {addr.domain} (while routing <{addr.address}>)")
        addr.message = msg
        addr.frozen = True
        raise RouterDefer(msg)
    if code == "defer":
        addr.message = msg
        raise RouterDefer(msg)
    if code == "fail":
        addr.message = msg
        addr.basic_errno = -1
        return FAIL
    if code == "pass":
        addr.self_hostname = host.name
        return PASS
    if code == "send":
        return OK
    if code.startswith("reroute:"):
        new_domain = code[8:]
        rewrite = new_domain.startswith("rewrite:")
        if rewrite:
            new_domain = new_domain[8:]
        out.new.append(addr.child(f"{addr.local_part}@{new_domain}"))
        return "rerouted"
    return OK


def remove_ignored(rctx, r, addr, hosts: list[Host]) -> list[Host]:
    """ignore_target_hosts: drop matching hosts (by address)."""
    text = r.get("ignore_target_hosts")
    if not text:
        return hosts
    from pexim.lists import match_ip
    ctx = rctx.expand_context(addr)
    try:
        lst = expand(rctx, addr, text, ctx)
    except ExpansionError:
        return hosts
    return [h for h in hosts if not (h.address and match_ip(ctx, h.address, lst)[0])]
