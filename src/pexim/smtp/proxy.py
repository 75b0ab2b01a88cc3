"""The PROXY protocol header (v1 text, v2 binary) an inbound proxy sends first.

Sans-IO: feed the bytes that arrive, get a `ProxyHeader` once the header is
complete (or known bad), and `rest`, the bytes after it, which belong to the
SMTP session.  It follows Exim 4.96's setup_proxy() (smtp_in.c), including
what it consumes and how far it gets before failing:

- the first read takes at most 14 bytes; v2 is recognised by its 12-byte
  signature, v1 by "PROXY" in at least 8 bytes; anything else is swallowed up
  to the end of its line and fails;
- v1 lines run to CR plus one byte (which must be LF), at most 232 bytes (the
  size of Exim's header buffer); v2 headers may not exceed 232 bytes either;
- v1 fields are checked in order and the addresses found before a failure are
  kept (Exim has already assigned them), so a failed header can leave
  ``source`` or ``dest`` set; callers treat ``ok`` as the verdict.

Exim waits for whatever its read() returns; here a decision waits for enough
bytes to be certain, so a header split across TCP segments is read whole.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pexim.expand.ip import ip_version

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
INITIAL_READ = 14          # PROXY_INITIAL_READ
V2_HEADER_SIZE = 16        # PROXY_V2_HEADER_SIZE
MAX_HEADER = 232           # sizeof(hdr): 16 + the 216 bytes of a v2 AF_UNIX address

_V2_FAMILIES = {0x11: (4, 12), 0x21: (16, 36)}    # TCP over IPv4 / IPv6: address size, length


@dataclass
class ProxyHeader:
    """What the header said; ``error`` is Exim's debug text when ``ok`` is False."""

    ok: bool
    version: int = 0                          # 1, 2, or 0 when neither was recognised
    command: str = ""                         # "PROXY", "LOCAL" (v2), "UNKNOWN" (v1)
    source: tuple[str, int | None] | None = None   # the real client (address, port)
    dest: tuple[str, int | None] | None = None     # the address it connected to at the proxy
    error: str | None = None

    @property
    def proxied(self) -> bool:
        """The header carries the client's address (not LOCAL/UNKNOWN)."""
        return self.ok and self.source is not None


class ProxyParser:
    """Feed bytes with `feed`; the header is the first non-None result."""

    def __init__(self) -> None:
        self._buf = b""
        self._kind: str | None = None     # "v1", "v2", "bad" once decided
        self._chunk = 0                   # bytes of the first read
        self.rest = b""
        self.result: ProxyHeader | None = None

    def feed(self, data: bytes) -> ProxyHeader | None:
        if self.result is not None:
            self.rest += data
            return self.result
        self._buf += data
        if self._kind is None:
            self._decide()
        if self._kind == "v2":
            self._v2()
        elif self._kind is not None:
            self._line()
        return self.result

    def end(self, why: str = "timeout") -> ProxyHeader:
        """The peer closed or proxy_protocol_timeout passed: what was read is consumed."""
        if self.result is None:
            self._finish(len(self._buf), ProxyHeader(
                False, 2 if self._kind == "v2" else 1 if self._kind == "v1" else 0,
                error="Timeout while reading proxy header" if why == "timeout"
                else "Connection closed while reading proxy header"))
        return self.result

    # --- steps --------------------------------------------------------------------

    def _decide(self) -> None:
        buf = self._buf
        n = min(len(buf), INITIAL_READ)
        if buf[:12] == V2_SIGNATURE[:min(n, 12)] and n < INITIAL_READ:
            return                          # could still be the v2 signature
        if buf[:5] == b"PROXY"[:min(n, 5)] and n < 8:
            return                          # could still be a v1 line
        self._chunk = n
        if n == INITIAL_READ and buf[:12] == V2_SIGNATURE:
            self._kind = "v2"
        elif n >= 8 and buf[:5] == b"PROXY":
            self._kind = "v1"
        else:
            self._kind = "bad"

    def _finish(self, used: int, header: ProxyHeader) -> None:
        self.rest = self._buf[used:]
        self._buf = b""
        self.result = header

    def _line_end(self) -> int | None:
        """swallow_until_crlf(): bytes used by the line (CR and one more), or None."""
        buf = self._buf
        cr = buf.find(b"\r", 0, self._chunk)
        if 0 <= cr < self._chunk - 1:
            return self._chunk                  # CR (and presumably LF) in the first read
        cr = buf.find(b"\r", self._chunk - 1 if cr >= 0 else self._chunk, MAX_HEADER - 1)
        if cr >= 0:
            return cr + 2 if len(buf) >= cr + 2 else None
        return MAX_HEADER if len(buf) >= MAX_HEADER else None

    def _line(self) -> None:
        used = self._line_end()
        if used is None:
            return
        if self._kind == "bad":
            self._finish(used, ProxyHeader(
                False, error="Invalid proxy protocol version negotiation"))
            return
        line = self._buf[:used]
        cr = line.find(b"\r")
        if cr < 0 or cr + 1 >= len(line) or line[cr + 1:cr + 2] != b"\n" \
                or b"\0" in line[:cr]:
            self._finish(used, ProxyHeader(False, 1, error="Partial or invalid PROXY header"))
            return
        self._finish(used, parse_v1(line[:cr].decode("latin-1")))

    def _v2(self) -> None:
        buf = self._buf
        if len(buf) < V2_HEADER_SIZE:
            return
        if buf[12] >> 4 != 2:
            self._finish(V2_HEADER_SIZE, ProxyHeader(
                False, 2, error="Invalid Proxy Protocol version: %d" % (buf[12] >> 4)))
            return
        size = V2_HEADER_SIZE + int.from_bytes(buf[14:16], "big")
        if size > MAX_HEADER:
            self._finish(V2_HEADER_SIZE, ProxyHeader(
                False, 2, error="PROXYv2 header size unreasonably large; security attack?"))
            return
        if len(buf) < size:
            return
        self._finish(size, parse_v2(buf[:size]))


