"""Writing a message to the spool: the -D file, then the -H file, durably.

Order and names as Exim's receive.c / spool_out.c: the -D file is created
under its final name (O_EXCL, locked, first line "<id>-D"); the -H file is
written as ``hdr.<id>``, fsync'd and renamed, then the directory is fsync'd.
Queue runners only look at messages with a -H file, so a crash before the
rename leaves an orphan -D and never a half message.  When ``commit`` returns
the message is on disk and the caller may say 250 (DESIGN, "Durable before
acknowledged").
"""

from __future__ import annotations

import os

from pexim.bytestr import printing
from pexim.expand.taint import is_tainted, like
from pexim.message.envelope import HTYPE_OLD, SpoolMessage
from pexim.spool.locking import lock_data_file
from pexim.spool.paths import SPOOL_MODE, SpoolPaths


class SpoolError(OSError):
    """A spool write failed; ``str()`` is Exim's text ("spool file ... error ...")."""


def _enc(text: str) -> bytes:
    """Spool text is a byte string in str (latin-1); real Unicode goes out as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _var(name: str, value: str) -> str:
    """spool_var_write(): "-name value", "--name value" when the value is tainted."""
    return "%s%s %s\n" % ("--" if is_tainted(value) else "-", name, value)


def _acl_var(name: str, value: str) -> str:
    """acl_var_write(): "-aclc _foo 3\\nbar\\n" for acl_c_foo (value may hold newlines)."""
    rest = name[4:]     # "c_foo" / "m0"
    return "%sacl%s %s %d\n%s\n" % ("--" if is_tainted(value) else "-", rest[0], rest[1:],
                                    len(_enc(value)), value)


def _tree_lines(nodes: list[str], out: list[str]) -> None:
    """tree_write(): a binary search tree, root first, "Y"/"N" for each branch."""
    if not nodes:
        return
    mid = len(nodes) // 2
    left, right = nodes[:mid], nodes[mid + 1:]
    out.append("%s%s %s\n" % ("Y" if left else "N", "Y" if right else "N", nodes[mid]))
    _tree_lines(left, out)
    _tree_lines(right, out)


def format_header_file(msg: SpoolMessage) -> bytes:
    """The -H file's bytes, field for field as Exim 4.96 writes them."""
    o: list[str] = []
    w = o.append
    w("%s-H\n" % msg.id)
    w("%.63s %d %d\n" % (msg.originator_login, msg.originator_uid, msg.originator_gid))
    w("<%s>\n" % msg.sender)
    sec, usec = msg.received_time
    w("%d %d\n" % (sec, msg.warning_count))
    w("-received_time_usec .%06d\n" % usec)
    csec, cusec = msg.received_time_complete or msg.received_time
    w("-received_time_complete %d.%06d\n" % (csec, cusec))
    if msg.helo_name is not None:
        w(_var("helo_name", msg.helo_name))
    if msg.host_address is not None:
        w("%shost_address [%s]:%d\n" % ("--" if is_tainted(msg.host_address) else "-",
                                         msg.host_address, msg.host_port))
        if msg.host_name is not None:
            w(_var("host_name", msg.host_name))
    if msg.host_auth is not None:
        w(_var("host_auth", msg.host_auth))
    if msg.host_auth_pubname is not None:
        w(_var("host_auth_pubname", msg.host_auth_pubname))
    if msg.interface_address is not None:
        w("%sinterface_address [%s]:%d\n" % (
            "--" if is_tainted(msg.interface_address) else "-",
            msg.interface_address, msg.interface_port))
    if msg.active_hostname is not None:
        w(_var("active_hostname", msg.active_hostname))
    if msg.ident is not None:
        w(_var("ident", msg.ident))
    if msg.received_protocol is not None:
        w(_var("received_protocol", msg.received_protocol))
    for store in (msg.acl_c, msg.acl_m):
        for name in sorted(store, key=_enc):        # tree_walk: strcmp order
            w(_acl_var(name, store[name]))
    if msg.spool_file_wireformat:
        w("-spool_file_wireformat\n")
    else:
        w("-body_linecount %d\n" % msg.body_linecount)
    w("-max_received_linelength %d\n" % msg.max_received_linelength)
    if msg.body_zerocount > 0:
        w("-body_zerocount %d\n" % msg.body_zerocount)
    if msg.auth_id is not None:
        w(_var("auth_id", msg.auth_id))
    if msg.auth_sender is not None:
        w(_var("auth_sender", msg.auth_sender.replace("\n", "?")))
    for flag, line in (("allow_unqualified_recipient", "-allow_unqualified_recipient\n"),
                       ("allow_unqualified_sender", "-allow_unqualified_sender\n"),
                       ("deliver_firsttime", "-deliver_firsttime\n")):
        if getattr(msg, flag):
            w(line)
    if msg.frozen_at is not None:
        w("-frozen %d\n" % msg.frozen_at)
    for flag, line in (("dont_deliver", "-N\n"),
                       ("host_lookup_deferred", "-host_lookup_deferred\n"),
                       ("host_lookup_failed", "-host_lookup_failed\n"),
                       ("local", "-local\n"), ("localerror", "-localerror\n")):
        if getattr(msg, flag):
            w(line)
    for name in ("local_scan", "spam_bar", "spam_score", "spam_score_int"):
        value = getattr(msg, name)
        if value is not None:
            w(_var(name, value))
    if msg.manual_thaw:
        w("-manual_thaw\n")
    if msg.sender_set_untrusted:
        w("-sender_set_untrusted\n")
    if msg.tls_certificate_verified:
        w("-tls_certificate_verified\n")
    if msg.tls_cipher is not None:
        w(_var("tls_cipher", msg.tls_cipher))
    if msg.tls_peercert is not None:
        w("--tls_peercert %s\n" % msg.tls_peercert)
    if msg.tls_peerdn is not None:
        w(_var("tls_peerdn", like(msg.tls_peerdn, printing(msg.tls_peerdn))))
    if msg.tls_sni is not None:
        w(_var("tls_sni", like(msg.tls_sni, printing(msg.tls_sni))))
    if msg.tls_ourcert is not None:
        w("-tls_ourcert %s\n" % msg.tls_ourcert)
    if msg.tls_ocsp:
        w("-tls_ocsp %d\n" % msg.tls_ocsp)
    w("-tls_resumption %s\n" % msg.tls_resumption)
    if msg.tls_ver is not None:
        w(_var("tls_ver", msg.tls_ver))
    if msg.smtputf8:
        w("-smtputf8\n")
        if msg.utf8_downconvert:
            w("-utf8_%sdowncvt\n" % ("opt" if msg.utf8_downconvert < 0 else ""))
    if msg.dsn_envid is not None:
        w("-dsn_envid %s\n" % msg.dsn_envid)
    if msg.dsn_ret:
        w("-dsn_ret %d\n" % msg.dsn_ret)
    if msg.nonrecipients:
        _tree_lines(sorted(msg.nonrecipients, key=_enc), o)
    else:
        w("XX\n")
    w("%d\n" % len(msg.recipients))
    for r in msg.recipients:
        if r.pno < 0 and r.errors_to is None and r.dsn_flags == 0:
            w("%s\n" % r.address)
        else:
            orcpt = r.orcpt or ""
            errors_to = r.errors_to or ""
            w("%s %s %d,%d %s %d,%d#3\n" % (r.address, orcpt, len(_enc(orcpt)), r.dsn_flags,
                                           errors_to, len(_enc(errors_to)), r.pno))
    w("\n")
    for h in msg.headers:
        w("%03d%s %s" % (len(_enc(h.text)), h.type, h.text))
    return b"".join(_enc(x) for x in o)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            os.fsync(fd)
        except OSError as err:      # some file systems cannot sync a directory
            import errno

            if err.errno != errno.EINVAL:
                raise
    finally:
        os.close(fd)


