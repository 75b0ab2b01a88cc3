"""The appendfile transport: mailbox files, maildir, mailstore and MBX."""

from pexim.config.drivers import DriverError, fail_for
from pexim.config.options import Option, T
from pexim.transports.base import LOCAL_DEFAULTS, user_without_group
from pexim.transports.pipe import MBOX_PREFIX

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
