"""Short texts on a board card: the clearest member question and who asked (each person once)."""

from __future__ import annotations

import re
from collections.abc import Sequence

_PLACEHOLDER = re.compile(r"\[[a-z ]+\]")
_IDEAL_LENGTH = 140
_NOISE = re.compile(r"https?://|#\w|@\w")
_UPPER = re.compile(r"[A-Z]")
_LETTER = re.compile(r"[A-Za-z]")


def clarity(text: str) -> float:
    """How well ``text`` reads as the question to put (higher is clearer).

    A real question of moderate length, with no redaction placeholders, links, hashtags or
    shouting, reads best when read out.
    """
    stripped = text.strip()
    if not stripped:
        return float("-inf")
    score = 0.0
    if "?" in stripped:
        score += 2.0
    score -= abs(len(stripped) - _IDEAL_LENGTH) / 80
    score -= 1.5 * len(_PLACEHOLDER.findall(stripped))
    score -= 1.0 * len(_NOISE.findall(stripped))
    letters = len(_LETTER.findall(stripped))
    if letters and len(_UPPER.findall(stripped)) / letters > 0.5:
        score -= 2.0
    return score


def clearest(texts: Sequence[str]) -> str:
    """The clearest of ``texts`` (the first on a tie); "" when there are none."""
    best, best_score = "", float("-inf")
    for text in texts:
        score = clarity(text)
        if score > best_score:
            best, best_score = text.strip(), score
    return best


def people_line(askers: Sequence[str | None], *, limit: int = 3) -> str:
    """'Kath from Shifnal, Alex from Ludlow and 2 others': each named person once.

    ``askers`` holds a public name per question, or None for someone who did not agree to be
    named; a person who asked three times is one name, listed once.
    """
    named = list(dict.fromkeys(a for a in askers if a))
    unnamed = sum(1 for a in askers if not a)
    shown = named[:limit]
    others = len(named) - len(shown) + unnamed
    if not shown:
        if not others:
            return ""
        return "1 person, not named" if others == 1 else f"{others} people, not named"
    if others:
        tail = "1 other" if others == 1 else f"{others} others"
        return ", ".join(shown) + f" and {tail}"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + f" and {shown[-1]}"
