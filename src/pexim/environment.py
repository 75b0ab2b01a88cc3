"""The process environment Exim keeps: keep_environment, then add_environment.

Exim purges its environment at start-up so that nothing inherited from the
caller leaks into pipes and lookups; pexim applies the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pexim.lists import iter_list

PURGE_WARNING = "Warning: purging the environment.\n Suggested action: use keep_environment."


def _kept(name: str, patterns: list[str]) -> bool:
    return any(re.search(p, name) if p.startswith("^") else p == name for p in patterns)


def cleaned_environment(main, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment after Exim's cleanup_environment() for these main options."""
    keep = main.get("keep_environment")
    patterns = list(iter_list(keep)) if keep else []
    env = {k: v for k, v in environ.items() if patterns and _kept(k, patterns)}
    for item in iter_list(main.get("add_environment")):
        name, eq, value = item.partition("=")
        if eq:
            env[name] = value
    return env


def purge_warning_due(main, environ: Mapping[str, str]) -> bool:
    """Exim warns when keep_environment is unset and there was something to purge."""
    return main.get("keep_environment") is None and bool(environ)
