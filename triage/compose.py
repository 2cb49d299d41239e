"""A suggested composed question for a group: its clearest member, already redacted."""

from __future__ import annotations

import re
from collections.abc import Sequence

_GREETING = re.compile(
    r"^\s*(?:(?:dear|hi|hello|good (?:evening|afternoon|morning))\b[^,.!?\n]{0,40}[,.!\n]\s*)+",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"[\s,.!]*\b(?:thanks|thank you|many thanks|regards|kind regards|cheers)\b[^?]{0,60}$",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\[[a-z ]+\]")


def tidy(text: str) -> str:
    """Drop greetings and sign-offs, collapse spaces, start with a capital letter."""
    text = _GREETING.sub("", text)
    text = _SIGN_OFF.sub("", text)
    text = " ".join(text.split())
    return text[:1].upper() + text[1:] if text else text


def clarity(text: str) -> float:
    """Higher for a text that reads well when put by the chair."""
    words = text.split()
    score = 0.0
    if "?" in text:
        score += 3
    if 8 <= len(words) <= 40:
        score += 2
    elif len(words) < 5:
        score -= 2
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.3:
        score -= 3  # shouting
    score -= 2 * len(_PLACEHOLDER.findall(text))  # much was redacted: hard to read out
    score -= text.count("!") * 0.5
    return score


def suggest(redacted_texts: Sequence[str]) -> str:
    """The clearest member's redacted text, tidied; empty for a group with no members."""
    candidates = [tidy(t) for t in redacted_texts if t.strip()]
    candidates = [c for c in candidates if c]
    if not candidates:
        return ""
    # ties go to the earliest question, so the suggestion is stable as members arrive
    return max(enumerate(candidates), key=lambda nc: (clarity(nc[1]), -nc[0]))[1]
