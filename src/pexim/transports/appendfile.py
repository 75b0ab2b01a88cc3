"""The appendfile transport: mailbox files, maildir, mailstore and MBX."""

import errno as errno_
import os
import re
import socket
import stat as st_
import tempfile
import time

from pexim.config.drivers import DriverError, driver_module, fail_for
from pexim.config.options import Option, T
from pexim.delivery import errors as E
from pexim.delivery.address import DEFER, FAIL, OK
from pexim.expand import ExpansionError, ForcedFail, expand_string
from pexim.expand.taint import is_tainted
from pexim.expand.variables import tod
from pexim.lists import iter_list
from pexim.message.ids import base62
from pexim.transports import maildir as md
from pexim.transports.base import LOCAL_DEFAULTS, user_without_group
from pexim.transports.local import (
    Outcome,
    apply,
    delivery_context,
    expand_option,
    options,
    set_outcome,
)
from pexim.transports.maildir import make_directory, record_length
from pexim.transports.mbox_lock import apply_lock, make_lockfile
from pexim.transports.pipe import MBOX_PREFIX
from pexim.transports.write import WriteError, write_message

S, B = T.STRING, T.BOOL
GENERIC_DEFAULTS = LOCAL_DEFAULTS

OPTIONS = [Option(n, S) for n in (
    "batch_id check_string directory escape_string file file_format mailbox_filecount "
    "mailbox_size maildir_tag maildirfolder_create_regex mailstore_prefix mailstore_suffix "
    "message_prefix message_suffix quota quota_directory quota_filecount quota_size_regex "
    "quota_warn_message quota_warn_threshold"
).split()] + [Option(n, B, "false") for n in (
    "allow_fifo allow_symlink check_group file_must_exist maildir_format mailstore_format "
    "mbx_format notify_comsat use_bsmtp use_crlf"
).split()] + [Option(n, B, "true") for n in (
    "check_owner create_directory mode_fail_narrower quota_is_inclusive"
).split()] + [
    # Exim forgot opt_hidden on this companion, so -bP shows it.
    Option("*expand_maildir_use_size_file", S),
    Option("*set_use_fcntl_lock", B, "false", hidden=True),
    Option("*set_use_flock_lock", B, "false", hidden=True),
    Option("*set_use_lockfile", B, "false", hidden=True),
    Option("*set_use_mbx_lock", B, "false", hidden=True),
    Option("batch_max", T.INT, "1"),
    Option("create_file", S, "anywhere"),
    Option("directory_file", S, "q${base62:$tod_epoch}-$inode"),
    Option("directory_mode", T.OCTINT, "0700"),
    Option("lock_fcntl_timeout", T.TIME, "0s"),
    Option("lock_flock_timeout", T.TIME, "0s"),
    Option("lock_interval", T.TIME, "3s"),
    Option("lock_retries", T.INT, "10"),
    Option("lockfile_mode", T.OCTINT, "0600"),
    Option("lockfile_timeout", T.TIME, "30m"),
    Option("maildir_quota_directory_regex", S, r"^(?:cur|new|\..*)$"),
    Option("maildir_retries", T.INT, "10"),
    Option("maildir_use_size_file", T.EXPAND_BOOL, "false"),
    Option("mode", T.OCTINT, "0600"),
    Option("use_fcntl_lock", T.BOOL_SET, "true"),
    Option("use_flock_lock", T.BOOL_SET, "false"),
    Option("use_lockfile", T.BOOL_SET, "true"),
    Option("use_mbx_lock", T.BOOL_SET, "false"),
]

_LOCKS = ("use_fcntl_lock", "use_flock_lock", "use_lockfile", "use_mbx_lock")


def _locks(v) -> dict:
    """Default locking: flock replaces fcntl; MBX format prefers MBX locks."""
    lk = {n: bool(v[n]) for n in _LOCKS}
    if lk["use_flock_lock"] and not v.is_set("use_fcntl_lock"):
        lk["use_fcntl_lock"] = False
    if v["mbx_format"]:
        if not any(v.is_set(n) for n in _LOCKS):
            lk.update(use_lockfile=False, use_flock_lock=False,
                      use_mbx_lock=True, use_fcntl_lock=True)
        elif lk["use_mbx_lock"]:
            for n in ("use_lockfile", "use_fcntl_lock", "use_flock_lock"):
                if not v.is_set(n):
                    lk[n] = False
            if not lk["use_fcntl_lock"] and not lk["use_flock_lock"]:
                lk["use_fcntl_lock"] = True
    return lk


# Exim's text when quota_warn_threshold is set without quota_warn_message.
QUOTA_WARN_MESSAGE = (
    "To: $local_part@$domain\n"
    "Subject: Your mailbox\n\n"
    "This message is automatically created by mail delivery software (Exim).\n\n"
    "The size of your mailbox has exceeded a warning threshold that is\n"
    "set by the system administrator.\n")


