"""Where imported emails come from: a folder of ``.eml`` files, and what every source offers.

A source yields (label, raw message) pairs and is told what became of each one: stored,
skipped as an automatic reply, or left for a person. The IMAP mailbox source is in
:mod:`intake.email.imap`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol


class MailboxError(RuntimeError):
    """The mailbox could not be reached, logged in to, or changed."""


class MailSource(Protocol):
    """Where messages come from and how a handled one is marked."""

    def messages(self) -> Iterator[tuple[str, bytes]]:
        """(label, raw message) for each message still to import."""
        ...

    def done(self, label: str) -> None:
        """The message is stored (or was already): do not offer it again."""
        ...

    def skipped(self, label: str) -> None:
        """An automatic reply: not a question, do not offer it again."""
        ...

    def problem(self, label: str) -> None:
        """Not importable: leave it for a person."""
        ...


class FolderSource:
    """A folder of ``.eml`` files; handled ones are moved to ``move_to`` when it is given."""

    def __init__(self, folder: Path, move_to: Path | None = None) -> None:
        if not folder.is_dir():
            raise MailboxError(f"{folder} is not a folder")
        self.folder = folder
        self.move_to = move_to

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for path in sorted(self.folder.glob("*.eml")):
            yield path.name, path.read_bytes()

    def done(self, label: str) -> None:
        if self.move_to is not None:
            self.move_to.mkdir(parents=True, exist_ok=True)
            shutil.move(str(self.folder / label), str(self.move_to / label))

    def skipped(self, label: str) -> None:
        self.done(label)

    def problem(self, label: str) -> None:
        """Left where it is, to be read by a person."""
