"""The accept router: no private options; it needs a transport and logs as local."""

OPTIONS: list = []
TRANSPORT = "required"
GENERIC_DEFAULTS = {"log_as_local": "true"}
