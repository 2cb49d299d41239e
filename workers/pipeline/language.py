"""Which texts the English sentence model can read: Welsh and non-Latin scripts are told apart.

West Mercia borders Wales, and some people write in Welsh (a few in other languages). The
sentence model is English-only, so the vector of such a question says nothing reliable about
what it asks: it gets no learned moderation flag and never joins a group on its vector (an exact
or near copy still joins), and it stays visible for staff like any other.
"""

from __future__ import annotations

import re

from workers.pipeline.wordlists import word_set

# Function words frequent in Welsh and rare in English text.
_WELSH = word_set(
    """
    yn yr mae oes nad nid ydy ydi ydw fydd bydd roedd oedd sydd gyda heddlu pam beth sut ble
    pryd pwy faint diolch hefyd neu ond wedi gan eu ein eich dros heb fod bod ac ar
    """
)
_WORD = re.compile(r"[a-z']+")


def looks_welsh(match_text: str) -> bool:
    """At least two Welsh function words making up a fifth of the words."""
    words = _WORD.findall(match_text)
    hits = sum(w in _WELSH for w in words)
    return hits >= 2 and hits * 5 >= len(words)


def mostly_latin(match_text: str) -> bool:
    """At least half of the letters are Latin (English, Welsh, most of Europe); no letters: True."""
    letters = [ch for ch in match_text if ch.isalpha()]
    latin = sum(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters)
    return latin * 2 >= len(letters)


def model_cannot_read(match_text: str) -> bool:
    """Text the English sentence model cannot read: Welsh, or mostly in a non-Latin script."""
    return looks_welsh(match_text) or not mostly_latin(match_text)
