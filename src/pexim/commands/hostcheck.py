"""`exim -bh IP` / `-bhc IP`: an SMTP session on stdin/stdout as if from IP.

Replies go to stdout; the HDEBUG trace (`>>> ` lines) and log lines
(`LOG: ...`) go to stderr, as Exim writes them in host-checking mode. Nothing
is delivered or spooled.
"""

from __future__ import annotations

import sys

from pexim.expand.ip import is_ip_address
from pexim.smtp.stream import serve_stream

_HEADER = ("\n**** SMTP testing session as if from host %s\n"
           "**** but without any ident (RFC 1413) callback.\n"
           "**** This is not for real!\n\n")


def run(config, inv, stdin=None, stdout=None, stderr=None) -> int:
    from pexim.smtp.session import Session
    inp = getattr(stdin or sys.stdin, "buffer", stdin or sys.stdin)
    out = getattr(stdout or sys.stdout, "buffer", stdout or sys.stdout)
    err = stderr or sys.stderr
    address = inv.mode_arg or ""
    if not is_ip_address(address)[0]:
        err.write('exim abandoned: "%s" is not an IP address\n' % address)
        return 1
    if is_ip_address(address)[0] == 6:
        import ipaddress
        address = ipaddress.IPv6Address(address.split("%")[0]).exploded

    def trace(text: str) -> None:
        err.write(text)

    def log_write(text: str, flags) -> None:
        err.write("LOG: %s\n" % text)

    display = inv_config_name(inv, config)
    session = Session(config, address, log_write, trace,
                      config_display_name=lambda name: display if name == config.filename
                      else name)
    session.callouts = inv.mode == "-bhc"       # -bh skips callouts, -bhc makes them
    session.check_host("hosts_connection_nolog")
    out.write((_HEADER % address).encode())
    serve_stream(session.server, inp, out)
    err.flush()
    return 0


def inv_config_name(inv, config) -> str:
    """The configuration file name as Exim shows it in ACL traces (as given to -C)."""
    given = getattr(inv, "config_file", None) or getattr(inv, "config", None)
    return given if isinstance(given, str) and given else config.filename
