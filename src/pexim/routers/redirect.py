"""The redirect router: aliases, forward files and filters."""

from pexim.config.drivers import fail_for
from pexim.config.options import Option, T

S, B = T.STRING, T.BOOL
TRANSPORT = "forbidden"

_BOOLS_FALSE = (
    "allow_defer allow_fail allow_filter allow_freeze check_ancestor check_group check_owner "
    "forbid_blackhole forbid_exim_filter forbid_file forbid_filter_dlfunc "
    "forbid_filter_existstest forbid_filter_logwrite forbid_filter_lookup forbid_filter_perl "
    "forbid_filter_readfile forbid_filter_readsocket forbid_filter_reply forbid_filter_run "
    "forbid_include forbid_pipe forbid_sieve_filter forbid_smtp_code hide_child_in_errmsg "
    "ignore_eacces ignore_enotdir one_time qualify_preserve_domain skip_syntax_errors"
).split()
_BOOLS_TRUE = ("filter_prepend_home", "repeat_use", "rewrite")
_STRINGS = (
    "data directory_transport file file_transport include_directory pipe_transport "
    "qualify_domain reply_transport sieve_enotify_mailto_owner sieve_subaddress "
    "sieve_useraddress sieve_vacation_directory syntax_errors_text syntax_errors_to"
).split()

OPTIONS = (
    [Option(n, B, "false") for n in _BOOLS_FALSE]
    + [Option(n, B, "true") for n in _BOOLS_TRUE]
    + [Option(n, S) for n in _STRINGS]
    + [Option("modemask", T.OCTINT, "022"),
       Option("owners", T.UIDLIST),
       Option("owngroups", T.GIDLIST)]
)


def derive(inst, v) -> dict:
    out = {}
    # check_owner/check_group are "unset" in Exim until init follows check_local_user.
    if not v.is_set("check_owner"):
        out["check_owner"] = bool(v["check_local_user"])
    if not v.is_set("check_group"):
        out["check_group"] = bool(v["check_local_user"]) and not (v["modemask"] or 0) & 0o20
    # A one_time redirection cannot deliver to files, pipes or replies.
    if v["one_time"]:
        out.update(forbid_file=True, forbid_pipe=True, forbid_filter_reply=True)
    return out


def check(inst, v) -> None:
    if (v["file"] is None) == (v["data"] is None):
        only = "" if v["data"] is None else "only "
        raise fail_for(inst, f'{only}one of "file" or "data" must be specified')
    if v["one_time"]:
        if v["headers_add"] is not None or v["headers_remove"] is not None:
            raise fail_for(inst, '"headers_add" and "headers_remove" are not permitted '
                                 'with "one_time"')
        if v.is_set("unseen") and v["unseen"] is not False:
            raise fail_for(inst, '"unseen" may not be used with "one_time"')
    if v["qualify_domain"] is not None and v["qualify_preserve_domain"]:
        raise fail_for(inst, 'only one of "qualify_domain" or "qualify_preserve_domain" '
                             'must be set')
    if v["allow_filter"] and not v["check_local_user"] and not v.is_set("user"):
        raise fail_for(inst, '"user" or "check_local_user" must be set with "allow_filter"')



# -- runtime ----------------------------------------------------------------------

def route(rctx, r, addr, out) -> str:
    """redirect_router_entry(): read the data or file, then queue what it generates."""
    from pexim.delivery.address import DECLINE, DISCARD, FAIL, OK
    from pexim.expand import ExpansionError, ForcedFail
    from pexim.routers import forward_list as fl
    from pexim.routers.generic import RouterDefer, expand

    text = _read_data(rctx, r, addr, expand, ExpansionError, ForcedFail)
    if text is None:
        return DECLINE
    first = text.lstrip().split("\n", 1)[0].lower()
    if r.get("allow_filter") and (first.startswith("# exim filter") or
                                  first.startswith("# sieve filter")):
        kind = "Exim" if first.startswith("# exim") else "Sieve"
        raise RouterDefer(f"error in redirect data: pexim does not implement {kind} "
                          f"filter files")
    permit = fl.Permit(blackhole=not r.get("forbid_blackhole"), fail=bool(r.get("allow_fail")),
                       defer=bool(r.get("allow_defer")), include=not r.get("forbid_include"),
                       include_directory=r.get("include_directory"))
    parsed = fl.parse(text, permit)
    if parsed.code == fl.ERROR:
        raise RouterDefer(f"error in redirect data: {parsed.error}")
    if parsed.code == fl.BLACKHOLE:
        return DISCARD
    if parsed.code == fl.DEFER:
        addr.user_message = parsed.error
        raise RouterDefer(parsed.error)
    if parsed.code == fl.FAIL:
        addr.message = addr.user_message = parsed.error
        return FAIL
    if parsed.code == fl.NOTDELIVERED:
        return DECLINE
    kids, empty = [], 0
    for item in parsed.items:
        kid = _generated(rctx, r, addr, item)
        if kid == "empty":
            empty += 1
        elif kid is not None:
            kids.append(kid)
    if empty == len(parsed.items):
        return DECLINE              # only empty addresses: as if there were none
    from pexim.routers.generic import get_errors_address, get_munge_headers
    proto = addr.child(addr.address)
    proto.extra_headers, proto.remove_headers = [], []
    get_errors_address(rctx, r, proto)
    get_munge_headers(rctx, r, proto)
    for kid in kids:
        if proto.errors_address is not None:
            kid.errors_address = proto.errors_address
        kid.extra_headers += proto.extra_headers
        kid.remove_headers += proto.remove_headers
        if kid.special is not None:
            _pfr_setup(rctx, r, addr, kid)
    out.new.extend(kids)
    return OK


