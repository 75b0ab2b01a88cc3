"""crypt() and Exim's crypt16 (a two-block bigcrypt) for the crypteq condition."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt as _crypt
    except ImportError:  # pragma: no cover - Python >= 3.13
        _crypt = None


def crypt(plain: str, salted: str) -> str | None:
    if _crypt is None:
        return None
    try:
        return _crypt.crypt(plain, salted)
    except (OSError, ValueError):
        return None


def crypt16(plain: str, salted: str) -> str | None:
    first = crypt(plain[:8], salted[:2])
    if first is None or len(plain) <= 8:
        return first
    second = crypt(plain[8:16], first[2:4])
    return None if second is None else first + second[2:]
