"""passwd: the system password database, keyed by user name."""

from __future__ import annotations

import pwd

from . import register


class Passwd:
    name = "passwd"
    query_style = True

    def find(self, ctx, filename, key, opts):
        try:
            p = pwd.getpwnam(key)
        except KeyError:
            return None
        return "*:%d:%d:%s:%s:%s" % (p.pw_uid, p.pw_gid, p.pw_gecos, p.pw_dir, p.pw_shell)


register(Passwd())
