"""Options pexim reads but whose behaviour it does not have yet.

Every configuration Exim accepts loads (so -bV and -bP work on it), but a mode
that would act on an option it cannot honour refuses to start and names the
option, instead of silently behaving differently from Exim. Setting such an
option to "off" (an empty value, or false) asks for nothing and is accepted.
"""

from __future__ import annotations

from pexim.config.model import Config

# Modes that receive mail: they need the main options and the authenticators
# (routers and transports matter only once delivery runs).
RECEIVING_MODES = ("-bd", "-bdf", "-bs", "-bm", "-bh", "-bhc")


def _is_off(value) -> bool:
    return value is None or value == "" or value is False


def unsupported_settings(config: Config, kinds=("router", "transport", "authenticator")
                         ) -> list[str]:
    """Options set in the file whose behaviour pexim lacks, as Exim would name them."""
    main = config.main
    found = [f'main option "{name}"' for name in sorted(main.explicitly_set)
             if not main.find(name).supported and not _is_off(main.get(name))]
    for kind in kinds:
        for inst in config.drivers(kind):
            for name in sorted(inst.settings.explicitly_set):
                opt = inst.settings.find(name)
                if name != "driver" and not opt.supported:
                    found.append(f'option "{name}" of {kind} {inst.name} ({inst.driver})')
    return found


def refusal(config: Config, mode: str) -> str | None:
    """The message a mode prints before refusing to run, or None when it may run."""
    kinds = ("authenticator",) if mode in RECEIVING_MODES else (
        "router", "transport", "authenticator")
    missing = unsupported_settings(config, kinds)
    if not missing:
        return None
    listed = "\n  ".join(missing)
    return (f"pexim: {mode} cannot run with this configuration: pexim does not implement "
            f"yet:\n  {listed}\nsee docs/features.md")
