"""dsearch: does a directory contain an entry with this name?"""

from __future__ import annotations

import os
import stat

from ..expand.errors import ExpansionError, LookupDefer
from . import register


class DSearch:
    name = "dsearch"
    query_style = False

    def open_check(self, ctx, dirname):
        if not dirname.startswith("/"):
            raise ExpansionError("dirname '%s' for dsearch is not absolute" % dirname)
        try:
            os.listdir(dirname)
        except OSError as e:
            raise ExpansionError("failed to open %s for directory search: %s"
                                 % (dirname, e.strerror)) from None

    def find(self, ctx, dirname, key, opts):
        if "/" in key:
            raise LookupDefer("key for dsearch lookup contains a slash: %s" % key)
        ret = "key"
        filt = None
        for o in (opts or "").split(","):
            if o.startswith("ret="):
                ret = o[4:]
            elif o.startswith("filter="):
                filt = o[7:]
        path = os.path.join(dirname, key)
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if filt == "file" and not stat.S_ISREG(st.st_mode):
            return None
        if filt in ("dir", "subdir") and not stat.S_ISDIR(st.st_mode):
            return None
        if filt == "subdir" and key.startswith("."):
            return None
        return path if ret == "full" else key


register(DSearch())