def _read_data(rctx, r, addr, expand, ExpansionError, ForcedFail) -> str | None:
    from pexim.routers.generic import RouterDefer

    data = r.get("data")
    if data is not None:
        try:
            return expand(rctx, addr, data)
        except ForcedFail:
            return None
        except ExpansionError as e:
            raise RouterDefer(f'failed to expand "{data}": {e.message}') from None
    spec = r.get("file")
    try:
        name = expand(rctx, addr, spec)
    except ForcedFail:
        return None
    except ExpansionError as e:
        raise RouterDefer(f'failed to expand "{spec}": {e.message}') from None
    if not name.startswith("/"):
        raise RouterDefer(f"{name} is not an absolute path")
    import errno
    import os
    try:
        with open(name, "rb") as fh:
            st = os.fstat(fh.fileno())
            content = fh.read().decode("latin-1")
    except FileNotFoundError:
        return None
    except OSError as e:
        if (e.errno == errno.EACCES and r.get("ignore_eacces")) or \
                (e.errno == errno.ENOTDIR and r.get("ignore_enotdir")):
            return None
        raise RouterDefer(f"failed to open {name}: {e.strerror}") from None
    _check_file(rctx, r, addr, name, st)
    return content


def _check_file(rctx, r, addr, name, st) -> None:
    """check_owner / check_group / owners / owngroups / modemask for a redirect file."""
    from pexim.config.drivers import derived_values
    from pexim.routers.generic import RouterDefer

    derived = derived_values("router", r)
    mask = r.get("modemask") or 0
    if st.st_mode & mask:
        raise RouterDefer(f"bad mode ({st.st_mode & 0o7777:o}) for {name}: mask={mask:o}")
    pw = addr.extra.get("pw")
    owners = list(r.get("owners") or [])
    if derived.get("check_owner", r.get("check_owner")) and pw is not None:
        owners.append(pw.uid)
    if (owners or r.get("owners") is not None) and st.st_uid not in owners + [0] and owners:
        raise RouterDefer(f"bad owner for {name}")
    groups = list(r.get("owngroups") or [])
    if derived.get("check_group", r.get("check_group")) and pw is not None:
        groups.append(pw.gid)
    if groups and st.st_gid not in groups:
        raise RouterDefer(f"bad group for {name}")


def _generated(rctx, r, addr, item):
    """One generated address (add_generated()), or None when it is dropped."""
    from pexim.message.address import parse_extract_address
    from pexim.routers.generic import RouterDefer

    if item.kind != "address":
        kid = addr.child(item.text)
        kid.special = item.kind
        kid.unique = f"{item.text}:{addr.unique}"
        kid.extra["split"] = True
        return kid
    address, error, _s, _e, domain = parse_extract_address(item.text)
    if address == '""' or (address is None and error == "empty address"):
        return "empty"
    if address is None:
        if r.get("skip_syntax_errors"):
            rctx.log_main(f"{r.name} router: syntax error in redirect data: {error} in "
                          f'"{item.text}" (address {addr.address}) skipped')
            return None
        raise RouterDefer(f'error in redirect data: {error} in "{item.text}"')
    if not domain:
        if item.backslash or r.get("qualify_preserve_domain"):
            address = f"{address}@{addr.domain}"
        else:
            address = f"{address}@{r.get('qualify_domain') or rctx.config.main.get('qualify_recipient')}"
    if r.get("rewrite") and rctx.config.rewrite_rules:
        from pexim.commands.address import rewrite
        address = rewrite(rctx.config, address, True)
    if r.get("check_ancestor"):
        p = addr
        while p is not None:
            if p.address == address:
                address = addr.address
                break
            p = p.parent
    kid = addr.child(address)
    if r.get("one_time") and kid.unique in rctx.nonrecipients:
        return None
    return kid


def _pfr_setup(rctx, r, addr, kid) -> None:
    """A pipe, file or directory: its transport and uid/gid come from the router."""
    from pexim.delivery import errors
    from pexim.routers.generic import RouterDefer, get_transport, get_ugid

    option = {"pipe": "pipe_transport", "file": "file_transport",
              "directory": "directory_transport", "reply": "reply_transport"}[kid.special]
    forbidden = {"pipe": "forbid_pipe", "file": "forbid_file",
                 "directory": "forbid_file", "reply": "forbid_filter_reply"}[kid.special]
    kid.extra["allowed"] = not r.get(forbidden)
    kid.extra["pw"] = addr.extra.get("pw")
    kid.home_dir = addr.home_dir
    try:
        kid.transport = get_transport(rctx, r, kid, option)
    except RouterDefer as e:
        kid.basic_errno, kid.message = errors.BADTRANSPORT, e.message
        return
    if kid.transport is None:
        what = {"pipe": "pipe", "file": "file", "directory": "directory",
                "reply": "autoreply"}[kid.special]
        kid.basic_errno = errors.BADTRANSPORT
        kid.message = f"{what} transport not set for {r.name} router"
        return
    get_ugid(rctx, r, kid)
    kid.router = r.name
