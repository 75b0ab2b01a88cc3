"""Berkeley DB hash files, the format Debian's exim (libdb 5.3) uses for dbm
lookups and writes with exim_dbmbuild: a pure-Python reader and writer.

On-disk layout (all integers in the byte order of the machine that wrote the
file, recognised by the magic number):

* page 0, the hash meta page: generic meta header (LSN, page number, magic
  0x061561, version, page size, page type 8, free list, last page, ...,
  20-byte file id), then ``max_bucket``, ``high_mask``, ``low_mask``,
  ``ffactor``, ``nelem``, ``h_charkey`` (hash of ``"%$sniglet^&\\0"``, which
  identifies the hash function) and the 32 ``spares`` that map buckets to
  pages: ``page = bucket + spares[ceil(log2(bucket + 1))]``.
* bucket pages (type 13, sorted; 2 in old files, unsorted): a 26-byte page
  header (LSN, pgno, prev, next, entries, hf_offset, level, type), an array of
  2-byte item offsets, items packed from the end of the page.  Items alternate
  key, data; each starts with a type byte: 1 inline bytes, 2 on-page
  duplicates, 3 an off-page item (pgno, total length) held on a chain of
  overflow pages (type 7, ``hf_offset`` bytes of data each).
* a bucket's further pages hang off ``next_pgno``.

Only hash databases are handled (exim_dbmbuild and most MTAs' tools make
hash files); other access methods, encryption and checksums are refused.
"""

from __future__ import annotations

import os
import struct
from functools import cmp_to_key

HASH_MAGIC = 0x061561
HASH_VERSION = 9
P_HASH_UNSORTED, P_OVERFLOW, P_HASHMETA, P_HASH = 2, 7, 8, 13
H_KEYDATA, H_DUPLICATE, H_OFFPAGE, H_OFFDUP = 1, 2, 3, 4
PAGE_HEADER = 26
CHARKEY = b"%$sniglet^&\0"
OTHER_MAGICS = {0x053162: "btree", 0x042253: "queue", 0x061561: "hash", 0x074582: "heap"}


class BDBError(Exception):
    """Not a Berkeley DB hash file pexim can read; ``errno`` for the caller."""

    def __init__(self, message: str, errno: int = 2):
        super().__init__(message)
        self.message = message
        self.errno = errno


def ham_func5(data: bytes) -> int:
    """Berkeley DB's default hash function (Fowler/Noll/Vo, zero basis)."""
    h = 0
    for c in data:
        h = ((h * 16777619) & 0xFFFFFFFF) ^ c
    return h


def _log2(n: int) -> int:
    """__db_log2(): the smallest i with 2**i >= n."""
    i = 0
    limit = 1
    while limit < n:
        limit <<= 1
        i += 1
    return i


