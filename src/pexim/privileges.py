"""Who pexim runs as: exim_user/exim_group when started as root (Exim's exim_uid)."""

from __future__ import annotations

import os


def exim_ids(config) -> tuple[int, int] | None:
    """(uid, gid) to drop to, when running as root."""
    if os.geteuid() != 0:
        return None
    import grp
    import pwd

    user = config.main.get("exim_user")
    group = config.main.get("exim_group")
    try:
        uid = int(user) if str(user).isdigit() else pwd.getpwnam(str(user)).pw_uid
    except KeyError:
        return None
    if group in (None, ""):
        gid = pwd.getpwuid(uid).pw_gid
    else:
        gid = int(group) if str(group).isdigit() else grp.getgrnam(str(group)).gr_gid
    return uid, gid


def drop_privileges(ids) -> None:
    if ids is None:
        return
    uid, gid = ids
    os.setgroups([gid])
    os.setgid(gid)
    os.setuid(uid)