def _strtol_port(text: str) -> int | None:
    """strtol(p, &end, 10) that must use the whole field and not give 0."""
    t = text.lstrip(" \t\n\v\f\r")
    sign = -1 if t[:1] == "-" else 1
    if t[:1] in "+-":
        t = t[1:]
    if not t or not t.isascii() or not t.isdigit():
        return None
    value = sign * int(t)
    return value or None


def parse_v1(line: str) -> ProxyHeader:
    """A v1 line without its CRLF: "PROXY TCP4 src dst sport dport" (or UNKNOWN)."""
    h = ProxyHeader(False, 1)
    p = line[5:]
    if not p[:1].isspace():
        h.error = "Missing space after PROXY command"
        return h
    p = p[1:]
    if p.startswith("UNKNOWN"):
        h.ok, h.command = True, "UNKNOWN"
        return h
    if not p.startswith(("TCP4", "TCP6")):
        h.error = "Invalid TCP type"
        return h
    iptype = "IPv4" if p.startswith("TCP4") else "IPv6"
    h.command = "PROXY"
    p = p[4:]
    if not p[:1].isspace():
        h.error = "Missing space after TCP4/6 command"
        return h
    fields = p[1:].split(" ", 3)
    names = ("proxied src", "proxy dest")
    for i, name in enumerate(names):
        if len(fields) <= i + 1:
            h.error = "Did not find %s %s" % (name, iptype)
            return h
        if not ip_version(fields[i]):
            h.error = "%s arg is not an %s address" % (
                "Proxied src" if i == 0 else "Proxy dest", iptype)
            return h
        if i == 0:
            h.source = (fields[0], None)
        else:
            h.dest = (fields[1], None)
    if len(fields) < 4:
        h.error = "Did not find proxied src port"
        return h
    sport = _strtol_port(fields[2])
    if sport is None:
        h.error = "Proxied src port '%s' not an integer" % fields[2]
        return h
    h.source = (h.source[0], sport)
    dport = _strtol_port(fields[3])
    if dport is None:
        h.error = "Proxy dest port '%s' not an integer" % fields[3]
        return h
    h.dest = (h.dest[0], dport)
    h.ok = True
    return h


def parse_v2(data: bytes) -> ProxyHeader:
    """A whole v2 header (signature, version/command, family, length, addresses, TLVs)."""
    h = ProxyHeader(False, 2)
    cmd, fam = data[12] & 0x0F, data[13]
    if cmd == 0x00:
        h.ok, h.command = True, "LOCAL"
        return h
    if cmd != 0x01:
        h.error = "Unsupported PROXYv2 command: 0x%x" % cmd
        return h
    h.command = "PROXY"
    if fam not in _V2_FAMILIES:
        h.error = "Unsupported PROXYv2 connection type: 0x%02x" % fam
        return h
    size, need = _V2_FAMILIES[fam]
    body = data[V2_HEADER_SIZE:]
    if len(body) < need:
        # Exim reads the address block whatever the length says; here a short block fails.
        h.error = "PROXYv2 address block too short for connection type 0x%02x" % fam
        return h
    src = str(ipaddress.ip_address(body[:size]))
    dst = str(ipaddress.ip_address(body[size:2 * size]))
    ports = body[2 * size:2 * size + 4]
    h.source = (src, int.from_bytes(ports[:2], "big"))
    h.dest = (dst, int.from_bytes(ports[2:], "big"))
    h.ok = True
    return h
