"""Logical lines from an Exim runtime configuration file.

This is the layer below sections and options: it applies macros, `.ifdef`-style
conditionals, `.include` files, comments, continuation lines and white space
rules exactly as Exim's get_config_line() does, and yields logical lines with
the file and physical line number Exim would report in an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from pexim.config.errors import ConfigError
from pexim.config.model import Macro

_CSTATE_STACK_SIZE = 10

# (name, state if a macro was found on the line, state if not, stack action)
# States: 0 reading, 1 skipping until .else/.elif/.endif, 2 skipping until .endif.
_CONDITIONALS = (
    ("ifdef", 0, 1, 1),
    ("ifndef", 1, 0, 1),
    ("elifdef", 2, 3, 0),
    ("elifndef", 3, 2, 0),
    ("else", 2, 2, 0),
    ("endif", 0, 0, -1),
)
_NEXT_STATE = ((0, 1, 2, 2), (2, 2, 0, 1), (2, 2, 2, 2))


def _isspace(c: str) -> bool:
    return c in " \t\n\r\f\v"


_MACRO_START = re.compile(r"[A-Z]|_[A-Z]")


def _skip_to_macro_start(line: str, i: int) -> int:
    """Where a macro name could start: an upper case letter, or `_` and one."""
    m = _MACRO_START.search(line, i)
    return m.start() if m else len(line)


class _MacroPanic(ConfigError):
    """macro_read_assignment() logs with LOG_PANIC, not LOG_PANIC_DIE, then exits.

    The text is the same as any other configuration error; -bP shows the
    difference ("LOG: PANIC").
    """

    @property
    def log_flags(self) -> str:
        return "PANIC"


class _UnlocatedMacroPanic(_MacroPanic):
    """The same, for the errors Exim logs without a line (LOG_CONFIG)."""

    unlocated = True


class MacroTable:
    """Macros in definition order: built-in ones (names starting `_`) first.

    Exim substitutes them by plain substring search, in definition order, and
    only scans the built-in ones when the first candidate starts with `_`.
    """

    def __init__(self, builtin: list[Macro] | None = None):
        self.builtin: list[Macro] = list(builtin or [])
        self.user: list[Macro] = []

    def all(self) -> list[Macro]:
        return self.builtin + self.user

    def find(self, name: str) -> Macro | None:
        for m in self.all():
            if m.name == name:
                return m
        return None

    def define_command_line(self, name: str, value: str) -> None:
        self.user.append(Macro(name, value, command_line=True))

    def assign(self, text: str) -> None:
        """Handle a `NAME = value` or `NAME == value` logical line (macro_read_assignment)."""
        i, n = 0, len(text)
        while i < n and (text[i].isalnum() or text[i] == "_"):
            i += 1
        name = text[:i]
        if len(name) > 63:
            raise _MacroPanic("macro name too long (maximum is 63 characters)")
        while i < n and _isspace(text[i]):
            i += 1
        if i >= n or text[i] != "=":
            raise _MacroPanic("malformed macro definition")
        i += 1
        redef = i < n and text[i] == "="
        if redef:
            i += 1
        while i < n and _isspace(text[i]):
            i += 1
        value = text[i:]

        existing = None
        for m in self.all():
            if m.name == name:
                if not m.command_line and not redef:
                    raise _UnlocatedMacroPanic(f'macro "{name}" is already defined '
                                     '(use "==" if you want to redefine it)')
                existing = m
                break
            if len(m.name) < len(name) and m.name in name:
                raise _UnlocatedMacroPanic(f'"{name}" cannot be defined as a macro because '
                                 f'previously defined macro "{m.name}" is a substring')
        if existing is not None and existing.command_line:
            return
        if redef:
            if existing is None:
                raise _UnlocatedMacroPanic(f'can\'t redefine an undefined macro "{name}"')
            table = self.builtin if existing.builtin else self.user
            table[table.index(existing)] = Macro(name, value, existing.builtin)
        else:
            self.user.append(Macro(name, value))

    def expand(self, line: str, at_logical_start: bool) -> tuple[str, bool]:
        """Substitute macros in one physical line; return (line, whether any was found)."""
        s = 0
        while s < len(line) and _isspace(line[s]):
            s += 1
        if at_logical_start and s < len(line) and "A" <= line[s] <= "Z":
            j = s
            while j < len(line) and (line[j].isalnum() or line[j] == "_"):
                j += 1
            while j < len(line) and _isspace(line[j]):
                j += 1
            if j < len(line) and line[j] == "=":
                s = j       # a macro definition: no substitution in its name
        s = _skip_to_macro_start(line, s)
        if s >= len(line):
            return line, False
        found = False
        macros = self.all() if line[s] == "_" else self.user
        for m in macros:
            t = s
            while True:
                p = line.find(m.name, t)
                if p < 0:
                    break
                line = line[:p] + m.value + line[p + len(m.name):]
                t = _skip_to_macro_start(line, p + len(m.value))
                found = True
        return line, found


@dataclass(slots=True)
class _Source:
    fh: object
    filename: str
    directory: str
    lineno: int = 0


class LineReader:
    """Yields logical lines; `begin NAME` lines end a section (see `next_section`)."""

    def __init__(self, filename: str, macros: MacroTable):
        self.macros = macros
        self.filename = filename
        self.lineno = 0
        self.next_section: str | None = None
        self.saved_lines: list[str] = []
        self.warn = None        # callable(text) for warnings logged while reading
        self._cstate = 0
        self._cstack: list[int] = []
        self._stack: list[_Source] = []
        directory = os.path.dirname(os.path.abspath(filename))
        self._src = _Source(self._open(filename), filename, directory)

    @staticmethod
    def _open(path: str):
        return open(path, encoding="utf-8", errors="surrogateescape", newline="\n")

    def error(self, message: str) -> ConfigError:
        """An error located at the current line (Exim's LOG_CONFIG_IN)."""
        return ConfigError(message, self._src.filename, self._src.lineno)

    def locate(self, err: ConfigError) -> ConfigError:
        return err.located(self._src.filename, self._src.lineno)

    def _physical(self) -> str | None:
        while True:
            raw = self._src.fh.readline()
            if raw:
                self._src.lineno += 1
                if self._src.lineno == 1:
                    self.saved_lines.append(f'# 1 "{self._src.filename}"')
                return raw
            if not self._stack:
                return None
            self._src.fh.close()
            self._src = self._stack.pop()
            self.saved_lines.append(f'# {self._src.lineno} "{self._src.filename}"')

    def _conditional(self, ss: str, macro_found: bool) -> bool:
        """Handle `.ifdef`-style directives; True if the line was one."""
        for name, if_found, if_not, push in _CONDITIONALS:
            if not ss.startswith(name, 1):
                continue
            after = ss[1 + len(name):2 + len(name)]
            if after not in ("", " ", "t", "\n"):     # Exim tests 't', not '\t'
                return False
            action = if_found if macro_found else if_not
            if push > 0:
                if len(self._cstack) >= _CSTATE_STACK_SIZE:     # ten levels
                    raise self.error(f".{name} nested too deeply")
                self._cstack.append(self._cstate)
                self._cstate = _NEXT_STATE[self._cstate][action]
            else:
                if not self._cstack:
                    raise self.error(f".{name} without matching .ifdef")
                self._cstate = (self._cstack.pop() if push < 0
                                else _NEXT_STATE[self._cstate][action])
            return True
        return False

    def _include(self, ss: str) -> bool:
        if not ss.startswith(".include"):
            return False
        rest = ss[8:]
        if rest[:1] and _isspace(rest[0]):
            if_exists = False
        elif rest.startswith("_if_exists") and rest[10:11] and _isspace(rest[10]):
            if_exists = True
            rest = rest[10:]
        else:
            return False
        path = rest.strip()
        if len(path) >= 2 and path[0] == '"' and path[-1] == '"':
            path = path[1:-1]
        if not path.startswith("/"):
            if if_exists:
                raise self.error(f'.include specifies a non-absolute path "{path}"')
            path = self._src.directory + "/" + path
        if if_exists and not os.path.exists(path):
            return True
        self.saved_lines.append(f'# {self._src.lineno} "{self._src.filename}"')
        try:
            fh = self._open(path)
        except OSError:
            raise self.error(f"failed to open included configuration file {path}") from None
        self._stack.append(self._src)
        self._src = _Source(fh, path, path[:path.rfind("/")])
        return True

    def next_line(self) -> str | None:
        """The next logical line, or None at a `begin` line or end of file."""
        text = ""
        while True:
            raw = self._physical()
            if raw is None:
                if self._cstack:
                    raise self.error("Unexpected end of configuration file: .endif missing")
                if text:
                    break
                self.next_section = None
                return None
            line, found = self.macros.expand(raw, not text)
            ss = line.lstrip(" \t\n\r\f\v")
            if ss.startswith("#"):
                continue
            if ss.startswith(".") and self._conditional(ss, found):
                continue
            if self._cstate != 0:
                continue
            if self._include(ss.rstrip("\n")):
                continue
            text = (text + ss).rstrip(" \t\n\r\f\v")
            if text:
                if not text.endswith("\\"):
                    break
                text = text[:-1]
        self.saved_lines.append(text)
        if text[:6].lower() == "begin ":
            self.next_section = text[6:].lstrip()[:22]
            return None
        return text

    def close(self) -> None:
        self._src.fh.close()
        for src in self._stack:
            src.fh.close()
