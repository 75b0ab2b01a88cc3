"""Configuration errors, reported the way Exim reports them.

Exim has three forms, and pexim keeps them apart because admins grep for them:
  LOG_CONFIG_IN  "Exim configuration error in line N of FILE:\\n  text"
  LOG_CONFIG     "Exim configuration error:\\n  text"      (unlocated=True)
  LOG_MAIN       "text" alone, from checks after reading    (plain=True)
"""

from __future__ import annotations


class ConfigError(Exception):
    """A fatal configuration error."""

    unlocated = False
    plain = False

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def located(self, file: str, line: int) -> ConfigError:
        """Return this error with a location, unless it has one or takes none."""
        if self.file is None and not self.unlocated and not self.plain:
            self.file, self.line = file, line
        return self

    def render(self) -> str:
        """What Exim writes after its timestamp (or after `LOG: ... DIE` for -bP)."""
        if self.plain:
            return self.message
        if self.file is not None:
            return f"Exim configuration error in line {self.line} of {self.file}:\n  {self.message}"
        return f"Exim configuration error:\n  {self.message}"

    @property
    def log_flags(self) -> str:
        """The flags Exim names when it writes to stderr in -bP mode."""
        return "MAIN PANIC DIE" if self.plain else "PANIC DIE"


class UnlocatedConfigError(ConfigError):
    """Exim's LOG_CONFIG: a configuration error reported without a line."""

    unlocated = True


class MainPanic(ConfigError):
    """Exim's LOG_MAIN|LOG_PANIC_DIE: the message alone."""

    plain = True
