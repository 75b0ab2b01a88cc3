"""One module per command-line mode; `dispatch` loads the configuration and runs one."""

from __future__ import annotations

import os
import sys

from pexim.config.errors import ConfigError

# Modes whose behaviour lands with later work: named here so the message is clear.
_NOT_YET = {
    "-bt": "address testing",
    "-bv": "address verification", "-bvs": "sender verification",
    "-bS": "batched SMTP", "-bp": "queue listing",
    "-bpa": "queue listing", "-bpc": "queue counting", "-bpr": "queue listing",
    "-bpra": "queue listing", "-bpru": "queue listing", "-bpu": "queue listing",
    "-q": "queue runs", "-R": "queue runs", "-S": "queue runs", "-M": "message delivery",
    "-brt": "retry rule testing", "-brw": "rewrite testing", "-bF": "filter testing",
    "-bf": "filter testing", "-bi": "alias rebuilding",
    "-bmalware": "malware scanning", "-bw": "inetd wait mode", "-MC": "continued delivery",
}


def load_config(inv):
    """Load the configuration for `inv`, or report the error as Exim does and return None."""
    from pexim.cli import find_config_file, report_config_error, timestamp
    from pexim.config.loader import load

    path = find_config_file(inv)
    if not os.path.exists(path):
        sys.stderr.write(f"{timestamp()} non-existent configuration file(s): {path}\n")
        return None
    if os.geteuid() == 0 and path != "/dev/null":
        st = os.stat(path)
        if st.st_uid != 0 or (st.st_gid != 0 and st.st_mode & 0o20) or st.st_mode & 0o2:
            sys.stderr.write(f"{timestamp()} Exim configuration file {path} has the "
                             "wrong owner, group, or mode\n")
            return None
    def warn(text: str) -> None:
        # Exim's log_write(LOG_MAIN) while reading: -bP shows the flags it
        # ends up with, other modes a timestamped line.
        if inv.mode == "-bP":
            sys.stderr.write(f"LOG: MAIN PANIC\n  {text}\n")
        else:
            sys.stderr.write(f"{timestamp()} {text}\n")

    try:
        return load(path, inv.defines, warn)
    except ConfigError as err:
        report_config_error(err, inv.mode)
        return None
    except OSError as err:
        sys.stderr.write(f"{timestamp()} failed to open configuration file {path}: "
                         f"{err.strerror}\n")
        return None


def dispatch(inv) -> int:
    mode = inv.mode
    if mode in ("-bV", "--version"):
        from pexim.commands.info import print_version
        print_version()
        sys.stdout.flush()
    config = load_config(inv)
    if config is None:
        return 1
    if mode in ("-bV", "--version"):
        from pexim.cli import timestamp
        from pexim.environment import PURGE_WARNING, purge_warning_due

        if purge_warning_due(config.main, os.environ):
            sys.stderr.write(f"{timestamp()} {PURGE_WARNING}\n")
        print(f"Configuration file is {config.filename}")
        return 0
    from pexim.config.support import RECEIVING_MODES, refusal

    if mode in RECEIVING_MODES and (message := refusal(config, mode)) is not None:
        sys.stderr.write(message + "\n")
        return 1
    if mode in ("-bh", "-bhc"):
        from pexim.commands.hostcheck import run as hostcheck
        return hostcheck(config, inv)
    if mode == "-bP":
        from pexim.commands.info import print_options
        return print_options(config, inv.args, no_labels="-n" in inv.flags)
    if mode == "-brw":
        from pexim.commands.rewrite import run as rewrite_test
        return rewrite_test(config, inv.args)
    if mode == "-brt":
        from pexim.commands.retry import run as retry_test
        return retry_test(config, inv.args)
    if mode in ("-be", "-bem"):
        from pexim.commands.expand import run
        return run(config, inv.args, sys.stdin, sys.stdout, inv.values,
                   inv.mode_arg if mode == "-bem" else None)
    if mode in ("-bd", "-bdf"):
        from pexim.commands.daemon import run as daemon
        return daemon(config, inv)
    if mode in ("-bs", "-bm"):
        from pexim.commands.submit import run as submit
        return submit(config, inv)
    handler = _handler(mode)
    if handler is not None:
        return handler(config, inv)
    what = _NOT_YET.get(mode, mode)
    sys.stderr.write(f"pexim: {mode} ({what}) is not implemented yet in pexim "
                     f"{_version()}; see docs/features.md\n")
    return 1


# Modes whose module exports run(config, inv); a mode whose module is not
# there yet falls through to "not implemented yet".
_MODULES = {
    "-bt": "address", "-bv": "address", "-bvs": "address",
    "-bp": "queue", "-bpa": "queue", "-bpc": "queue", "-bpr": "queue", "-bpra": "queue",
    "-bpru": "queue", "-bpu": "queue", "-Mar": "queue", "-Mes": "queue", "-Mf": "queue",
    "-Mg": "queue", "-Mmad": "queue", "-Mmd": "queue", "-Mrm": "queue", "-Mt": "queue",
    "-Mvb": "queue", "-Mvc": "queue", "-Mvh": "queue", "-Mvl": "queue", "-Meb": "queue",
    "-M": "deliver", "-Mc": "deliver", "-q": "deliver", "-R": "deliver", "-S": "deliver",
    "-bS": "bsmtp",
}


def _handler(mode: str):
    import importlib

    name = _MODULES.get(mode)
    if name is None:
        return None
    try:
        module = importlib.import_module(f"pexim.commands.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"pexim.commands.{name}":
            raise
        return None
    return getattr(module, "run_" + mode.lstrip("-").replace(":", "_"), None) or \
        (module.run if name != "submit" else None)


def _version() -> str:
    from pexim import __version__
    return __version__
