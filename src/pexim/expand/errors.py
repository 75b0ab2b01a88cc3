"""Expansion failures, carrying Exim's exact message text."""

from __future__ import annotations


class ExpansionError(Exception):
    """An expansion failed; ``message`` is what Exim prints after ``Failed: ``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ForcedFail(ExpansionError):
    """A forced failure (``fail`` keyword): callers often treat it as "unset"."""


class CurlyError(ExpansionError):
    """A bracketing error; Exim may rewrite its text (malformed header names)."""


class LookupDefer(ExpansionError):
    """A lookup could not complete (Exim's DEFER); ``message`` is the reason."""


class PanicDie(ExpansionError):
    """Exim logs ``message`` with LOG_PANIC_DIE and exits (a lookup file in a
    list that cannot be opened, a bad regex in a list, an unknown lookup type)."""
