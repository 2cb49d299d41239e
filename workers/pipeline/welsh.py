"""A rough English reading of a Welsh question, so the English sentence model can place it.

Some people in West Mercia write in Welsh. The sentence model reads English only, so a Welsh
question is glossed word by word from a glossary (``wordlists/cy_en.tsv``: Welsh in its
dictionary form, phrases included) before it is embedded and given a theme. Welsh changes the
first letter of a word after certain words (mutation: *heddlu* → *yr heddlu*, *plismon* →
*ei blismon*, *fy mhlismon*, *ei phlismon*), so a word not in the glossary is looked up again
with each mutation undone. Words the glossary does not know are kept as they are: people mix
in English ("speed cameras") and place names. A gloss that knows too few of the words is not
used, and the question stays one the model cannot read (see ``language``).

The gloss is only what matching reads; staff and the public always see the question as sent.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

from workers.pipeline.embedding import TOKENIZER_PATH
from workers.pipeline.language import looks_welsh
from workers.pipeline.normalise import Normalised
from workers.pipeline.wordlists import DIRECTORY

__all__ = [
    "Glossary",
    "WelshReading",
    "as_read",
    "gloss",
    "is_welsh",
    "load_glossary",
    "read_welsh",
    "unmutated",
    "words",
]

GLOSSARY_FILE = "cy_en.tsv"
#: Share of the words the glossary must know for the gloss to be read instead of the Welsh.
MIN_KNOWN = 0.5
#: Longest phrase in words looked up as one entry.
MAX_PHRASE = 5
#: Text is Welsh when at least this many of its words, and this share, are Welsh words the
#: glossary knows and English does not (besides the function-word test of ``language``).
MIN_WELSH_WORDS = 3
MIN_WELSH_SHARE = 0.3
#: A short text ("Noswaith dda o Groesoswallt", "Moch yw'r heddlu i gyd") is Welsh with two
#: such words when the glossary knows this share of all its words.
SHORT_WELSH_WORDS = 2
SHORT_WELSH_KNOWN = 0.7

_WORD = re.compile(r"[a-z0-9]+")
_VOWELS = "aeiouwy"
# Clitics split off by an apostrophe (mae'r, heddlu'n, i'w) when the glossary lacks them.
_CLITICS = {"r": "the", "n": "", "w": "", "m": "my", "th": "your"}

# Each mutated beginning and the dictionary beginnings it may come from, longest first:
# nasal (ngh, mh, nh, ng, m, n), aspirate (ph, th, ch), soft (b, d, g lost, f, dd, l, r).
_UNMUTATE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ngh", ("c",)),
    ("mh", ("p",)),
    ("nh", ("t",)),
    ("ng", ("g",)),
    ("ph", ("p",)),
    ("th", ("t",)),
    ("ch", ("c",)),
    ("dd", ("d",)),
    ("m", ("b",)),
    ("n", ("d",)),
    ("b", ("p",)),
    ("d", ("t",)),
    ("g", ("c",)),
    ("f", ("b", "m")),
    ("l", ("ll",)),
    ("r", ("rh",)),
)


def unmutated(word: str) -> Iterator[str]:
    """The dictionary forms ``word`` may be a mutation of (not ``word`` itself)."""
    for mutated, originals in _UNMUTATE:
        if word.startswith(mutated) and len(word) > len(mutated) + 1:
            for original in originals:
                yield original + word[len(mutated) :]
    if word[:1] in _VOWELS:
        yield "g" + word  # soft mutation drops an initial g
    if word.startswith("h") and word[1:2] in _VOWELS:
        yield word[1:]  # h before a vowel, after ei (her), ein, eu, ...


@dataclass(frozen=True, slots=True)
class Glossary:
    """Welsh entries (words and phrases, dictionary forms) to their English gloss."""

    entries: dict[str, str]

    def lookup(self, tokens: list[str], start: int) -> tuple[str, int] | None:
        """The gloss of the longest entry starting at ``tokens[start]``, and its length."""
        for size in range(min(MAX_PHRASE, len(tokens) - start), 0, -1):
            first, rest = tokens[start], tokens[start + 1 : start + size]
            for form in (first, *unmutated(first)):
                gloss = self.entries.get(" ".join([form, *rest]))
                if gloss is not None:
                    return gloss, size
        return None


@dataclass(frozen=True, slots=True)
class WelshReading:
    """The English gloss of a Welsh text, and the share of its words the glossary knew."""

    gloss: str
    known: float


def words(text: str) -> list[str]:
    """Lower-case words without accents (tŷ → ty), split at apostrophes (mae'r → mae r)."""
    bare = unicodedata.normalize("NFKD", text.casefold())
    return _WORD.findall("".join(ch for ch in bare if not unicodedata.combining(ch)))


def parse_glossary(text: str) -> Glossary:
    """Entries of a two-column ``welsh<TAB>english`` file; the first of a repeated key wins."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        welsh, sep, english = line.partition("\t")
        key = " ".join(words(welsh))
        if sep and key and key not in entries:
            entries[key] = " ".join(english.split()).casefold()
    return Glossary(entries)


@lru_cache(maxsize=1)
def load_glossary() -> Glossary:
    """The shipped glossary (read once per process)."""
    return parse_glossary((DIRECTORY / GLOSSARY_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words: those of the sentence model's (English, uncased) vocabulary."""
    vocab = json.loads(TOKENIZER_PATH.read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(w for w in vocab if w.isalpha() and not w.startswith("#"))


def is_welsh(match_text: str, clean: str, glossary: Glossary | None = None) -> bool:
    """Welsh by its function words, or by enough words the glossary knows and English not."""
    if looks_welsh(match_text):
        return True
    glossary = glossary or load_glossary()
    tokens = words(clean)
    english = english_words()
    hits = sum(t not in english and glossary.lookup([t], 0) is not None for t in tokens)
    if hits >= MIN_WELSH_WORDS and hits >= MIN_WELSH_SHARE * len(tokens):
        return True
    return hits >= SHORT_WELSH_WORDS and gloss(clean, glossary).known >= SHORT_WELSH_KNOWN


def gloss(text: str, glossary: Glossary | None = None) -> WelshReading:
    """Gloss ``text`` word by word, phrases first; unknown words are kept as they are."""
    glossary = glossary or load_glossary()
    tokens = words(text)
    out: list[str] = []
    known = i = 0
    while i < len(tokens):
        found = glossary.lookup(tokens, i)
        if found is None and tokens[i] in _CLITICS:
            found = _CLITICS[tokens[i]], 1
        if found is None:
            out.append(tokens[i])
            i += 1
            continue
        english, size = found
        if english:
            out.append(english)
        known += size
        i += size
    return WelshReading(" ".join(out), known / len(tokens) if tokens else 0.0)


def read_welsh(match_text: str, clean: str, glossary: Glossary | None = None) -> str:
    """What matching reads: the gloss of ``clean`` if ``match_text`` (its normalised form) is
    Welsh the glossary mostly knows, otherwise ``match_text`` itself."""
    if not is_welsh(match_text, clean, glossary):
        return match_text
    reading = gloss(clean, glossary)
    return reading.gloss if reading.known >= MIN_KNOWN and reading.gloss else match_text


def as_read(n: Normalised, glossary: Glossary | None = None) -> Normalised:
    """``n`` as the learned stages read it: its ``match_text`` the English gloss when it is
    Welsh the glossary mostly knows (:func:`read_welsh`); staff still read ``clean``."""
    reading = read_welsh(n.match_text, n.clean, glossary)
    return n if reading == n.match_text else replace(n, match_text=reading)
