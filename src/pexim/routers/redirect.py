"""The redirect router: aliases, forward files and filters."""

from pexim.config.drivers import fail_for
from pexim.config.options import Option, T

S, B = T.STRING, T.BOOL
TRANSPORT = "forbidden"

_BOOLS_FALSE = (
    "allow_defer allow_fail allow_filter allow_freeze check_ancestor check_group check_owner "
    "forbid_blackhole forbid_exim_filter forbid_file forbid_filter_dlfunc "
    "forbid_filter_existstest forbid_filter_logwrite forbid_filter_lookup forbid_filter_perl "
    "forbid_filter_readfile forbid_filter_readsocket forbid_filter_reply forbid_filter_run "
    "forbid_include forbid_pipe forbid_sieve_filter forbid_smtp_code hide_child_in_errmsg "
    "ignore_eacces ignore_enotdir one_time qualify_preserve_domain skip_syntax_errors"
).split()
_BOOLS_TRUE = ("filter_prepend_home", "repeat_use", "rewrite")
_STRINGS = (
    "data directory_transport file file_transport include_directory pipe_transport "
    "qualify_domain reply_transport sieve_enotify_mailto_owner sieve_subaddress "
    "sieve_useraddress sieve_vacation_directory syntax_errors_text syntax_errors_to"
).split()

OPTIONS = (
    [Option(n, B, "false") for n in _BOOLS_FALSE]
    + [Option(n, B, "true") for n in _BOOLS_TRUE]
    + [Option(n, S) for n in _STRINGS]
    + [Option("modemask", T.OCTINT, "022"),
       Option("owners", T.UIDLIST),
       Option("owngroups", T.GIDLIST)]
)


def derive(inst, v) -> dict:
    out = {}
    # check_owner/check_group are "unset" in Exim until init follows check_local_user.
    if not v.is_set("check_owner"):
        out["check_owner"] = bool(v["check_local_user"])
    if not v.is_set("check_group"):
        out["check_group"] = bool(v["check_local_user"]) and not (v["modemask"] or 0) & 0o20
    # A one_time redirection cannot deliver to files, pipes or replies.
    if v["one_time"]:
        out.update(forbid_file=True, forbid_pipe=True, forbid_filter_reply=True)
    return out


def check(inst, v) -> None:
    if (v["file"] is None) == (v["data"] is None):
        only = "" if v["data"] is None else "only "
        raise fail_for(inst, f'{only}one of "file" or "data" must be specified')
    if v["one_time"]:
        if v["headers_add"] is not None or v["headers_remove"] is not None:
            raise fail_for(inst, '"headers_add" and "headers_remove" are not permitted '
                                 'with "one_time"')
        if v.is_set("unseen") and v["unseen"] is not False:
            raise fail_for(inst, '"unseen" may not be used with "one_time"')
    if v["qualify_domain"] is not None and v["qualify_preserve_domain"]:
        raise fail_for(inst, 'only one of "qualify_domain" or "qualify_preserve_domain" '
                             'must be set')
    if v["allow_filter"] and not v["check_local_user"] and not v.is_set("user"):
        raise fail_for(inst, '"user" or "check_local_user" must be set with "allow_filter"')
