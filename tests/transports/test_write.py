"""write_message (transport_write_message): the bytes as real exim writes them."""

from __future__ import annotations

import errno

import pytest
from local_site import LocalSite, needs_exim_root, normalise

from pexim.delivery import errors as E
from pexim.delivery.address import AddressItem
from pexim.delivery.context import TransportContext
from pexim.delivery.message import DeliveryMessage
from pexim.message.envelope import Recipient, SpoolMessage
from pexim.message.headers import typed
from pexim.spool.paths import SpoolPaths
from pexim.transports.write import LineWriter, WriteError, write_message

MSG = (b"Subject: test\nFrom: someone@else.example\nTo: a@b.example, c@d.example\n"
       b"X-Drop: me\nX-Dropped-Too: yes\nCc: a@b.example\n\n"
       b"body line\nFrom here\n.\n..two\nFrom\n")

TRANSPORT = """\
  driver = appendfile
  file = {out}/mbox
  user = Debian-exim
  envelope_to_add
  return_path_add
  delivery_date_add
  headers_add = X-Added: $local_part\\nX-Second: ${if eq{1}{1}{yes}}
  headers_add = ${if eq{1}{2}{X-Never: 1}fail}
  headers_remove = x-drop : X-Dropped*
  headers_rewrite = a@b.example rewritten@b.example tc
"""


def _pexim_mbox(site, mid, **kw) -> bytes:
    """What appendfile puts in an mbox: prefix, write_message() output, suffix."""
    from pexim.expand import expand_string
    from pexim.transports.pipe import MBOX_PREFIX

    m = site.message(mid)
    addrs = site.addrs(m)[:1]
    for a in addrs:
        a.extra_headers = kw.pop("extra_headers", [])
        a.remove_headers = kw.pop("remove_headers", [])
    ctx = m.context(addrs[0], {"return_path": m.sender})
    out = [expand_string(MBOX_PREFIX, ctx).encode()]
    write_message(site.transport(), m, addrs, site.tctx(), out.append,
                  escape=(b"From ", b">From "))
    out.append(b"\n")
    return b"".join(out)


@needs_exim_root
def test_headers_added_removed_rewritten_as_exim_writes_them():
    site = LocalSite(TRANSPORT, name="write")
    try:
        mid = site.submit(MSG, rcpts=("user@test.example", "other@test.example"))
        ours = _pexim_mbox(site, mid)
        log = site.exim_deliver(mid)
        assert "=> user" in log, log
        theirs = (site.out / "mbox").read_bytes()
        # exim delivers the two recipients one at a time (batch_max 1)
        first = theirs[:theirs.index(b"\nFrom sender", 10) + 1]
        assert normalise(ours) == normalise(first)
        assert b"X-Drop" not in ours and b"X-Never" not in ours
        assert b"To: rewritten@b.example, c@d.example\n" in ours
    finally:
        site.cleanup()


@needs_exim_root
def test_router_headers_and_transport_filter_as_exim():
    router = ("  headers_add = X-Router: added\n"
              "  headers_remove = Subject\n")
    transport = ("  driver = appendfile\n  file = {out}/mbox\n  user = Debian-exim\n"
                 "  transport_filter = /bin/sed -e s/body/BODY/ -e $local_part\n"
                 .replace("$local_part", "s/^From:/X-From:/"))
    site = LocalSite(transport, router=router, name="filter")
    try:
        mid = site.submit(MSG)
        ours = _pexim_mbox(site, mid, extra_headers=["X-Router: added\n"],
                           remove_headers=["Subject"])
        site.exim_deliver(mid)
        theirs = (site.out / "mbox").read_bytes()
        assert normalise(ours) == normalise(theirs)
        assert b"BODY line" in ours and b"\nX-From: someone" in ours
    finally:
        site.cleanup()


