"""The ipliteral router: routes domain literals; no private options."""

OPTIONS: list = []
TRANSPORT = "required"