class HashDB:
    """A hash database image (bytes or mmap): ``get(key)`` walks one bucket."""

    def __init__(self, data):
        self.data = data
        if len(data) < 512:
            raise BDBError("unexpected file type or format")
        for end in ("<", ">"):
            magic, version, pagesize = struct.unpack_from(end + "III", data, 12)
            if magic in OTHER_MAGICS:
                break
        else:
            raise BDBError("unexpected file type or format")
        if magic != HASH_MAGIC:
            raise BDBError("%s databases are not supported by pexim" % OTHER_MAGICS[magic])
        if data[24] != 0:
            raise BDBError("Encrypted database: no encryption flag specified")
        if data[26] & 1:
            raise BDBError("checksummed databases are not supported by pexim")
        if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
            raise BDBError("unexpected file type or format")
        self.pagesize = pagesize
        self.npages = len(data) // pagesize
        self.end = end
        (self.max_bucket, self.high_mask, self.low_mask, _, _,
         charkey) = struct.unpack_from(end + "6I", data, 72)
        self.spares = struct.unpack_from(end + "32I", data, 96)
        # Files made with a non-default hash function are read by a full scan.
        self.hashed = charkey == ham_func5(CHARKEY)
        self.head = struct.Struct(end + "IIIIIHHBB")
        self.u16 = struct.Struct(end + "H")
        self._all: dict[bytes, bytes] | None = None

    def _page(self, pgno: int) -> int:
        if pgno <= 0 or pgno >= self.npages:
            raise BDBError("page %d out of range" % pgno, 22)
        return pgno * self.pagesize

    def _overflow(self, pgno: int, tlen: int) -> bytes:
        out = []
        got = 0
        seen = 0
        data = self.data
        while pgno and got < tlen:
            off = self._page(pgno)
            _, _, _, _, nxt, _, length, _, ptype = self.head.unpack_from(data, off)
            if ptype != P_OVERFLOW:
                raise BDBError("bad overflow page %d" % pgno, 22)
            out.append(bytes(data[off + PAGE_HEADER:off + PAGE_HEADER + length]))
            got += length
            pgno = nxt
            seen += 1
            if seen > self.npages:
                raise BDBError("overflow chain loops", 22)
        return b"".join(out)[:tlen]

    def _item(self, off: int, start: int, stop: int) -> bytes | None:
        data = self.data
        kind = data[off + start]
        if kind == H_KEYDATA:
            return bytes(data[off + start + 1:off + stop])
        if kind == H_OFFPAGE:
            pg, tlen = struct.unpack_from(self.end + "II", data, off + start + 4)
            return self._overflow(pg, tlen)
        if kind == H_DUPLICATE:          # on-page duplicates: len, bytes, len
            n, = self.u16.unpack_from(data, off + start + 1)
            return bytes(data[off + start + 3:off + start + 3 + n])
        return None                       # off-page duplicate trees: not read

    def _bucket(self, bucket: int):
        """(key, data) pairs of one bucket, following its page chain."""
        pgno = bucket + self.spares[_log2(bucket + 1)]
        seen = 0
        data = self.data
        while pgno:
            off = self._page(pgno)
            _, _, _, _, nxt, entries, _, _, ptype = self.head.unpack_from(data, off)
            if ptype not in (P_HASH, P_HASH_UNSORTED):
                raise BDBError("bad hash page %d" % pgno, 22)
            inp = struct.unpack_from(self.end + "%dH" % entries, data, off + PAGE_HEADER)
            for i in range(0, entries - 1, 2):
                kend = self.pagesize if i == 0 else inp[i - 1]
                yield (lambda o=off, a=inp[i], b=kend: self._item(o, a, b),
                       lambda o=off, a=inp[i + 1], b=inp[i]: self._item(o, a, b))
            pgno = nxt
            seen += 1
            if seen > self.npages:
                raise BDBError("bucket chain loops", 22)

    def items(self) -> dict[bytes, bytes]:
        """Every key/data pair (the first data item of duplicated keys)."""
        if self._all is None:
            result: dict[bytes, bytes] = {}
            for bucket in range(self.max_bucket + 1):
                for key, value in self._bucket(bucket):
                    k = key()
                    if k is not None and k not in result:
                        v = value()
                        if v is not None:
                            result[k] = v
            self._all = result
        return self._all

    def get(self, key: bytes) -> bytes | None:
        if not self.hashed:
            return self.items().get(key)
        bucket = ham_func5(key) & self.high_mask
        if bucket > self.max_bucket:
            bucket &= self.low_mask
        for k, value in self._bucket(bucket):
            if k() == key:
                return value()
        return None


def read_hash(data) -> dict[bytes, bytes]:
    """Every key/data pair of a hash database image."""
    return HashDB(data).items()


# --- writing --------------------------------------------------------------------

def _page_order(a: tuple[bytes, bytes], b: tuple[bytes, bytes]) -> int:
    """How libdb 5.3 sorts keys on a hash page: bytewise, but a key sorts before
    its own prefixes (observed in exim_dbmbuild's files: "u\0r\0x" < "u\0r")."""
    ka, kb = a[0], b[0]
    n = min(len(ka), len(kb))
    if ka[:n] != kb[:n]:
        return -1 if ka[:n] < kb[:n] else 1
    return len(kb) - len(ka)


