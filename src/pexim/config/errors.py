"""Configuration errors, reported the way Exim reports them."""

from __future__ import annotations


class ConfigError(Exception):
    """A fatal configuration error.

    ``message`` is the text Exim prints on the indented second line; ``file`` and
    ``line`` locate it (Exim prints "in line N of FILE" when it knows them).
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def located(self, file: str, line: int) -> ConfigError:
        """Return this error with a location, unless it already has one."""
        if self.file is None:
            self.file, self.line = file, line
        return self

    def render(self) -> str:
        """The two lines Exim writes (without its timestamp)."""
        if self.file is not None:
            return f"Exim configuration error in line {self.line} of {self.file}:\n  {self.message}"
        return f"Exim configuration error:\n  {self.message}"
