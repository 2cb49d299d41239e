"""Plain-text word lists for the text-safety stages (normalise, moderation, personal data).

Each ``*.txt`` file here holds one entry per line; blank lines and lines starting with
``# `` (hash, space) are ignored, so ``#PCCLive`` is an entry and ``# note`` a comment.
Each file's header says what it is for and who reads it. Edit the files, not the code, to
tune the lists.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DIRECTORY", "read_wordlist", "word_set"]

DIRECTORY = Path(__file__).parent
"""Where the word-list files live."""


def read_wordlist(name: str | Path) -> list[str]:
    """Entries of a word-list file in this directory (or at ``name`` if it is a path).

    Entries keep their case and order; surrounding whitespace is stripped.
    """
    path = name if isinstance(name, Path) else DIRECTORY / name
    out: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and line != "#" and not line.startswith("# "):
            out.append(line)
    return out


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of an inline list written as one string."""
    return frozenset(text.split())