def _fail(what: str, where: str, err: OSError) -> SpoolError:
    return SpoolError(err.errno, "spool file %s error while %s: %s"
                      % (what, where, os.strerror(err.errno or 0)))


class DataFile:
    """An open, locked -D file being filled with the body.

    Keep it open for as long as this process owns the message: closing it
    releases Exim's lock (see locking.py).
    """

    def __init__(self, paths: SpoolPaths, message_id: str,
                 owner: tuple[int, int] | None = None, wireformat: bool = False):
        self.paths = paths
        self.message_id = message_id
        self.owner = owner
        self.wireformat = wireformat
        self.path = paths.input_file(message_id, "-D")
        paths.ensure("input", message_id, owner)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, SPOOL_MODE)
        try:
            if owner is not None:
                os.fchown(self.fd, *owner)
            os.fchmod(self.fd, SPOOL_MODE)
            if not lock_data_file(self.fd):
                raise SpoolError(0, f"Cannot lock {self.path}")
            os.write(self.fd, (message_id + "-D\n").encode("ascii"))
        except BaseException:
            os.close(self.fd)
            os.unlink(self.path)
            raise
        self.body_size = 0

    def write(self, data: bytes) -> None:
        """Append body bytes (Unix line ends; CRLF when wireformat; no dot-stuffing)."""
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.body_size += len(data)

    def sync(self) -> None:
        os.fsync(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def discard(self) -> None:
        """Give up on the message (rejected after DATA): remove the -D file."""
        try:
            os.unlink(self.path)
        finally:
            self.close()

    def commit(self, msg: SpoolMessage) -> int:
        """fsync -D, write -H durably; returns the header size. The lock stays held."""
        if msg.id != self.message_id:
            raise ValueError("message id does not match the data file")
        msg.spool_file_wireformat = self.wireformat
        try:
            self.sync()
        except OSError as err:
            raise _fail("sync", "receiving", err) from err
        return write_header(self.paths, msg, self.owner, "receiving")


def write_header(paths: SpoolPaths, msg: SpoolMessage, owner: tuple[int, int] | None = None,
                 where: str = "modifying") -> int:
    """spool_write_header(): write -H under its temp name, fsync, rename, fsync the dir.

    Also used after a deferral (the caller holds the -D lock). Returns the
    size of the header texts (excluding deleted headers), as Exim does.
    """
    data = format_header_file(msg)
    tname = paths.temp_header(msg.id)
    directory = paths.ensure("input", msg.id, owner)
    try:
        fd = os.open(tname, os.O_RDWR | os.O_CREAT | os.O_EXCL, SPOOL_MODE)
    except FileExistsError:
        os.unlink(tname)
        fd = os.open(tname, os.O_RDWR | os.O_CREAT | os.O_EXCL, SPOOL_MODE)
    except OSError as err:
        raise _fail("open", where, err) from err
    step = "write"
    try:
        if owner is not None:
            os.fchown(fd, *owner)
        os.fchmod(fd, SPOOL_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        step = "sync"
        os.fsync(fd)
    except OSError as err:
        os.close(fd)
        os.unlink(tname)
        raise _fail(step, where, err) from err
    os.close(fd)
    step = "rename"
    try:
        os.rename(tname, paths.input_file(msg.id, "-H"))
        step = "directory sync"
        _fsync_dir(directory)
    except OSError as err:
        raise _fail(step, where, err) from err
    return sum(len(_enc(h.text)) for h in msg.headers if h.type != HTYPE_OLD)
