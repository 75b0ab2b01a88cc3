"""IP address text handling as Exim does it (string_is_ip_address, host_aton,
masks and the dotted/colon output forms)."""

from __future__ import annotations

import ipaddress
import re

_V4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\Z")


def _is_v4(s: str) -> bool:
    m = _V4.match(s)
    return bool(m) and all(int(g) <= 255 for g in m.groups())


def _is_v6(s: str) -> bool:
    if not s or "%" in s:
        s = s.split("%", 1)[0]
    if ":" not in s:
        return False
    try:
        ipaddress.IPv6Address(s)
        return True
    except ValueError:
        return False


def is_ip_address(s: str) -> tuple[int, int]:
    """(4|6|0, offset of '/mask' or 0), like string_is_ip_address()."""
    addr, slash, mask = s.partition("/")
    if slash:
        if mask and (not mask.isdigit() or not mask.isascii()):
            return 0, 0
    if _is_v4(addr):
        return 4, (len(addr) if slash else 0)
    if _is_v6(addr):
        return 6, (len(addr) if slash else 0)
    return 0, 0


def ip_version(s: str) -> int:
    """4, 6 or 0 for an address without a mask (string_is_ip_address(s, NULL))."""
    return 0 if "/" in s else is_ip_address(s)[0]


def to_int(s: str) -> tuple[int, int]:
    """(version, integer value) for an address without a mask."""
    a = ipaddress.ip_address(s.split("%", 1)[0])
    return a.version, int(a)


def mask_int(value: int, bits: int, width: int) -> int:
    if bits <= 0:
        return 0
    return value & (((1 << bits) - 1) << (width - bits))


def dotted(version: int, value: int, sep: str = ".") -> str:
    """host_nmtoa() without a mask: IPv4 dotted quad or IPv6 as 8 hex groups."""
    if version == 4:
        return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))
    return sep.join("%04x" % ((value >> (112 - 16 * k)) & 0xFFFF) for k in range(8))


def normal_v6(value: int) -> str:
    """ipv6_nmtoa(): compressed lower-case form."""
    return str(ipaddress.IPv6Address(value))


def reverse(s: str) -> str:
    """invert_address(): in-addr / nibble order, without the suffix."""
    version, value = to_int(s.split("/", 1)[0])
    if version == 4:
        return ".".join(reversed(dotted(4, value).split(".")))
    return ".".join(reversed("%032x" % value))
