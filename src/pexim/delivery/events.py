"""Event actions (spec chapter "Events"): expand event_action when an event fires.

The main option handles message-level events (msg:complete, msg:fail:internal),
a transport's option the delivery ones (msg:delivery, msg:rcpt:defer,
msg:fail:delivery, msg:defer, and the connection events its client fires).
$event_name, $event_data and $event_defer_errno are set for the expansion; a
non-empty result matters only to the "before" events (tcp:connect,
smtp:connect, tls:cert), which the caller acts on.
"""

from __future__ import annotations

from typing import Any

from pexim.expand import ExpansionError, compile_cached


def fire(action: str | None, name: str, ctx, data: str | None = None,
         defer_errno: int | None = None, logger: Any = None) -> str | None:
    """Expand ``action`` for event ``name``; returns the result (None if no action)."""
    if not action:
        return None
    values = ctx.values
    saved = {k: values.get(k) for k in ("event_name", "event_data", "event_defer_errno")}
    values["event_name"] = name
    values["event_data"] = data if data is not None else ""
    if defer_errno is not None:
        values["event_defer_errno"] = defer_errno
    try:
        return compile_cached(action).evaluate(ctx)
    except ExpansionError as err:
        if logger is not None:
            logger.main(f"event {name}: failed to expand event_action: {err.message}")
        return None
    finally:
        for k, v in saved.items():
            if v is None:
                values.pop(k, None)
            else:
                values[k] = v


def transport_action(tctx, transport_name: str | None) -> str | None:
    tp = tctx.transport(transport_name) if transport_name else None
    return tp.get("event_action") if tp is not None else None
