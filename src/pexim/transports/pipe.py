"""The pipe transport: delivers to a command's standard input."""

from pexim.config.drivers import DriverError
from pexim.config.options import Option, T
from pexim.transports.base import LOCAL_DEFAULTS, user_without_group

S, B = T.STRING, T.BOOL
GENERIC_DEFAULTS = LOCAL_DEFAULTS

OPTIONS = [Option(n, S) for n in (
    "allow_commands batch_id check_string command environment escape_string "
    "message_prefix message_suffix"
).split()] + [Option(n, B, "false") for n in (
    "force_command freeze_exec_fail freeze_signal ignore_status log_defer_output "
    "log_fail_output log_output permit_coredump pipe_as_creator restrict_to_path "
    "return_fail_output return_output timeout_defer use_bsmtp use_crlf use_shell"
).split()] + [
    Option("batch_max", T.INT, "1"),
    Option("max_output", T.MKINT, "20K"),
    Option("path", S, "/bin:/usr/bin"),
    Option("temp_errors", S, "75:73"),
    Option("timeout", T.TIME, "1h"),
    Option("umask", T.OCTINT, "022"),
]

MBOX_PREFIX = "From ${if def:return_path{$return_path}{MAILER-DAEMON}} ${tod_bsdinbox}\n"


def derive(inst, v) -> dict:
    """BSMTP forces dot-stuffing; otherwise messages get mbox-style affixes."""
    if v["use_bsmtp"]:
        return {"check_string": ".", "escape_string": ".."}
    out = {}
    if v["message_prefix"] is None:
        out["message_prefix"] = MBOX_PREFIX
    if v["message_suffix"] is None:
        out["message_suffix"] = "\n"
    return out


def check(inst, v) -> None:
    if v["log_output"] and v["log_fail_output"]:
        raise DriverError("both log_output and log_fail_output set for the "
                          f"{inst.name} transport")
    if v["pipe_as_creator"] and (v.is_set("user") or v.is_set("group")):
        raise DriverError("both pipe_as_creator and an explicit uid/gid are set "
                          f"for the {inst.name} transport")
    user_without_group(inst, v)
