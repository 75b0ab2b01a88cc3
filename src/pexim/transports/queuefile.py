"""The queuefile transport (Exim's EXPERIMENTAL_QUEUEFILE): copies the spool
files into another directory. Not in Debian's exim build."""

from pexim.config.drivers import DriverError
from pexim.config.options import Option, T
from pexim.transports.base import LOCAL_DEFAULTS

OPTIONS = [Option("directory", T.STRING)]
GENERIC_DEFAULTS = LOCAL_DEFAULTS


def check(inst, v) -> None:
    if v["directory"] is None:
        raise DriverError(f"directory must be set for the {inst.name} transport")