def _message(body: bytes, headers=("Subject: s\n",)) -> DeliveryMessage:
    sm = SpoolMessage(id="1xV2cr-0007wY-0h", sender="s@x.example",
                      recipients=[Recipient("u@y.example")],
                      headers=[typed(h) for h in headers])
    return DeliveryMessage(None, sm, SpoolPaths("/nonexistent"), body=body)


class _Tp:
    """A transport with only the options a test sets (DriverInstance.get)."""

    name = "t"

    def __init__(self, **opts):
        self.opts = opts

    def get(self, name):
        return self.opts.get(name)


def _write(tp, msg, **kw) -> bytes:
    out: list[bytes] = []
    n = write_message(tp, msg, [AddressItem("u@y.example")], TransportContext(None),
                      out.append, **kw)
    data = b"".join(out)
    assert n == len(data)
    return data


def test_smtp_dot_stuffing_crlf_and_terminating_dot():
    msg = _message(b".hidden\nplain\r\n..\n", headers=("Subject: s\n", ".odd: header\n"))
    assert _write(_Tp(), msg, crlf=True, dot_stuff=True) == (
        b"Subject: s\r\n..odd: header\r\n\r\n..hidden\r\nplain\r\n...\r\n.\r\n")


def test_escaping_is_the_same_whatever_the_chunking():
    data = b"From a\nxFrom b\nFrom\nFro\nFrom c\n.\n" * 3
    whole: list[bytes] = []
    w = LineWriter(whole.append, True, b"From ", b">From ")
    w.start_body()
    w.write(data)
    w.stop()
    for size in (1, 2, 3, 5, 7):
        pieces: list[bytes] = []
        w = LineWriter(pieces.append, True, b"From ", b">From ")
        w.start_body()
        for i in range(0, len(data), size):
            w.write(data[i:i + size])
        w.stop()
        assert b"".join(pieces) == b"".join(whole)
    assert b"".join(whole).startswith(b">From a\r\nxFrom b\r\nFrom\r\nFro\r\n>From c\r\n")


def test_body_only_and_headers_only():
    msg = _message(b"the body\n")
    assert _write(_Tp(body_only=True), msg) == b"the body\n"
    assert _write(_Tp(headers_only=True), msg) == b"Subject: s\n\n"


def test_envelope_to_lists_top_ancestors_once():
    parent = AddressItem("list@y.example")
    kids = [parent.child("a@z.example"), parent.child("b@z.example"), AddressItem("c@q")]
    out: list[bytes] = []
    write_message(_Tp(envelope_to_add=True, headers_only=True), _message(b""), kids,
                  TransportContext(None), out.append)
    assert b"".join(out).startswith(b"Envelope-to: list@y.example,\n c@q\nSubject: s\n")


def test_filter_failure_and_timeout_give_exims_errnos():
    msg = _message(b"x\n" * 10)
    with pytest.raises(WriteError) as ei:
        _write(_Tp(transport_filter='/bin/sh -c "cat >/dev/null; exit 3"'), msg)
    assert ei.value.basic_errno == E.FILTER_FAIL and ei.value.more_errno == 3
    with pytest.raises(WriteError) as ei:
        _write(_Tp(transport_filter="/bin/sleep 5", transport_filter_timeout=1), msg)
    assert ei.value.basic_errno == errno.ETIMEDOUT


def test_streams_a_large_body_from_the_spool_file(tmp_path):
    (tmp_path / "input").mkdir()
    mid = "1xV2cr-0007wY-0h"
    body = b"From x\n" + b"y" * 200000 + b"\n"
    (tmp_path / "input" / f"{mid}-D").write_bytes(f"{mid}-D\n".encode() + body)
    sm = SpoolMessage(id=mid, sender="s@x", headers=[typed("Subject: s\n")])
    msg = DeliveryMessage(None, sm, SpoolPaths(str(tmp_path)))
    chunks: list[bytes] = []
    write_message(_Tp(), msg, [], TransportContext(None), chunks.append,
                  escape=(b"From ", b">From "))
    assert b"".join(chunks) == b"Subject: s\n\n>" + body
    assert msg._body is None and len(chunks) > 3
