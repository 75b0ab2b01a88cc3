"""Which name servers to ask: PEXIM_RESOLVER, else /etc/resolv.conf."""

from __future__ import annotations

from collections.abc import Mapping


def parse_server(text: str) -> tuple[str, int]:
    """`host:port`, `host`, `[v6addr]:port` or a bare IPv6 address."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 53
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, 53


def nameservers_from_environment(environ: Mapping[str, str],
                                 resolv_conf: str = "/etc/resolv.conf") -> list[tuple[str, int]]:
    """PEXIM_RESOLVER (comma-separated `host:port`s) overrides resolv.conf."""
    override = environ.get("PEXIM_RESOLVER")
    if override:
        return [parse_server(s) for s in override.split(",") if s.strip()]
    servers = []
    try:
        with open(resolv_conf, encoding="ascii", errors="replace") as fh:
            for line in fh:
                words = line.split()
                if len(words) >= 2 and words[0] == "nameserver":
                    servers.append((words[1].split("%")[0], 53))
    except OSError:
        pass
    return servers or [("127.0.0.1", 53)]
