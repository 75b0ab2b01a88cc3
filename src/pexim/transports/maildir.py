"""Maildir support for appendfile (Exim's tf_maildir.c).

The directories a delivery needs (the maildir, tmp, new, cur, and a
maildirfolder file for Maildir++ subfolders), the size of a maildir for
quota checks, and the Maildir++ ``maildirsize`` file that caches it.
"""

from __future__ import annotations

import os
import re
import stat
import time


class MaildirError(Exception):
    """A delivery-stopping problem; ``errno`` is Exim's basic_errno."""

    def __init__(self, text: str, errno: int = 0, freeze: bool = False):
        super().__init__(text)
        self.errno = errno
        self.freeze = freeze


def make_directory(path: str, mode: int) -> None:
    """directory_make(): create each missing component with ``mode``."""
    parts = path.split("/")
    cur = ""
    for p in parts[1:]:
        cur += "/" + p
        try:
            os.mkdir(cur, mode)
            os.chmod(cur, mode)
        except FileExistsError:
            continue


def ensure_directories(path: str, create: bool, dirmode: int,
                       folder_regex: str | None) -> None:
    """The maildir and its tmp/new/cur exist (made if allowed)."""
    from pexim.delivery import errors as E

    for mdir in ("", "/tmp", "/new", "/cur"):
        d = path + mdir
        for _ in range(10):
            try:
                st = os.stat(d)
            except OSError as e:
                if e.errno == 2 and create:
                    try:
                        make_directory(d, dirmode)
                    except FileExistsError:
                        continue
                    except OSError as e2:
                        raise MaildirError(f"cannot create {path}{mdir}", e2.errno or 0) from e2
                    break
                raise MaildirError(f"stat() error for {path}{mdir}: {e.strerror}",
                                   e.errno or 0) from e
            if stat.S_ISDIR(st.st_mode):
                break
            raise MaildirError(f"{path}{mdir} is not a directory", E.NOTDIRECTORY)
        else:
            raise MaildirError(f"existence of {path}{mdir} unclear\n", 0, freeze=True)
    if folder_regex:
        try:
            rx = re.compile(folder_regex)
        except re.error as e:
            raise MaildirError(f"appendfile: regular expression error: {e} while "
                               f"compiling {folder_regex}") from e
        if rx.search(path):
            fname = f"{path}/maildirfolder"
            if not os.path.exists(fname):
                try:
                    os.close(os.open(fname, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
                except OSError as e:
                    raise MaildirError(f"appendfile: failed to create maildirfolder file "
                                       f"in {path} directory: {e.strerror}") from e


def _size_from_name(name: str, regex) -> int | None:
    if regex is None:
        return None
    m = regex.search(name)
    if m and m.lastindex:
        digits = m.group(1)
        if digits.isdigit():
            return int(digits)
    return None


def dir_size(dirname: str, regex=None) -> tuple[int, int]:
    """check_dir_size(): (bytes, file count) of everything below ``dirname``;
    ``regex`` may give a file's size from its name."""
    total = count = 0
    try:
        names = os.listdir(dirname)
    except OSError:
        return 0, 0
    for name in names:
        count += 1
        size = _size_from_name(name, regex)
        if size is not None:
            total += size
            continue
        full = f"{dirname}/{name}"
        try:
            st = os.stat(full)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            total += st.st_size
        elif stat.S_ISDIR(st.st_mode):
            s, c = dir_size(full, regex)
            total += s
            count += c
    return total, count


def compute_size(path: str, regex, dir_regex, timestamp_only: bool = False
                 ) -> tuple[int, int, float]:
    """maildir_compute_size(): (bytes, count, latest directory mtime)."""
    total = count = 0
    latest = 0.0
    try:
        names = os.listdir(path)
    except OSError:
        return 0, 0, 0.0
    for name in names:
        if dir_regex is not None and not dir_regex.search(name):
            continue
        full = f"{path}/{name}"
        try:
            st = os.stat(full)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        latest = max(latest, st.st_mtime)
        if name.startswith("."):
            s, c, lt = compute_size(full, regex, dir_regex, timestamp_only)
            total, count, latest = total + s, count + c, max(latest, lt)
        elif not timestamp_only:
            s, c = dir_size(full, regex)
            total += s
            count += c
    return total, count, latest


def ensure_sizefile(path: str, quota: int, quota_filecount: int, message_size: int,
                    inclusive: bool, regex, dir_regex, mode: int,
                    hostname: str) -> tuple[int, int, int, int]:
    """maildir_ensure_sizefile(): (fd or -1/-2, size, filecount, errno)."""
    filename = f"{path}/maildirsize"
    try:
        fd = os.open(filename, os.O_RDWR | os.O_APPEND, mode or 0o600)
    except FileNotFoundError:
        fd = -1
    except OSError as e:
        return -1, 0, 0, e.errno or 0
    if fd >= 0:
        parsed = _parse_sizefile(os.read(fd, 4096), quota, quota_filecount)
        if parsed is not None:
            size, count, lines = parsed
            over = quota > 0 and (
                size + (message_size if inclusive else 0) > quota
                or (quota_filecount > 0 and count + (1 if inclusive else 0) > quota_filecount))
            if not over or (lines <= 1 and time.time() - os.fstat(fd).st_mtime <= 15 * 60):
                return fd, size, count, 0
        os.close(fd)
    size, count, old_latest = compute_size(path, regex, dir_regex)
    now = time.time()
    tempname = "%s/tmp/%d.H%dP%d.%s" % (path, int(now), int((now % 1) * 1e6), os.getpid(),
                                        hostname)
    fd = -1
    eno = 0
    try:
        fd = os.open(tempname, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode or 0o600)
        data = b"%dS,%dC\n%d %d\n" % (quota, quota_filecount, size, count)
        if os.write(fd, data) != len(data):
            raise OSError("short write")
        os.rename(tempname, filename)
    except OSError as e:
        eno = e.errno or 0
        if fd >= 0:
            os.close(fd)
        fd = -1
    _s, _c, new_latest = compute_size(path, None, dir_regex, True)
    if new_latest > old_latest:
        try:
            os.unlink(filename)
        except OSError:
            pass
        if fd >= 0:
            os.close(fd)
        fd = -2
    return fd, size, count, eno


def _parse_sizefile(data: bytes, quota: int, quota_filecount: int):
    """(size, count, lines) from maildirsize content, or None to recalculate."""
    text = data.decode("latin-1")
    if not text:
        return None
    first, _, rest = text.partition("\n")
    cached_q = cached_c = 0
    for item in first.split(","):
        m = re.fullmatch(r"\s*(-?\d+)([A-Za-z])", item)
        if not m:
            return None
        if m.group(2) == "S":
            cached_q = int(m.group(1))
        elif m.group(2) == "C":
            cached_c = int(m.group(1))
    if cached_q != quota or cached_c != quota_filecount:
        return None
    size = count = lines = 0
    for line in rest.split("\n"):
        if not line:
            continue
        m = re.fullmatch(r"\s*(-?\d+) (-?\d+)", line)
        if not m:
            return None
        lines += 1
        size += int(m.group(1))
        count += int(m.group(2))
    if size < 0 or count < 0:
        return None
    return size, count, lines


def record_length(fd: int, size: int) -> None:
    """maildir_record_length(): one more message of ``size`` bytes."""
    os.lseek(fd, 0, os.SEEK_END)
    os.write(fd, b"%d 1\n" % size)
