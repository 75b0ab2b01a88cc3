"""The router chain (Exim's route_address() and the routing loop of deliver.c).

Each address is offered to the routers in order, subject to the generic
preconditions (routers/generic.py), until one accepts, fails or defers it.
A redirect's children are routed in their parent's place; `unseen` makes a
copy carry on at the next router; pass/decline/more/pass_router/redirect_router
choose the next router.  Delivery (mode "deliver"), `-bt` ("test") and
verification ("verify_recipient", "verify_sender") share this code; only the
router selection and the handling of duplicates differ.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from pexim.delivery import errors
from pexim.delivery.address import DECLINE, DEFER, DISCARD, FAIL, OK, PASS, REROUTED, AddressItem
from pexim.expand import ExpandContext, ExpansionError, ForcedFail, Tainted
from pexim.lists import iter_list
from pexim.routers import generic
from pexim.routers.generic import SKIP, RouterDefer

_MODES = {"deliver": None, "test": None, "verify_recipient": "recipient",
          "verify_sender": "sender", "expn": "expn"}
_LOOP_LIMIT = 100


@dataclass
class Routed:
    local: list[AddressItem] = field(default_factory=list)
    remote: list[AddressItem] = field(default_factory=list)
    failed: list[AddressItem] = field(default_factory=list)
    deferred: list[AddressItem] = field(default_factory=list)
    succeeded: list[AddressItem] = field(default_factory=list)


@dataclass
class RouterOutput:
    """What one routing step produced (the addr_local/addr_remote/addr_new chains)."""

    local: list[AddressItem] = field(default_factory=list)
    remote: list[AddressItem] = field(default_factory=list)
    new: list[AddressItem] = field(default_factory=list)


class RoutingContext:
    """One routing run: the configuration, the message, the mode and its caches."""

    def __init__(self, config, message=None, *, mode: str = "deliver",
                 sender: str | None = None, resolver=None, debug=None, logger=None,
                 base_ctx: ExpandContext | None = None):
        self.config = config
        self.message = message
        self.mode = mode
        self.verify = _MODES[mode] if mode != "expn" else "recipient"
        self.test = mode == "test"
        self.expn = mode == "expn"
        if sender is None and message is not None:
            sender = message.sender
        self.sender = sender
        self.resolver = resolver
        self.debug = debug
        self.logger = logger
        self.base_ctx = base_ctx
        self.routers = list(config.routers)
        self._index = {r.name: i for i, r in enumerate(self.routers)}
        self._users: dict[str, generic.PwEntry | None] = {}
        self.nonrecipients = set(message.spool.nonrecipients) if message is not None else set()
        self.dns_cache = None
        # errors_to addresses are verified by routing them (delivery only).
        self.errors_to_verifier = self._verify_errors_to if mode == "deliver" else None

    # -- services for routers ------------------------------------------------------
    def router_index(self, name: str) -> int:
        return self._index[name]

    def find_user(self, name: str):
        if name not in self._users:
            self._users[name] = generic.find_user(name)
        return self._users[name]

    def config_transport(self, name: str):
        return next((t for t in self.config.transports if t.name == name), None)

    def transport_is_local(self, name: str) -> bool:
        from pexim.config.drivers import driver_module

        tp = self.config_transport(name)
        mod = driver_module("transport", tp.driver) if tp is not None else None
        return getattr(mod, "LOCAL", True) if mod is not None else True

    def get_resolver(self):
        if self.resolver is None:
            from pexim.dns.resolver import Resolver
            self.resolver = Resolver.from_config(self.config.main)
        if self.dns_cache is None:
            from pexim.dns.resolver import DnsCache
            self.dns_cache = DnsCache()
        return self.resolver

    def expand_context(self, addr: AddressItem | None) -> ExpandContext:
        """A context with the message's, then the address's, variables."""
        if self.message is not None:
            ctx = self.message.context()
        else:
            ctx = ExpandContext(config=self.config)
            base = self.base_ctx
            if base is not None:
                ctx.values.update(base.values)
                ctx.acl_c, ctx.acl_m = base.acl_c, base.acl_m
                ctx.message = base.message
                ctx.acl_eval = base.acl_eval
                for key in ("hdebug", "list_trace", "resolver"):
                    if key in base.extra:
                        ctx.extra[key] = base.extra[key]
        if self.resolver is not None:
            ctx.extra["resolver"] = self.resolver
        v = ctx.values
        v["sender_address"] = "" if self.verify == "sender" else (self.sender or "")
        if addr is not None:
            v.update(addr.values())
            pw = addr.extra.get("pw")
            if pw is not None:
                v["local_user_uid"], v["local_user_gid"] = pw.uid, pw.gid
            if addr.errors_address is not None:
                v["return_path"] = addr.errors_address
        return ctx

    def trace(self, text: str) -> None:
        """The `>>> ` lines exim writes while host checking (-bh)."""
        hd = self.base_ctx.extra.get("hdebug") if self.base_ctx is not None else None
        if hd is not None:
            hd.line(text)

    def log_main(self, text: str) -> None:
        self._log(text, panic=False)

    def log_panic(self, text: str) -> None:
        self._log(text, panic=True)

    def _log(self, text: str, panic: bool) -> None:
        logger = self.logger
        if logger is None:
            from pexim.log import Logger
            logger = self.logger = Logger.from_config(self.config) if self.mode == "deliver" \
                else Logger(testing=True)
        mid = self.message.id if self.message is not None else None
        (logger.panic if panic else logger.main)(text, mid)

    def _verify_errors_to(self, address: str) -> bool:
        sub = RoutingContext(self.config, None, mode="verify_recipient", sender=self.sender,
                             resolver=self.resolver, logger=self.logger)
        routed = route_addresses(sub, [AddressItem(address)])
        return not routed.failed and not routed.deferred


# -- addresses --------------------------------------------------------------------

def split_address(addr: AddressItem) -> None:
    """deliver_split_address(): unquote the local part, lower-case the domain."""
    if addr.extra.get("split"):
        return
    addr.extra["split"] = True
    address = addr.address
    at = address.rfind("@")
    lp, domain = (address[:at], address[at + 1:]) if at >= 0 else (address, "")
    if lp.startswith('"') and lp.endswith('"') and len(lp) >= 2:
        out, i, inner = [], 0, lp[1:-1]
        while i < len(inner):
            if inner[i] == "\\" and i + 1 < len(inner):
                i += 1
            out.append(inner[i])
            i += 1
        lp = "".join(out)
    addr.cc_local_part = Tainted(lp)
    addr.local_part = Tainted(lp.lower())
    addr.domain = Tainted(domain.lower())


def _opt(r, name: str, default=None):
    try:
        value = r.get(name)
    except (KeyError, AttributeError):
        return default
    return default if value is None else value


def _set_vars(rctx, r, addr) -> None:
    """The `set` option: r_ variables, expanded now, for this and later routers."""
    value = _opt(r, "set")
    if value is None:
        return
    for text in value if isinstance(value, list) else [value]:
        for item in iter_list(text, ";"):
            name, eq, rhs = item.partition("=")
            name = name.strip()
            if not eq:
                raise RouterDefer(f'bad "set" item in {r.name} router: "{item}"')
            try:
                addr.router_vars[name] = generic.expand(rctx, addr, rhs.strip())
            except ForcedFail:
                continue
            except ExpansionError as e:
                raise RouterDefer(f'failed to expand "{rhs.strip()}" for variable {name} '
                                  f'in {r.name} router: {e.message}') from None


def _looped(r, addr: AddressItem) -> bool:
    """An ancestor was routed by this router (with the same address, unless
    repeat_use is off)."""
    repeat = _opt(r, "repeat_use", True)
    parent, count = addr.parent, 0
    while parent is not None:
        if parent.router == r.name:
            if not repeat:
                return True
            if parent.address.lower() == addr.address.lower():
                return True
        parent = parent.parent
        count += 1
        if count > _LOOP_LIMIT:
            raise RouterDefer(f"routing loop for {addr.address}")
    return False


def route_address(rctx: RoutingContext, addr: AddressItem, out: RouterOutput) -> str:
    """route_address(): OK, DISCARD, FAIL, DEFER (message set), or REROUTED."""
    from pexim.config.drivers import driver_module

    split_address(addr)
    rctx.trace(">" * 35)
    rctx.trace(f"routing {addr.address}")
    start = addr.extra.pop("start_router", None)
    i = rctx.router_index(start) if start is not None else 0
    last = None
    rc = None
    while i < len(rctx.routers):
        r = rctx.routers[i]
        nexti = i + 1
        last = r
        addr.router = r.name
        try:
            if _looped(r, addr):
                i = nexti
                continue
            if not generic.strip_affixes(r, addr, bool(r.get("caseful_local_part"))):
                i = nexti
                continue
            if generic.check_preconditions(rctx, r, addr) == SKIP:
                _reset_router_data(addr)
                i = nexti
                continue
            _set_vars(rctx, r, addr)
            data = r.get("address_data")
            if data is not None:
                try:
                    addr.address_data = generic.expand(rctx, addr, data)
                except ForcedFail:
                    if not generic.expand_bool(rctx, addr, r, "more"):
                        rc = DECLINE
                        break
                    i = nexti
                    continue
                except ExpansionError as e:
                    addr.message = (f'expansion of "{data}" failed in {r.name} router: '
                                    f'{e.message}')
                    return DEFER
            driver = driver_module("router", r.driver)
            rctx.trace(f"calling {r.name} router")
            rc = driver.route(rctx, r, addr, out)
        except RouterDefer as e:
            addr.message = e.message
            if e.errno:
                addr.basic_errno = e.errno
            rctx.trace(f"{r.name} router: defer for {addr.address}")
            rctx.trace(f"  message: {addr.message}")
            return DEFER
        if rc == FAIL:
            rctx.trace(f"{r.name} router forced address failure")
            return FAIL
        if rc in (OK, PASS) and ((rctx.verify == "sender" and r.get("fail_verify_sender")) or
                                 (rctx.verify == "recipient" and
                                  r.get("fail_verify_recipient"))):
            addr.message = f"{r.name} router forced verify failure"
            _unqueue(addr, out)
            return FAIL
        if rc in (PASS, DECLINE):
            rctx.trace(f"{r.name} router {'passed' if rc == PASS else 'declined'} for "
                       f"{addr.address}")
        if rc == PASS:
            target = r.get("pass_router")
            i = rctx.router_index(target) if target else nexti
            continue
        if rc == DECLINE:
            try:
                more = generic.expand_bool(rctx, addr, r, "more")
            except RouterDefer as e:
                addr.message = e.message
                return DEFER
            if not more:
                break
            i = nexti
            continue
        break
    if rc is None or rc in (DECLINE, PASS):
        rctx.trace("no more routers")
        return _unrouteable(rctx, addr, last)
    if rc in (DEFER, DISCARD):
        return rc
    if rc == REROUTED:
        return REROUTED
    try:
        if generic.expand_bool(rctx, addr, r, "unseen"):
            _unseen(rctx, r, addr, out)
    except RouterDefer as e:
        addr.message = e.message
        _unqueue(addr, out)
        return DEFER
    rctx.trace(f"routed by {r.name} router")
    return OK


def verify(rctx: RoutingContext, address: str) -> tuple[str, AddressItem]:
    """verify_address() without full information: route the address, and follow
    a redirection to exactly one address (not to several, nor a pipe or file).
    Returns (OK/FAIL/DEFER, the address whose routing decided)."""
    addr = AddressItem(address)
    todo = [addr]
    while todo:
        addr = todo.pop(0)
        if addr.special is not None:
            return OK, addr
        out = RouterOutput()
        rc = route_address(rctx, addr, out)
        todo[:0] = out.new
        if rc == REROUTED:
            continue
        if rc in (FAIL, DEFER):
            return rc, addr
        if not todo or len(todo) > 1 or todo[0].special is not None:
            return OK, addr
    return OK, addr


def _reset_router_data(addr: AddressItem) -> None:
    addr.extra.pop("pw", None)


def _unqueue(addr, out: RouterOutput) -> None:
    for lst in (out.local, out.remote):
        if lst and lst[-1] is addr:
            lst.pop()


def _unrouteable(rctx, addr, last) -> str:
    """No router accepted: "Unrouteable address", or cannot_route_message."""
    if addr.message is None:
        message = "Unrouteable address"
        text = last.get("cannot_route_message") if last is not None else None
        if text is not None:
            try:
                message = generic.expand(rctx, addr, text)
            except ForcedFail:
                pass
            except ExpansionError as e:
                rctx.log_panic(f"failed to expand cannot_route_message in {last.name} "
                               f"router: {e.message}")
        addr.message = addr.user_message = message
    addr.router = None
    return FAIL


def _unseen(rctx, r, addr, out: RouterOutput) -> None:
    """route_unseen(): a copy carries on at the next router; both get a new parent."""
    parent = AddressItem(addr.address, local_part=addr.local_part, domain=addr.domain,
                         parent=addr.parent, unique=addr.unique,
                         cc_local_part=addr.cc_local_part)
    parent.router = addr.router
    parent.errors_address = addr.parent.errors_address if addr.parent else None
    parent.extra["split"] = True
    parent.extra["unseen_parent"] = True
    addr.parent = parent
    clone = AddressItem(addr.address, parent=parent, cc_local_part=addr.cc_local_part)
    split_address(clone)
    clone.errors_address = parent.errors_address
    clone.address_data = addr.address_data
    clone.unique = addr.unique
    i = rctx.router_index(r.name) + 1
    if i < len(rctx.routers):
        clone.extra["start_router"] = rctx.routers[i].name
        out.new.append(clone)
    else:
        out.new.append(clone)
        clone.extra["no_routers"] = True
    addr.unique = f"{addr.unique}/{r.name}"


# -- the loop -----------------------------------------------------------------------

def route_addresses(rctx: RoutingContext, addrs: list[AddressItem]) -> Routed:
    """Route the addresses and everything they generate."""
    routed = Routed()
    queue: deque[AddressItem] = deque(addrs)
    while queue:
        addr = queue.popleft()
        if addr.special is not None:
            _route_special(addr, routed)
            continue
        if addr.extra.pop("no_routers", False):
            split_address(addr)
            _unrouteable(rctx, addr, None)
            addr.status = FAIL
            routed.failed.append(addr)
            continue
        out = RouterOutput()
        rc = route_address(rctx, addr, out)
        addr.extra["rc"] = rc
        if rc == FAIL:
            addr.status = FAIL
            routed.failed.append(addr)
        elif rc == DEFER:
            addr.status = DEFER
            routed.deferred.append(addr)
        elif rc == DISCARD:
            addr.status = OK
            routed.succeeded.append(addr)
        routed.local.extend(out.local)
        routed.remote.extend(out.remote)
        kids = [k for k in out.new if _wanted(rctx, k)]
        queue.extendleft(kids)          # exim prepends each child: the last is routed first
    # Exim's addr_local/addr_remote are stacks too: delivery order is the
    # reverse of routing order, and the first copy of a duplicate is delivered.
    routed.local.reverse()
    routed.remote.reverse()
    if rctx.mode == "deliver":
        _duplicates(routed)
    return routed


def _wanted(rctx, kid: AddressItem) -> bool:
    """A generated address already delivered (in an earlier attempt) is dropped."""
    if kid.special is None and kid.unique in rctx.nonrecipients:
        return False
    return True


def _route_special(addr: AddressItem, routed: Routed) -> None:
    """Pipes, files and replies from a redirect go straight to their transport."""
    if addr.basic_errno == errors.BADTRANSPORT or addr.transport is None:
        addr.status = DEFER
        routed.deferred.append(addr)
    else:
        routed.local.append(addr)


def _duplicates(routed: Routed) -> None:
    """The same unique address is delivered once; later copies count as done."""
    seen: set[str] = set()
    for lst in (routed.local, routed.remote):
        keep = []
        for a in lst:
            if a.special is None and a.unique in seen:
                a.status = OK
                a.extra["duplicate"] = True
                routed.succeeded.append(a)
            else:
                seen.add(a.unique)
                keep.append(a)
        lst[:] = keep
