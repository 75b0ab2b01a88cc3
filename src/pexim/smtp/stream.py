"""An SMTP session over a pair of byte streams (-bh, -bs): the thinnest glue
between the sans-IO server and stdin/stdout."""

from __future__ import annotations


def serve_stream(server, inp, out) -> None:
    """Feed `inp` to `server` line by line until it closes, writing its replies."""
    out.write(server.start())
    out.flush()
    while not server.closed:
        line = inp.readline()
        if not line:
            out.write(server.feed_eof())
            break
        out.write(server.feed(line))
        out.flush()
    out.flush()
