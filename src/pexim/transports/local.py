"""What the local transports (appendfile, pipe, autoreply, queuefile) share:
their option values with init-time defaults, the expansion context of a
delivery, and setting one outcome on every address of a batch."""

from __future__ import annotations

from pexim.config.drivers import View, derived_values
from pexim.delivery.address import DEFER
from pexim.expand import ExpansionError, ForcedFail, expand_string

_VIEWS: dict[int, tuple[object, View]] = {}


def options(tp) -> View:
    """The instance's options as Exim has them after init (derived defaults)."""
    hit = _VIEWS.get(id(tp))
    if hit is not None and hit[0] is tp:
        return hit[1]
    view = View(tp, derived_values("transport", tp))
    _VIEWS[id(tp)] = (tp, view)
    return view


class Outcome(Exception):
    """Stops a delivery with one result for the whole batch."""

    def __init__(self, message: str | None, errno: int = 0, status: str = DEFER,
                 more_errno: int = 0, freeze: bool = False, panic: bool = False,
                 user_message: str | None = None):
        super().__init__(message)
        self.message = message
        self.errno = errno
        self.status = status
        self.more_errno = more_errno
        self.freeze = freeze
        self.panic = panic
        self.user_message = user_message


def set_outcome(addrs, status: str, message: str | None = None, errno: int = 0,
                more_errno: int = 0, *, freeze: bool = False, panic: bool = False,
                user_message: str | None = None) -> None:
    """One result for every address of the batch (Exim copies the first's).

    ``panic`` is Exim's PANIC return (a defer that also goes to the panic
    log), ``freeze`` its SPECIAL_FREEZE; both are left in ``addr.extra``
    for the orchestrator."""
    for a in addrs:
        a.status, a.message, a.basic_errno, a.more_errno = status, message, errno, more_errno
        if user_message is not None:
            a.user_message = user_message
        if freeze:
            a.frozen = True
            a.extra["special_action"] = "freeze"
        if panic:
            a.extra["panic"] = True


def apply(addrs, o: Outcome) -> None:
    set_outcome(addrs, o.status, o.message, o.errno, o.more_errno, freeze=o.freeze,
                panic=o.panic, user_message=o.user_message)


def delivery_context(tp, message, addr, tctx=None, extra: dict | None = None):
    """The context transport options expand in: message and address
    variables, $return_path, and the transport's home_directory as $home."""
    from pexim.transports.write import transport_return_path

    ctx = message.context(addr)
    ctx.values["transport_name"] = tp.name
    rp = transport_return_path(tp, message, addr, ctx)
    ctx.values["return_path"] = rp
    home = tp.get("home_directory")
    if home:
        try:
            ctx.values["home"] = expand_string(home, ctx)
        except ForcedFail:
            pass
        except ExpansionError as e:
            raise Outcome(f'Failed to expand home_directory "{home}" for '
                          f"{tp.name} transport: {e}", panic=True) from e
    if extra:
        ctx.values.update(extra)
    return ctx


def expand_option(tp, ctx, name: str, value: str, what: str) -> str | None:
    """Expand an option; a failure is Exim's PANIC "Expansion of ... failed"."""
    try:
        return expand_string(value, ctx)
    except ForcedFail:
        return None
    except ExpansionError as e:
        raise Outcome(f'Expansion of "{value}" ({what} for {tp.name} transport) failed: '
                      f"{e}", panic=True) from e
