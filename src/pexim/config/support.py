"""Options pexim reads but whose behaviour it does not have yet.

Every configuration Exim accepts loads (so -bV and -bP work on it), but a mode
that would act on an option it cannot honour refuses to start and names the
option, instead of silently behaving differently from Exim.
"""

from __future__ import annotations

from pexim.config.model import Config


def unsupported_settings(config: Config) -> list[str]:
    """Options set in the file whose behaviour pexim lacks, as Exim would name them."""
    found = [f'main option "{name}"' for name in sorted(config.main.explicitly_set)
             if not config.main.find(name).supported]
    for kind in ("router", "transport", "authenticator"):
        for inst in config.drivers(kind):
            for name in sorted(inst.settings.explicitly_set):
                opt = inst.settings.find(name)
                if name != "driver" and not opt.supported:
                    found.append(f'option "{name}" of {kind} {inst.name} ({inst.driver})')
    return found


def refusal(config: Config, mode: str) -> str | None:
    """The message a mode prints before refusing to run, or None when it may run."""
    missing = unsupported_settings(config)
    if not missing:
        return None
    listed = "\n  ".join(missing)
    return (f"pexim: {mode} cannot run with this configuration: pexim does not implement "
            f"yet:\n  {listed}\nsee docs/features.md")