def _page_header(pgno: int, prev: int, nxt: int, entries: int, hf_offset: int,
                 ptype: int) -> bytes:
    # LSN (0, 1) marks a page that was never logged, as libdb writes it.
    return struct.pack("<IIIIIHHBB", 0, 1, pgno, prev, nxt, entries, hf_offset, 0, ptype)


def write_hash(path: str, pairs: list[tuple[bytes, bytes]], pagesize: int = 4096) -> None:
    """Write ``pairs`` (unique keys) as a libdb 5.3 hash database at ``path``."""
    big = pagesize // 4
    pages: dict[int, bytes] = {}
    overflow_next = [0]   # set once the bucket count is known

    def store_big(blob: bytes) -> bytes:
        """Put ``blob`` on overflow pages; the 12-byte H_OFFPAGE item."""
        room = pagesize - PAGE_HEADER
        chunks = [blob[i:i + room] for i in range(0, len(blob), room)] or [b""]
        first = overflow_next[0]
        for n, chunk in enumerate(chunks):
            pgno = first + n
            prev = pgno - 1 if n else 0
            nxt = pgno + 1 if n + 1 < len(chunks) else 0
            body = _page_header(pgno, prev, nxt, 1, len(chunk), P_OVERFLOW) + chunk
            pages[pgno] = body + bytes(pagesize - len(body))
        overflow_next[0] = first + len(chunks)
        return struct.pack("<B3xII", H_OFFPAGE, first, len(blob))

    def size(b: bytes) -> int:
        return len(b) + 1 if len(b) + 1 <= big else 12

    items = sorted(pairs, key=cmp_to_key(_page_order))
    total = sum(size(k) + size(v) + 4 for k, v in items)
    nbuckets = 2
    while nbuckets * (pagesize - PAGE_HEADER) * 3 // 4 < total:
        nbuckets <<= 1
    buckets: list[list[tuple[bytes, bytes]]] = [[] for _ in range(nbuckets)]
    for k, v in items:
        buckets[ham_func5(k) & (nbuckets - 1)].append((k, v))
    overflow_next[0] = nbuckets + 1

    for b, entries in enumerate(buckets):
        chain: list[list[bytes]] = [[]]
        used = PAGE_HEADER
        for k, v in entries:
            ik = bytes([H_KEYDATA]) + k if len(k) + 1 <= big else store_big(k)
            iv = bytes([H_KEYDATA]) + v if len(v) + 1 <= big else store_big(v)
            need = len(ik) + len(iv) + 4
            if used + need > pagesize:
                chain.append([])
                used = PAGE_HEADER
            chain[-1] += [ik, iv]
            used += need
        pgnos = [b + 1] + [0] * (len(chain) - 1)
        for n in range(1, len(chain)):
            pgnos[n] = overflow_next[0]
            overflow_next[0] += 1
        for n, page_items in enumerate(chain):
            offsets = []
            end = pagesize
            for it in page_items:
                end -= len(it)
                offsets.append(end)
            prev = pgnos[n - 1] if n else 0
            nxt = pgnos[n + 1] if n + 1 < len(chain) else 0
            head = _page_header(pgnos[n], prev, nxt, len(page_items), end, P_HASH)
            head += struct.pack("<%dH" % len(offsets), *offsets)
            body = b"".join(reversed(page_items))
            pages[pgnos[n]] = head + bytes(pagesize - len(head) - len(body)) + body

    last = overflow_next[0] - 1
    l2 = _log2(nbuckets)
    spares = [1] * (l2 + 1) + [0] * (32 - l2 - 1)
    meta = struct.pack("<IIIIIIBBBBIIIIII", 0, 1, 0, HASH_MAGIC, HASH_VERSION, pagesize,
                       0, P_HASHMETA, 0, 0, 0, last, 0, 0, 0, 0)
    meta += os.urandom(20)                       # file id
    meta += struct.pack("<IIIIII", nbuckets - 1, nbuckets - 1, nbuckets // 2 - 1, 0,
                        len(items), ham_func5(CHARKEY))
    meta += struct.pack("<32I", *spares)
    pages[0] = meta + bytes(pagesize - len(meta))
    with open(path, "wb") as f:
        for pgno in range(last + 1):
            f.write(pages[pgno])
