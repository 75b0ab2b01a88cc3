"""Where spool files live (Exim's spool_fname / spool_q_sname).

``<spool>/[<queue_name>/]input/[<subdir>/]<id>-D`` and the same under msglog/.
With split_spool_directory the subdir is the id's sixth character (the last
digit of its time), spreading messages over 62 directories.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

INPUT_DIRECTORY_MODE = 0o750
SPOOL_MODE = 0o640


@dataclass(frozen=True)
class SpoolPaths:
    spool_directory: str
    split: bool = False          # split_spool_directory
    queue_name: str = ""         # named queue ("" = the default queue)

    @classmethod
    def from_config(cls, config, queue_name: str = "") -> SpoolPaths:
        main = config.main
        return cls(main.get("spool_directory"), bool(main.get("split_spool_directory")),
                   queue_name)

    def subdir(self, message_id: str) -> str:
        return message_id[5] if self.split else ""

    def directory(self, purpose: str, message_id: str | None = None) -> str:
        """input/ or msglog/ (with the queue name and subdir that apply)."""
        parts = [self.spool_directory]
        if self.queue_name:
            parts.append(self.queue_name)
        parts.append(purpose)
        if message_id is not None and self.split:
            parts.append(message_id[5])
        return os.path.join(*parts)

    def input_file(self, message_id: str, suffix: str) -> str:
        """``suffix`` is "-D", "-H", "-J" (or "" with a prefix id such as "hdr.<id>")."""
        return os.path.join(self.directory("input", message_id), message_id + suffix)

    def temp_header(self, message_id: str) -> str:
        """The name -H is written under before its rename (per message, not per pid)."""
        return os.path.join(self.directory("input", message_id), "hdr." + message_id)

    def msglog_file(self, message_id: str) -> str:
        return os.path.join(self.directory("msglog", message_id), message_id)

    def ensure(self, purpose: str, message_id: str | None = None,
               owner: tuple[int, int] | None = None) -> str:
        """Create the directory (and parents) with Exim's mode; chown new ones."""
        path = self.directory(purpose, message_id)
        if not os.path.isdir(path):
            missing = []
            p = path
            while not os.path.isdir(p):
                missing.append(p)
                p = os.path.dirname(p)
            for d in reversed(missing):
                try:
                    os.mkdir(d, INPUT_DIRECTORY_MODE)
                except FileExistsError:
                    continue
                os.chmod(d, INPUT_DIRECTORY_MODE)
                if owner is not None:
                    os.chown(d, *owner)
        return path

    def message_ids(self) -> list[str]:
        """Ids with a -H file in this queue, sorted (the order Exim lists them)."""
        from pexim.message.ids import is_message_id

        base = self.directory("input")
        dirs = [base]
        if self.split:
            dirs = [os.path.join(base, d) for d in _listdir(base) if len(d) == 1]
            dirs.append(base)
        ids = set()
        for d in dirs:
            for name in _listdir(d):
                if name.endswith("-H") and is_message_id(name[:-2]):
                    ids.add(name[:-2])
        return sorted(ids)


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []
