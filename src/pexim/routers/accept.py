"""The accept router: no private options; it needs a transport and logs as local."""

OPTIONS: list = []
TRANSPORT = "required"
GENERIC_DEFAULTS = {"log_as_local": "true"}


def route(rctx, r, addr, out) -> str:
    """accept: nothing to look up; the generic finishing does it all."""
    from pexim.routers.generic import finish
    return finish(rctx, r, addr, out)