def derive(inst, v) -> dict:
    out = _locks(v)
    if v["quota_warn_threshold"] is not None and v["quota_warn_message"] is None:
        out["quota_warn_message"] = QUOTA_WARN_MESSAGE
    if v["lock_retries"] == 0:
        out["lock_retries"] = 1
    if not out["use_fcntl_lock"]:
        out["lock_fcntl_timeout"] = 0
    if not out["use_flock_lock"]:
        out["lock_flock_timeout"] = 0
    if v["use_bsmtp"]:
        out.update(check_string=".", escape_string="..")
    elif v["directory"] is None and not v["maildir_format"] and not v["mailstore_format"]:
        defaults = {"message_prefix": MBOX_PREFIX, "message_suffix": "\n",
                    "check_string": "From ", "escape_string": ">From "}
        out.update({k: d for k, d in defaults.items() if v[k] is None})
    return out


def check(inst, v) -> None:
    if v["file"] is not None and v["directory"] is not None:
        raise fail_for(inst, 'only one of "file" or "directory" can be specified')
    if v["file"] is not None:
        for name in ("quota_filecount", "quota_directory"):
            if v[name] is not None:
                raise fail_for(inst, f'{name} must not be set without "directory"')
    if not any(v[n] for n in _LOCKS):
        raise fail_for(inst, "no locking configured")
    if v["directory"] is not None:
        if v["maildir_format"] and v["mailstore_format"]:
            raise fail_for(inst, "only one of maildir and mailstore may be specified")
        for name in ("quota_filecount", "quota_directory"):
            if v[name] is not None and v["quota"] is None:
                raise fail_for(inst, f"quota must be set if {name} is set")
    user_without_group(inst, v)
    if v["create_file"] not in ("anywhere", "belowhome", "inhome"):
        raise DriverError(f'invalid value given for "create_file" for the {inst.name} '
                          f"transport: '{v['create_file']}'")



# --- delivery (appendfile_transport_entry) --------------------------------------------

def deliver(tp, message, addrs, tctx) -> None:
    """Append the message to a mailbox file or write it as a new file in a
    directory (smail style, maildir, mailstore).  Runs as the delivery uid."""

    try:
        extra = _Delivery(tp, message, addrs, tctx).run()
    except Outcome as o:
        apply(addrs, o)
        return
    set_outcome(addrs, OK)
    for a in addrs:
        a.extra.update(extra)


_MBF_UNIX, _MBF_MBX, _MBF_SMAIL, _MBF_MAILDIR, _MBF_MAILSTORE = range(5)
_MBX_HDRSIZE, _MBX_NUSERFLAGS = 2048, 30


