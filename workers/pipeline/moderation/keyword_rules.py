"""Keyword rules: a regex that only runs when one of its trigger words is present.

Threats (:mod:`.abuse`), promotional spam (:mod:`.spam`) and out-of-scope topics
(:mod:`.scope`) are tables of these rules, run on ``match_text`` against the set of its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KeywordRule", "rule"]


@dataclass(frozen=True)
class KeywordRule:
    """A labelled regex gated on trigger words, so most texts never run the regex."""

    label: str
    triggers: frozenset[str]
    pattern: re.Pattern[str]
    weight: int = 1
    also: frozenset[str] = frozenset()  # a second trigger set that must also be present

    def search(self, text: str, words: frozenset[str]) -> bool:
        """Does ``pattern`` match ``text``? Only tried when ``words`` holds the triggers."""
        if self.triggers.isdisjoint(words) or (self.also and self.also.isdisjoint(words)):
            return False
        return self.pattern.search(text) is not None


def rule(label: str, triggers: str, pattern: str, weight: int = 1, also: str = "") -> KeywordRule:
    """A :class:`KeywordRule` from whitespace-separated trigger words and a regex string."""
    return KeywordRule(label, frozenset(triggers.split()), re.compile(pattern), weight,
                       frozenset(also.split()))  # fmt: skip
