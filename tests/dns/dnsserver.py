"""A small authoritative DNS server on loopback for tests, serving zone files.

Real sockets (UDP and TCP) and real DNS messages (dnspython), so the resolver
under test is exercised exactly as against a real server. Conventions for
failure cases, as Exim's own test suite does with its fake name server:
  - names under `servfail.` get SERVFAIL; names under `timeout.` get no answer;
  - a zone whose file name starts with `dnssec.` is answered with the AD bit.
Answers larger than 512 bytes over UDP are truncated, so TCP fallback is real.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.zone


class Zones:
    def __init__(self, directory: Path):
        self.zones = []
        for path in sorted(Path(directory).glob("*.zone")):
            origin = path.stem.removeprefix("dnssec.")
            zone = dns.zone.from_file(str(path), origin=origin, relativize=False)
            self.zones.append((zone, path.name.startswith("dnssec.")))

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        text = qname.to_text()
        if ".timeout." in "." + text:
            return None
        if ".servfail." in "." + text:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        for zone, secure in self.zones:
            if not qname.is_subdomain(zone.origin):
                continue
            if secure:
                response.flags |= dns.flags.AD
            node = zone.get_node(qname)
            if node is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return response
            for rdtype in (qtype, dns.rdatatype.CNAME):
                rdataset = node.get_rdataset(zone.rdclass, rdtype)
                if rdataset is not None:
                    rrset = response.find_rrset(response.answer, qname, zone.rdclass,
                                                rdtype, create=True)
                    rrset.update(rdataset)
                    break
            return response
        response.set_rcode(dns.rcode.REFUSED)
        return response


class FakeNameServer:
    """Start with `with FakeNameServer(dir) as ns:`; `ns.address` is "127.0.0.1:port"."""

    def __init__(self, directory: Path):
        self.zones = Zones(directory)

    def __enter__(self) -> FakeNameServer:
        zones = self.zones

        class UDP(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                reply = zones.answer(dns.message.from_wire(data))
                if reply is not None:
                    wire = reply.to_wire()
                    if len(wire) > 512:
                        reply.flags |= dns.flags.TC
                        reply.answer = []
                        wire = reply.to_wire()
                    sock.sendto(wire, self.client_address)

        class TCP(socketserver.BaseRequestHandler):
            def handle(self):
                length = int.from_bytes(self.request.recv(2), "big")
                data = b""
                while len(data) < length:
                    data += self.request.recv(length - len(data))
                reply = zones.answer(dns.message.from_wire(data))
                if reply is not None:
                    wire = reply.to_wire()
                    self.request.sendall(len(wire).to_bytes(2, "big") + wire)

        self.udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), UDP)
        port = self.udp.server_address[1]
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), TCP)
        for server in (self.udp, self.tcp):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        for server in (self.udp, self.tcp):
            server.shutdown()
            server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