def _number(text: str, percent_ok: bool) -> tuple[float, bool] | None:
    """Exim's quota values: a number with optional K/M/G (or % for the
    warning threshold); None when malformed."""

    m = re.match(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", text)
    if not m:
        d, rest = 0.0, text
    else:
        d, rest = float(m.group(1)), text[m.end():]
    pct = False
    if rest[:1].lower() in ("k", "m", "g"):
        d *= 1024.0 ** (" kmg".index(rest[0].lower()))
        rest = rest[1:]
    elif rest[:1] == "%" and percent_ok:
        pct, rest = True, rest[1:]
    if rest.strip():
        return None
    return d, pct


class _Delivery:
    """One run of the transport for a batch (Exim's local variables)."""

    def __init__(self, tp, message, addrs, tctx):

        self.tp, self.message, self.addrs, self.tctx = tp, message, addrs, tctx
        self.addr = addrs[0]
        self.o = options(tp)
        self.ctx = delivery_context(tp, message, self.addr, tctx)
        self.hostname = self.ctx.main_option("primary_hostname") or socket.getfqdn()
        self.extra: dict = {}

    # -- helpers ---------------------------------------------------------------------

    def _fail(self, text, errno=0, **kw):
        return Outcome(text, errno, **kw)

    def _expand(self, value, what):
        return expand_option(self.tp, self.ctx, "", value, what)

    def _setup_quotas(self) -> None:
        """appendfile_transport_setup(): quota and friends, expanded."""

        o = self.o
        self.quota = 0
        self.quota_filecount = 0
        self.threshold = 0
        self.threshold_pct = False
        self.mailbox_size = -1
        self.mailbox_filecount = -1
        for i, name in enumerate(("quota", "quota_filecount", "quota_warn_threshold",
                                  "mailbox_size", "mailbox_filecount")):
            q = o[name]
            if q is None:
                continue
            try:
                s = expand_string(q, self.ctx)
            except ForcedFail as e:
                raise self._fail(f'Expansion of "{q}" in {self.tp.name} transport failed: '
                                 f"{e}", status=FAIL) from e
            except ExpansionError as e:
                deferred = "defer" in type(e).__name__.lower()
                raise self._fail(f'Expansion of "{q}" in {self.tp.name} transport failed: '
                                 f"{e}", status=DEFER if deferred else FAIL) from e
            parsed = _number(s, i == 2)
            if parsed is None:
                raise self._fail(f'Malformed value "{s}" (expansion of "{q}") in '
                                 f"{self.tp.name} transport", status=FAIL)
            d, pct = parsed
            if pct:
                if self.quota <= 0 and not self.use_size_file:
                    d = 0
                elif int(d) < 0 or int(d) > 100:
                    raise self._fail(f"Invalid quota_warn_threshold percentage ({int(d)}) "
                                     f"for {self.tp.name} transport", status=FAIL)
                self.threshold_pct = True
            if d >= 2.0 * 1024 ** 3 and i in (1, 4):
                raise self._fail(f"{name} value {d:.10g} is too large (overflow) in "
                                 f"{self.tp.name} transport", status=FAIL)
            setattr(self, ("quota", "quota_filecount", "threshold", "mailbox_size",
                           "mailbox_filecount")[i], int(d))

    def _size_file_wanted(self) -> bool:

        v = self.o["maildir_use_size_file"]
        if isinstance(v, str):
            try:
                v = expand_string(v, self.ctx).strip().lower() in ("true", "yes", "1")
            except ExpansionError:
                v = False
        return bool(v) and bool(self.o["maildir_format"])

    def _check_creation(self, filename: str) -> bool:
        """check_creation(): create_file = inhome / belowhome relative to $home."""
        home = self.ctx.values.get("home") or self.addr.home_dir
        mode = self.o["create_file"]
        if not home or mode == "anywhere":
            return True
        f = filename
        while f.startswith("//"):
            f = f[1:]
        n = len(home)
        if not f.startswith(home) or f[n:n + 1] != "/":
            return False
        if "/" in f[n + 2:] and (mode != "belowhome" or "/../" in f[n:]):
            return False
        if mode == "belowhome":
            d = os.path.dirname(f)
            while d and d != "/" and not os.path.exists(d):
                d = os.path.dirname(d)
            if d and d != "/":
                real, realhome = os.path.realpath(d), os.path.realpath(home)
                k = min(len(real), len(realhome))
                if real[:k] != realhome[:k]:
                    return False
        return True

    # -- the run -----------------------------------------------------------------------

    def run(self) -> dict:


        o, tp, addr = self.o, self.tp, self.addr
        self.use_size_file = self._size_file_wanted()
        self._setup_quotas()

        isdirectory = False
        fdname = None
        if addr.special in ("file", "directory") and o["file"] is None and o["directory"] is None:
            fdname = "$address_file"
            self.ctx.values["address_file"] = addr.address
            if addr.address.endswith("/") or o["maildir_format"] or o["mailstore_format"]:
                isdirectory = True
        if fdname is None:
            fdname = o["file"]
            if fdname is None:
                fdname, isdirectory = o["directory"], True
            if fdname is None:
                raise self._fail(f"Mandatory file or directory option missing from "
                                 f"{tp.name} transport", panic=True)
        if (o["maildir_format"] or o["mailstore_format"]) and not isdirectory:
            raise self._fail('mail%s_format requires "directory" to be specified for the '
                             "%s transport" % ("dir" if o["maildir_format"] else "store",
                                               tp.name), panic=True)
        path = self._expand(fdname, "file or directory name")
        if path is None:
            raise self._fail(f'Expansion of "{fdname}" (file or directory name for '
                             f"{tp.name} transport) failed: forced failure", panic=True)
        if is_tainted(path):
            raise self._fail(f"Tainted '{path}' (file or directory name for {tp.name} "
                             "transport) not permitted", E.UNKNOWNERROR, panic=True)
        if not path.startswith("/"):
            raise self._fail(f'appendfile: file or directory name "{path}" is not absolute',
                             E.NOTABSOLUTE)
        if addr.special == "file":
            for a in self.addrs:
                a.local_part = path
        self.path = str(path)
        if isdirectory:
            self.mbformat = (_MBF_MAILDIR if o["maildir_format"] else
                             _MBF_MAILSTORE if o["mailstore_format"] else _MBF_SMAIL)
        else:
            self.mbformat = _MBF_MBX if o["mbx_format"] else _MBF_UNIX
        if self.message.spool.dont_deliver:
            return {}
        self.isdirectory = isdirectory
        self.mode = addr.extra.get("mode") or o["mode"]
        self.fd = -1
        self.lockname = None
        self.filename = self.dataname = None
        self.newname = None
        self.isfifo = False
        self.saved_size = -1
        self.times = None
        self.sizefile_fd = -1
        self.disable_quota = False
        try:
            if not isdirectory:
                if self.path == "/dev/null":
                    return {}
                self._open_mailbox()
            else:
                self._open_new_file()
            self._write()
            return self.extra
        finally:
            self._tidy()

    # -- a single file: lock and open ---------------------------------------------------

    def _open_mailbox(self) -> None:


        o, path = self.o, self.path
        self.filename = self.dataname = path
        allowed = self._check_creation(path)
        if o["create_directory"] and allowed:
            parent = os.path.dirname(path)
            try:
                make_directory(parent, o["directory_mode"])
            except OSError as e:
                raise self._fail(f"failed to create directories for {parent}: "
                                 f"{e.strerror}", e.errno or 0) from e
        if o["file_format"]:
            other = self._file_format_transport()
            if other is not None:
                raise other
        retries = max(1, o["lock_retries"] or 1)
        interval = o["lock_interval"] or 0
        if o["use_lockfile"]:
            lockname, err, eno = make_lockfile(path, self.hostname, retries, interval,
                                               o["lockfile_mode"], o["lockfile_timeout"] or 0)
            if err is not None:
                raise self._fail(err, eno)
            if lockname is None:
                raise self._fail(f"failed to lock mailbox {path} (lock file)", E.LOCKFAILED)
            self.lockname = lockname
        uid, gid = os.geteuid(), os.getegid()
        use_lstat = True
        file_opened = False
        i = 0
        fcntl_to = o["lock_fcntl_timeout"] or 0
        flock_to = o["lock_flock_timeout"] or 0
        while i < retries:
            file_opened = False
            try:
                sb = os.lstat(path) if use_lstat else os.stat(path)
            except FileNotFoundError:
                sb = None
            except OSError as e:
                raise self._fail(f"attempting to stat mailbox {path}", e.errno or 0) from e
            if sb is None:
                if o["file_must_exist"]:
                    raise self._fail(f"mailbox {path} does not exist, but file_must_exist "
                                     "is set", 2)
                if not allowed:
                    raise self._fail(f"mailbox {path} does not exist, but creation outside "
                                     "the home directory is not permitted", E.BADCREATE)
                try:
                    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT |
                                 (os.O_EXCL if use_lstat else 0), self.mode)
                except FileExistsError:
                    i += 1
                    continue
                except OSError as e:
                    user_err = self.addr.special == "file" and e.errno in (1, 2, 13)
                    raise self._fail(f"while creating mailbox {path}", e.errno or 0,
                                     status=FAIL if user_err else DEFER) from e
                self.fd = fd
                try:
                    os.chown(path, uid, gid)
                except OSError:
                    pass
                os.chmod(path, self.mode)
            else:
                oldmode = sb.st_mode
                inode = sb.st_ino
                islink = st_.S_ISLNK(oldmode)
                self.isfifo = False
                sl = " (symlink)" if islink else ""
                if o["check_owner"] and sb.st_uid != uid:
                    raise self._fail(f"mailbox {path}{sl} has wrong uid ({sb.st_uid} != {uid})",
                                     E.BADUGID)
                if o["check_group"] and sb.st_gid != gid:
                    raise self._fail(f"mailbox {path}{sl} has wrong gid ({sb.st_gid} != {gid})",
                                     E.BADUGID)
                if islink and o["allow_symlink"]:
                    use_lstat = False
                    continue
                if o["allow_fifo"] and st_.S_ISFIFO(oldmode):
                    self.isfifo = True
                elif not st_.S_ISREG(oldmode):
                    raise self._fail(f"mailbox {path} is not a regular file"
                                     + (" or named pipe" if o["allow_fifo"] else ""),
                                     E.NOTREGULAR)
                oldmode &= 0o7777
                if oldmode != self.mode:
                    diffs = oldmode ^ self.mode
                    if self.addr.extra.get("mode") or (diffs & oldmode) == diffs:
                        try:
                            os.chmod(path, self.mode)
                        except OSError as e:
                            raise self._fail(f"attempting to chmod mailbox {path}",
                                             e.errno or 0) from e
                        oldmode = self.mode
                    elif o["mode_fail_narrower"]:
                        raise self._fail(f"mailbox {path} has the wrong mode {oldmode:o} "
                                         f"({self.mode:o} expected)", E.BADMODE)
                flags = (os.O_WRONLY | os.O_NDELAY) if self.isfifo else (os.O_RDWR | os.O_APPEND)
                try:
                    fd = os.open(path, flags, self.mode)
                except FileNotFoundError:
                    use_lstat = True
                    continue
                except OSError as e:
                    text = (f"while opening named pipe {path} (could mean no process is "
                            "reading it)" if self.isfifo else f"while opening mailbox {path}")
                    raise self._fail(text, e.errno or 0) from e
                self.fd = fd
                sb2 = os.fstat(fd)
                if sb2.st_ino != inode:
                    raise self._fail(f"opened mailbox {path} inode number changed from "
                                     f"{inode} to {sb2.st_ino}", E.INODECHANGED, freeze=True)
                if (not self.isfifo and not st_.S_ISREG(sb2.st_mode)) or (
                        self.isfifo and not st_.S_ISFIFO(sb2.st_mode)):
                    raise self._fail(f"opened mailbox {path} is no longer a "
                                     + ("named pipe" if self.isfifo else "regular file"),
                                     E.NOTREGULAR, freeze=True)
                if (o["check_owner"] and sb2.st_uid != uid) or (
                        o["check_group"] and sb2.st_gid != gid):
                    raise self._fail(f"opened mailbox {path} has wrong uid or gid",
                                     E.BADUGID, freeze=True)
                if sb2.st_mode & 0o7777 != oldmode:
                    raise self._fail(f"opened mailbox {path} has wrong mode "
                                     f"{sb2.st_mode & 0o7777:o} ({self.mode:o} expected)",
                                     E.BADMODE, freeze=True)
            file_opened = True
            timed_out = False
            if not o["use_mbx_lock"] and (o["use_fcntl_lock"] or o["use_flock_lock"]):
                ok, timed_out = apply_lock(self.fd, True, o["use_fcntl_lock"], fcntl_to,
                                           o["use_flock_lock"], flock_to)
                if ok:
                    break
            elif o["use_mbx_lock"]:
                if self._mbx_lock(fcntl_to, flock_to):
                    break
            else:
                break
            os.close(self.fd)
            self.fd = -1
            use_lstat = True
            i += 1
            if timed_out and i * max(fcntl_to, flock_to) >= retries * interval:
                i = retries
            if i < retries and not (fcntl_to > 0 or flock_to > 0):
                time.sleep(interval)
        else:
            if not file_opened:
                raise self._fail(f"mailbox {path}: existence unclear", E.EXISTRACE,
                                 freeze=True)
            raise self._fail(f"failed to lock mailbox {path} (fcntl/flock)", E.LOCKFAILED)
        sb = os.fstat(self.fd)
        self.times = (sb.st_atime, sb.st_mtime)
        self.saved_size = sb.st_size
        if self.mailbox_size < 0:
            self.mailbox_size = self.saved_size
        self.mailbox_filecount = 0

    def _mbx_lock(self, fcntl_to, flock_to) -> bool:
        """c-client's MBX rules: shared lock on the mailbox, exclusive on
        /tmp/.<dev>.<inode>."""


        o = self.o
        ok, _ = apply_lock(self.fd, False, o["use_fcntl_lock"], fcntl_to,
                           o["use_flock_lock"], flock_to)
        if not ok:
            return False
        sb = os.fstat(self.fd)
        name = "/tmp/.%x.%x" % (sb.st_dev, sb.st_ino)
        try:
            lsb = os.lstat(name)
            if st_.S_ISLNK(lsb.st_mode):
                raise self._fail(f"symbolic link on MBX lock file {name}", E.LOCKFAILED)
            if lsb.st_nlink > 1:
                raise self._fail(f"hard link to MBX lock file {name}", E.LOCKFAILED)
        except FileNotFoundError:
            pass
        try:
            lfd = os.open(name, os.O_RDWR | os.O_CREAT, o["lockfile_mode"])
        except OSError as e:
            raise self._fail(f"failed to open MBX lock file {name} :{e.strerror}",
                             E.LOCKFAILED) from e
        os.chmod(name, o["lockfile_mode"])
        ok, _ = apply_lock(lfd, True, o["use_fcntl_lock"], fcntl_to,
                           o["use_flock_lock"], flock_to)
        if ok:
            try:
                a, b = os.lstat(name), os.fstat(lfd)
                if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
                    self.mbx_lock = (name, lfd)
                    return True
            except OSError:
                pass
        os.close(lfd)
        return False

    def _file_format_transport(self):
        """file_format: an existing file's first bytes choose the transport;
        another one delivers instead (its outcome is returned as an Outcome)."""


        try:
            with open(self.path, "rb") as fh:
                data = fh.read(256)
        except OSError:
            return None
        if not data:
            return None
        items = list(iter_list(self.o["file_format"]))
        for j in range(0, len(items), 2):
            s = items[j].encode("latin-1")
            name = items[j + 1] if j + 1 < len(items) else ""
            if data.startswith(s):
                if name == self.tp.name:
                    return None
                other = self.tctx.transport(name) if self.tctx is not None else None
                if other is None:
                    return self._fail(f"{name} transport (for {data[:len(s)].decode('latin-1')}"
                                      " format) not found", E.BADTRANSPORT)
                for a in self.addrs:
                    a.transport = name
                driver_module("transport", other.driver).deliver(other, self.message,
                                                                 self.addrs, self.tctx)
                a = self.addrs[0]
                return Outcome(a.message, a.basic_errno, status=a.status,
                               more_errno=a.more_errno)
        return self._fail("mailbox file format unrecognized", E.FORMATUNKNOWN)

    # -- a new file in a directory -------------------------------------------------------

    def _open_new_file(self) -> None:


        o, path = self.o, self.path
        if not self._check_creation(f"{path}/any"):
            raise self._fail(f"tried to create file in {path}, but file creation outside "
                             "the home directory is not permitted", E.BADCREATE)
        if self.mbformat == _MBF_MAILDIR:
            try:
                md.ensure_directories(path, o["create_directory"], o["directory_mode"],
                                      o["maildirfolder_create_regex"])
            except md.MaildirError as e:
                raise self._fail(str(e), e.errno, freeze=e.freeze) from e
        check_path = path
        regex = None
        if self.quota > 0 or self.threshold > 0 or self.use_size_file:
            if o["quota_size_regex"]:
                try:
                    regex = re.compile(o["quota_size_regex"])
                except re.error as e:
                    raise self._fail(f"appendfile: regular expression error: {e} while "
                                     f"compiling {o['quota_size_regex']}") from e
            if o["quota_directory"]:
                check_path = self._expand(o["quota_directory"], "quota_directory name")
                if not check_path.startswith("/"):
                    raise self._fail(f'appendfile: quota_directory name "{check_path}" is '
                                     "not absolute", E.NOTABSOLUTE)
            elif self.mbformat == _MBF_MAILDIR and os.path.exists(f"{path}/maildirfolder"):
                p = path.rstrip("/") if path.endswith("/") else path
                if "/" in p:
                    check_path = p[:p.rindex("/")]
        if self.use_size_file:
            dir_regex = None
            if o["maildir_quota_directory_regex"]:
                dir_regex = re.compile(o["maildir_quota_directory_regex"])
                if path.startswith(check_path):
                    s = path[len(check_path):].lstrip("/")
                    s = f"{s}/new" if s else "new"
                    if not dir_regex.search(s):
                        self.disable_quota = True
            if not self.disable_quota:
                fd, size, count, eno = md.ensure_sizefile(
                    check_path, self.quota, self.quota_filecount, self.message.size,
                    bool(o["quota_is_inclusive"]), regex, dir_regex, o["mode"],
                    self.hostname)
                if fd == -1:
                    raise self._fail(f"while opening or reading {check_path}/maildirsize", eno)
                self.sizefile_fd = fd
                if self.mailbox_size < 0:
                    self.mailbox_size = size
                if self.mailbox_filecount < 0:
                    self.mailbox_filecount = count
        if (not self.disable_quota and (self.quota > 0 or self.threshold > 0)
                and (self.mailbox_size < 0 or (self.mailbox_filecount < 0
                                               and self.quota_filecount > 0))):
            size, count = md.dir_size(check_path, regex)
            if self.mailbox_size < 0:
                self.mailbox_size = size
            if self.mailbox_filecount < 0:
                self.mailbox_filecount = count
        mode = self.mode
        if self.mbformat == _MBF_SMAIL:
            self.filename = self.dataname = f"{path}/temp.{os.getpid()}.{self.hostname}"
            self.fd = self._create(self.filename, os.O_WRONLY | os.O_CREAT, mode, path)
        elif self.mbformat == _MBF_MAILDIR:
            tag = o["maildir_tag"]
            if tag is not None:
                self._expand(tag, "maildir_tag")
            self.nametag = tag
            i = 1
            while True:
                now = time.time()
                sec, usec = int(now), int((now - int(now)) * 1e6)
                base = f"{sec}.M{usec}P{os.getpid()}.{self.hostname}"
                self.filename = self.dataname = f"tmp/{base}"
                self.newname = f"new/{base}"
                full = f"{path}/{self.filename}"
                err = 0
                if os.path.exists(full):
                    err = 17
                else:
                    try:
                        self.fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
                        break
                    except OSError as e:
                        err = e.errno or 0
                if i >= (o["maildir_retries"] or 10):
                    raise self._fail(f"failed to open {self.filename} ({i} tr"
                                     + ("y" if i == 1 else "ies") + ")", err)
                i += 1
                time.sleep(2)
            self.tick = (sec, usec)
            self._chown(full)
        else:
            base = f"{path}/{self.message.id}-{base62(os.getpid())}"
            self.filename = f"{base}.tmp"
            self.newname = f"{base}.env"
            self.dataname = f"{base}.msg"
            fd = self._create(self.filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode, path)
            self._chown(self.filename)
            try:
                with os.fdopen(fd, "wb") as env:
                    for opt in ("mailstore_prefix", None, "mailstore_suffix"):
                        if opt is None:
                            env.write(f"{self.message.sender}\n".encode("latin-1"))
                            for a in self.addrs:
                                env.write(f"{a.local_part}@{a.domain}\n".encode("latin-1"))
                            continue
                        if o[opt] is None:
                            continue
                        s = self._expand(o[opt], opt.replace("_", " "))
                        if s is not None:
                            env.write(s.encode("latin-1", "replace")
                                      + (b"" if s.endswith("\n") else b"\n"))
            except OSError as e:
                raise self._fail(f"while closing {self.filename}", e.errno or 0) from e
            try:
                self.fd = os.open(self.dataname, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            except OSError as e:
                raise self._fail(f"while creating file {self.dataname}", e.errno or 0) from e
            self._chown(self.dataname)
        if self.mbformat != _MBF_MAILDIR:
            self._chown(self.filename)

    def _full(self, name: str) -> str:
        """Maildir names are relative to the maildir (Exim chdirs there)."""
        return name if name.startswith("/") else f"{self.path}/{name}"

    def _chown(self, name: str) -> None:
        full = self._full(name)
        try:
            os.chown(full, os.geteuid(), os.getegid())
        except OSError:
            pass
        try:
            os.chmod(full, self.mode)
        except OSError:
            pass

    def _create(self, filename, flags, mode, path) -> int:

        try:
            return os.open(filename, flags, mode)
        except FileNotFoundError as first:
            if self.o["create_directory"]:
                try:
                    make_directory(path, self.o["directory_mode"])
                    return os.open(filename, flags | os.O_EXCL, mode)
                except OSError as e:
                    raise self._fail(f"while creating file {filename}", e.errno or 0) from e
            raise self._fail(f"while creating file {filename}", first.errno or 0) from first
        except OSError as e:
            raise self._fail(f"while creating file {filename}", e.errno or 0) from e

    # -- writing -------------------------------------------------------------------------

    def _write(self) -> None:


        o = self.o
        count = 0
        err = 0
        more = 0
        message = None
        filecount_msg = ""
        if not self.disable_quota and self.quota > 0:
            size = self.message.size
            if self.mailbox_size + (size if o["quota_is_inclusive"] else 0) > self.quota:
                err = E.EXIMQUOTA
            elif self.quota_filecount > 0 and self.mailbox_filecount + (
                    1 if o["quota_is_inclusive"] else 0) > self.quota_filecount:
                err, filecount_msg = E.EXIMQUOTA, " filecount"
        real_fd = self.fd
        temp = None
        if not err and self.mbformat == _MBF_MBX:
            temp = tempfile.TemporaryFile()
            self.fd = temp.fileno()

        def out(data: bytes) -> None:
            nonlocal count
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
            count += len(data)

        crlf = bool(o["use_crlf"] or o["mbx_format"])
        cr = "\r" if o["use_crlf"] else ""
        try:
            if not err:
                if o["message_prefix"]:
                    prefix = self._expand_affix(o["message_prefix"], "prefix")
                    out(prefix.encode("latin-1", "replace"))
                if o["use_bsmtp"]:
                    count = 0
                    out(f"MAIL FROM:<{self.ctx.values.get('return_path', '')}>{cr}\n".encode())
                    for a in self.addrs:
                        b = a.parent if a.special and a.parent is not None else a
                        out(f"RCPT TO:<{_rcpt_address(b, self.tp)}>{cr}\n".encode())
                    out(f"DATA{cr}\n".encode())
                esc = None
                if o["check_string"] and o["escape_string"]:
                    esc = (o["check_string"].encode("latin-1"),
                           o["escape_string"].encode("latin-1"))
                count_before = count
                n = write_message(self.tp, self.message, self.addrs, self.tctx, out,
                                  crlf=crlf, escape=esc, ctx=self.ctx,
                                  return_path=self.ctx.values.get("return_path"),
                                  escape_headers=bool(o["use_bsmtp"]))
                count = count_before + n
                if o["message_suffix"]:
                    suffix = self._expand_affix(o["message_suffix"], "suffix")
                    out(suffix.encode("latin-1", "replace"))
                if o["use_bsmtp"]:
                    out(f".{cr}\n".encode())
                if temp is not None:
                    self.fd = real_fd
                    count = 0
                    self._copy_mbx(temp, out)
                if not self.isfifo:
                    os.fsync(self.fd)
        except _AffixError as e:
            err, message = E.EXPANDFAIL, str(e)
            self.extra["panic"] = True
        except WriteError as e:
            err, more, message = e.basic_errno, e.more_errno, str(e)
        except OSError as e:
            err = e.errno or 0
        finally:
            if temp is not None:
                self.fd = real_fd
                temp.close()
        msg_size = count
        self.ctx.values["message_size"] = msg_size
        if not self.disable_quota and self.sizefile_fd >= 0:
            if not err:
                record_length(self.sizefile_fd, msg_size)
            os.close(self.sizefile_fd)
            self.sizefile_fd = -1
        if not err and not self.disable_quota and self.threshold > 0:
            threshold = self.threshold
            if self.threshold_pct:
                threshold = int(self.quota * threshold / 100)
            if self.mailbox_size <= threshold < self.mailbox_size + msg_size:
                self.extra["special_action"] = "warn"
                self.extra["quota_warn_message"] = o["quota_warn_message"]
        if err:
            self.extra.pop("special_action", None)
            status = "defer"
            user_message = None
            if err in (errno_.EDQUOT, E.EXIMQUOTA, errno_.ENOSPC):
                if not self.isdirectory:
                    more = int(time.time() - self.times[0]) if self.times else 0
                elif self.mbformat == _MBF_MAILDIR:
                    try:
                        more = int(time.time() - os.stat(f"{self.path}/new").st_mtime)
                    except OSError:
                        more = 0
            name = self.dataname
            if err == errno_.EDQUOT:
                message = "mailbox is full"
            elif err == E.EXIMQUOTA:
                message = (f"mailbox is full (MTA-imposed{filecount_msg} quota exceeded "
                           f"while writing to {name})")
                user_message = "mailbox is full"
            elif err == E.FILTER_FAIL:
                self.extra["panic"] = True
                message = (f"transport filter process failed ({more}) while writing to "
                           f"{name}" + (": unable to execute command" if more == 127 else ""))
            elif err == E.CHHEADER_FAIL:
                self.extra["panic"] = True
                detail = (message or "").split(": ", 1)[-1]
                message = (f"failed to expand headers_add or headers_remove while writing "
                           f"to {name}: {detail}")
            elif err == E.WRITEINCOMPLETE:
                message = f"failed to write data block while writing to {name}"
            elif err == E.MBXLENGTH:
                message = f"length mismatch while copying MBX temporary file to {name}"
            elif message is None:
                message = f"error while writing to {name}"
            if not self.isdirectory and self.fd >= 0 and self.saved_size >= 0:
                try:
                    os.ftruncate(self.fd, self.saved_size)
                except OSError:
                    pass
            raise Outcome(message, err, status=status, more_errno=more,
                          panic=bool(self.extra.get("panic")), user_message=user_message)
        self.delivered = True
        if self.isdirectory:
            self._rename_new_file()

    def _expand_affix(self, text: str, what: str) -> str:
        try:
            return expand_string(text, self.ctx)
        except ExpansionError as e:
            raise _AffixError(f'Expansion of "{text}" ({what} for {self.tp.name} '
                              "transport) failed") from e

    def _copy_mbx(self, temp, out) -> None:
        """copy_mbx_message(): MBX header block for an empty file, then the
        message with its size line."""

        if self.saved_size == 0:
            hdr = b"*mbx*\r\n%08x00000000\r\n" % int(time.time()) + b"\r\n" * _MBX_NUSERFLAGS
            out(hdr + b"\0" * (_MBX_HDRSIZE - len(hdr)))
        size = os.fstat(temp.fileno()).st_size
        out(b"%s,%d;%08x%04x-%08x\r\n" % (_tod_mbx().encode(), size, 0, 0, 0))
        temp.seek(0)
        while True:
            data = temp.read(65536)
            if not data:
                break
            out(data)

    def _rename_new_file(self) -> None:


        fd, self.fd = self.fd, -1
        try:
            sb = os.fstat(fd)
        except OSError as e:
            os.close(fd)
            raise self._fail(f"while fstatting opened message file {self.filename}",
                             e.errno or 0) from e
        try:
            os.close(fd)
        except OSError as e:
            raise self._fail("close() error for " + (
                self.dataname if self.mbformat == _MBF_MAILSTORE else self.filename),
                e.errno or 0) from e
        if self.newname is None:
            old_leaf = ""
            i = 0
            while True:
                self.ctx.values["inode"] = sb.st_ino
                try:
                    leaf = expand_string(self.o["directory_file"], self.ctx)
                except ExpansionError as e:
                    raise self._fail(f'Expansion of "{self.o["directory_file"]}" '
                                     f"(directory_file for {self.tp.name} transport) failed: "
                                     f"{e}", panic=True) from e
                finally:
                    self.ctx.values.pop("inode", None)
                rename = f"{self.path}/{leaf}"
                try:
                    os.link(self.filename, rename)
                except OSError as e:
                    if e.errno != 17 or i >= 4 or leaf == old_leaf:
                        raise self._fail(f"while renaming {self.filename} as {rename}",
                                         e.errno or 0) from e
                    old_leaf = leaf
                    i += 1
                    time.sleep(1)
                    continue
                os.unlink(self.filename)
                self.filename = None
                self.extra["delivered_file"] = rename
                return
        rename = self.newname
        tag = getattr(self, "nametag", None)
        if tag is not None:
            try:
                t = expand_string(tag, self.ctx)
            except ExpansionError:
                t = None
            if t is not None:
                etag = ""
                for ch in t:
                    if 33 <= ord(ch) <= 126 and ch != "/":
                        if not etag and ch.isalnum():
                            etag += ":"
                        etag += ch
                rename = self.newname + etag
        try:
            os.rename(self._full(self.filename), self._full(rename))
        except OSError as e:
            if tag is not None and e.errno == 36:
                rename = self.newname
                try:
                    os.rename(self._full(self.filename), self._full(rename))
                except OSError as e2:
                    raise self._fail(f"while renaming {self.filename} as {rename}",
                                     e2.errno or 0) from e2
            else:
                raise self._fail(f"while renaming {self.filename} as {rename}",
                                 e.errno or 0) from e
        self.extra["delivered_file"] = self._full(rename)
        self.filename = self.dataname = None

    # -- tidying up ------------------------------------------------------------------------

    def _tidy(self) -> None:

        if not self.isdirectory and self.times is not None and self.filename:
            mtime = time.time() if getattr(self, "delivered", False) else self.times[1]
            try:
                os.utime(self.filename, (self.times[0], mtime))
            except OSError:
                pass
        lock = getattr(self, "mbx_lock", None)
        if lock is not None:
            name, lfd = lock
            if getattr(self, "delivered", False) and self.fd >= 0:
                ok, _ = apply_lock(self.fd, True, self.o["use_fcntl_lock"], 0,
                                   self.o["use_flock_lock"], 0)
                if ok:
                    try:
                        os.unlink(name)
                    except OSError:
                        pass
            os.close(lfd)
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError as e:
                if getattr(self, "delivered", False):
                    raise self._fail(f"while closing {self.filename}", e.errno or 0) from e
            self.fd = -1
        if self.sizefile_fd >= 0:
            os.close(self.sizefile_fd)
        if self.lockname is not None:
            try:
                os.unlink(self.lockname)
            except OSError:
                pass
        if self.isdirectory and self.filename:
            for name in {self.filename, self.dataname}:
                if name:
                    try:
                        os.unlink(self._full(name))
                    except OSError:
                        pass
        tick = getattr(self, "tick", None)
        if tick is not None:
            # The maildir name is unique by time and pid: let the clock move on.
            while True:
                now = time.time()
                if (int(now), int((now - int(now)) * 1e6)) > tick:
                    break
                time.sleep(0.0001)


class _AffixError(Exception):
    """message_prefix/message_suffix did not expand."""


def _tod_mbx() -> str:
    """tod_mbx: "dd-Mon-yyyy hh:mm:ss +zzzz" (c-client's internal date)."""

    t = time.time()
    lt = time.localtime(t)
    return time.strftime("%d-%b-%Y %H:%M:%S ", lt).lstrip() + tod("zone", t)


def _rcpt_address(addr, tp) -> str:
    """transport_rcpt_address(): the address, with its affixes unless
    rcpt_include_affixes is set."""
    if tp.get("rcpt_include_affixes"):
        return addr.address
    return f"{addr.local_part}@{addr.domain}" if addr.domain else addr.local_part
