"""pexim_dbmbuild: exim_dbmbuild's work, writing the Berkeley DB hash files
that Debian's exim (and pexim's dbm lookups) read.

    pexim_dbmbuild [-nolc] [-nowarn] [-lastdup] [-noduperr] [-nozero] <source> <dbm file>

The source is in lsearch format (``key: data``, quoted keys with escapes,
indented continuation lines, ``#`` comments).  Keys are lower-cased unless
-nolc; keys and data get a terminating zero unless -nozero.  The file is
written as <dbm file>.dbmbuild_temp and renamed when done.  Messages, exit
codes (0, 1 for duplicates or usage errors, 2 when abandoned) are those of
exim_dbmbuild.
"""

from __future__ import annotations

import io
import os
import sys

from .bdb import write_hash

MAX_INSIZE = 20000
MAX_OUTSIZE = 100000
MAX_NAME = 492          # longer output names are "ridiculously long"
_SPACE = b" \t\n\v\f\r"
_HEX = b"0123456789abcdefABCDEF"


def _escape(s: bytes, i: int) -> tuple[int, int]:
    """string_interpret_escape() on s[i] == '\\': (byte value, index of its last char)."""
    i += 1
    ch = s[i] if i < len(s) else 0
    if 0x30 <= ch <= 0x37:
        v = ch - 0x30
        for _ in range(2):
            if i + 1 < len(s) and 0x30 <= s[i + 1] <= 0x37:
                i += 1
                v = v * 8 + s[i] - 0x30
            else:
                break
        return v & 0xFF, i
    if ch == ord("n"):
        return 10, i
    if ch == ord("r"):
        return 13, i
    if ch == ord("t"):
        return 9, i
    if ch == ord("x"):
        v = 0
        for _ in range(2):
            if i + 1 < len(s) and s[i + 1] in _HEX:
                i += 1
                v = v * 16 + int(chr(s[i]), 16)
            else:
                break
        return v, i
    return ch, i


class _Abandon(Exception):
    pass


def build(argv: list[str], stdin, out, err) -> int:
    lowercase = warn = duperr = True
    lastdup = False
    add_zero = b"\0"
    args = list(argv)
    while args:
        a = args[0]
        if a == "-nolc":
            lowercase = False
        elif a == "-nowarn":
            warn = False
        elif a == "-lastdup":
            lastdup = True
        elif a == "-noduperr":
            duperr = False
        elif a == "-nozero":
            add_zero = b""
        else:
            break
        args.pop(0)
    if len(args) != 2:
        out.write(b"usage: exim_dbmbuild [-nolc] <source file> <dbm base name>\n")
        return 1
    source, target = args
    if source == "-":
        f = stdin
    else:
        try:
            f = open(source, "rb")
        except OSError as e:
            out.write(b"exim_dbmbuild: unable to open %s: %s\n"
                      % (os.fsencode(source), e.strerror.encode()))
            return 1
    if source == target:
        out.write(b"exim_dbmbuild: input and output filenames are the same\n")
        return 1
    if len(os.fsencode(target)) > MAX_NAME:
        out.write(b"exim_dbmbuild: output filename is ridiculously long\n")
        return 1
    temp = target + ".dbmbuild_temp"
    try:
        os.close(os.open(temp, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as e:
        out.write(b"exim_dbmbuild: unable to create %s: %s\n"
                  % (os.fsencode(temp), e.strerror.encode()))
        if f is not stdin:
            f.close()
        return 1

    records: dict[bytes, bytes] = {}
    state = {"count": 0, "dups": 0, "yield": 0}

    def put(key: bytes, data: bytes) -> None:
        if key in records:
            if warn:
                err.write(b'** Duplicate key "%s"\n' % key[:len(key) - len(add_zero)])
                err.flush()
            state["dups"] += 1
            if duperr:
                state["yield"] = 1
            if lastdup:
                records[key] = data
        else:
            records[key] = data
            state["count"] += 1

    key = b""
    buf = b""
    started = False
    try:
        for raw in f:
            if len(raw) >= MAX_INSIZE - 1 and not raw.endswith(b"\n"):
                out.write(b"Overlong line read: max permitted length is %d\n"
                          % (MAX_INSIZE - 1))
                os.unlink(temp)
                return 1
            if raw[:1] == b"#":
                continue
            line = raw.rstrip(_SPACE)
            if not line:
                continue
            if line[0] in _SPACE:
                if not started:
                    out.write(b"Unexpected continuation line ignored\n%s\n\n" % line)
                    continue
                cont = b" " + line.lstrip(_SPACE)
                if len(buf) + len(cont) >= MAX_OUTSIZE - 1:
                    out.write(b"Continued set of lines is too long: max permitted length "
                              b"is %d\n" % (MAX_OUTSIZE - 1))
                    os.unlink(temp)
                    return 1
                buf += cont
                continue
            if started:
                put(key, buf + add_zero)
                buf = b""
            i = 0
            n = len(line)
            if line[0] == 0x22:
                k = bytearray()
                i = 1
                while i < n and line[i] != 0x22:
                    if line[i] == 0x5C:
                        c, i = _escape(line, i)
                        k.append(c)
                    else:
                        k.append(line[i])
                    i += 1
                if i < n:
                    i += 1
                kb = bytes(k)
            else:
                while i < n and line[i] != 0x3A and line[i] not in _SPACE:
                    i += 1
                kb = line[:i]
            if len(kb) + len(add_zero) > 256:
                out.write(b"Keys longer than 255 characters cannot be handled\n")
                started = False
                state["yield"] = 2
                raise _Abandon
            if lowercase:
                kb = kb.lower()
            key = kb + add_zero
            started = True
            while i < n and line[i] in _SPACE:
                i += 1
            if i < n and line[i] == 0x3A:
                i += 1
                while i < n and line[i] in _SPACE:
                    i += 1
            buf = line[i:]
        if started:
            put(key, buf + add_zero)
    except _Abandon:
        pass
    finally:
        if f is not stdin:
            f.close()

    if state["yield"] in (0, 1):
        try:
            write_hash(temp, list(records.items()))
        except OSError as e:
            out.write(b"Error %d while writing key %s: errno=%d\n" % (-1, b"", e.errno or 0))
            os.unlink(temp)
            return 2
        count = state["count"]
        out.write(b"%d entr%s written\n" % (count, b"y" if count == 1 else b"ies"))
        if state["dups"]:
            out.write(b"%d duplicate key%s \n" % (state["dups"], b"s" if state["dups"] > 1
                                                  else b""))
        try:
            os.rename(temp, target)
        except OSError:
            out.write(b"Unable to rename %s as %s\n" % (os.fsencode(temp), os.fsencode(target)))
            return 1
    else:
        out.write(b"dbmbuild abandoned\n")
        try:
            os.unlink(temp)
        except OSError:
            pass
    return state["yield"]


def main(argv: list[str] | None = None) -> int:
    # Like C stdio: stdout to a terminal is line-buffered, otherwise it appears
    # at exit, after the duplicate-key warnings written to stderr.
    real = sys.stdout.buffer
    out = real if real.isatty() else io.BytesIO()
    try:
        rc = build(sys.argv[1:] if argv is None else argv, sys.stdin.buffer, out,
                   sys.stderr.buffer)
    finally:
        if out is not real:
            real.write(out.getvalue())
        real.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
