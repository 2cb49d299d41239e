"""Surface features of the learned moderation head: character and word n-grams.

The sentence vector says what a text is about; it is blind to how it is spelt. Character
n-grams see disguised spellings ("p1gs", "b@stards"), acronyms and slogans ("acab", "1312"),
emoji and Welsh words; word n-grams see short phrases ("dm me", "please ignore"). The same
functions build the training matrix (``scripts/train_heads.py``) and score at run time, so
the two cannot drift apart.

Each block is a set of strings whose weights the head file lists by name (no hashing, no
collisions); a gram the head does not know weighs nothing. Within a block every gram present
counts ``1 / sqrt(number of grams)``, so a block has unit length whatever the text's length.

Town names read as ``town`` (the lists of :mod:`.forces`): a town says nothing about
whether a question is for the meeting, but a head that sees it learns one ("Tenbury" beside
the council complaints written about it) and held "hare coursing near Tenbury, what can you
do?" as out of scope.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from functools import lru_cache

from workers.pipeline.moderation.forces import TOWN, load_areas
from workers.pipeline.moderation.lexicon import moderation_view
from workers.pipeline.normalise import Normalised

__all__ = ["CHAR_SIZES", "char_grams", "gram_blocks", "word_grams"]

#: lengths of the character n-grams, taken within each word padded with a space either side
CHAR_SIZES = (2, 3, 4, 5)
_MAX_CHARS = 1200  # the form allows 1200; longer email bodies add little but cost
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_UPPER = re.compile(r"[A-Z]")
_LETTER = re.compile(r"[A-Za-z]")
_EDGE = "'\".,!?;:()[]"


@lru_cache(maxsize=1 << 16)
def _token_grams(token: str) -> frozenset[str]:
    padded = f" {token} "
    return frozenset(
        padded[i : i + size] for size in CHAR_SIZES for i in range(len(padded) - size + 1)
    )


def char_grams(n: Normalised) -> set[str]:
    """Character n-grams of each whitespace-separated token of the lower-cased clean text.

    Punctuation and digits stay inside a token ("p*ss", "sh1t", "a.c.a.b"), so disguises
    give grams of their own. A token's grams are cached: most words recur.
    """
    tokens = moderation_view(n.clean[:_MAX_CHARS]).split()
    areas = load_areas()
    return set().union(*(_token_grams(_town_or(token, areas.is_town)) for token in tokens))


def _town_or(token: str, is_town: Callable[[str], bool]) -> str:
    return TOWN if is_town(token.strip(_EDGE)) else token


def word_grams(n: Normalised) -> set[str]:
    """Words and word pairs of ``match_text``, plus a few shape marks of the clean text.

    Shape marks: ``<caps>`` (mostly capital letters), ``<short>`` (three words or fewer),
    ``<noword>`` (no word at all: emoji, punctuation), ``<link>`` (a web address).
    """
    words = load_areas().masked(_WORD.findall(n.match_text))
    grams = set(words)
    grams.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    letters = len(_LETTER.findall(n.clean))
    if letters >= 6 and len(_UPPER.findall(n.clean)) > 0.6 * letters:
        grams.add("<caps>")
    if not words:
        grams.add("<noword>")
    elif len(words) <= 3:
        grams.add("<short>")
    lowered = n.clean.casefold()
    if "http" in lowered or "www." in lowered:
        grams.add("<link>")
    return grams


def gram_blocks(n: Normalised) -> tuple[tuple[set[str], float], tuple[set[str], float]]:
    """The character and word blocks of ``n``, each with the value of one gram in it."""
    chars, words = char_grams(n), word_grams(n)
    return (
        (chars, 1.0 / math.sqrt(len(chars)) if chars else 0.0),
        (words, 1.0 / math.sqrt(len(words)) if words else 0.0),
    )
