"""Word-level text handling for themes: keyword cues, content terms and automatic labels.

Everything here works on normalised match text (see :mod:`workers.pipeline.normalise`):
taxonomy keyword cues become one regex per theme, questions are cut into content terms
(stopwords and very short words dropped), and a discovered theme is labelled by the terms most
typical of its questions against a background of document frequencies.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from workers.pipeline.normalise import normalise

__all__ = ["content_terms", "distinctive_label", "keyword_regex", "match_text"]

_STOPWORDS = frozenset(
    re.findall(
        r"\S+",
        """a about above after again against all also am an and any are as at be because been before
    being below between both but by can cant could did didnt do does doesnt doing dont down
    during each even ever every few for from further get gets got had has have having he her
    here hers him his how i if in into is isnt it its just know like lot lots me more most much
    my no nor not now of off on once only or other our ours out over own please re really right
    same she should so some such than that thats the their them then there theres these they
    this those through to too under until up us very was wasnt we were what whats when where
    which while who whom why will with would wont you your yours yes been im ive id youre theyre
    u ur ask asking asked like want wants done going go goes come comes make made say said tell
    told think thing things still again yet one two three way well back time times day days
    week weeks year years month months last next new every anyone someone anything something
    nothing nobody everyone people police pcc commissioner chief constable force west mercia
    westmercia dear sir madam mr mrs regards kind sincerely faithfully thank thanks many best
    wishes hello good morning afternoon evening question questions would could can being area
    areas local actually""",
    )
)
_WORD = re.compile(r"[a-z][a-z0-9]+")


def match_text(text: str) -> str:
    """The normalised match text of ``text`` (what keyword cues and labels work on)."""
    return normalise(text).match_text


def keyword_regex(keywords: Sequence[str]) -> str | None:
    """Regex source matching any keyword at the start of a word of normalised text.

    ``burgl`` matches "burglary" and "burgled"; ``camp$`` matches only the word "camp".
    """
    parts = set()
    for raw in keywords:
        whole = raw.rstrip().endswith("$")
        body = match_text(raw.rstrip().rstrip("$"))
        if body:
            parts.add(re.escape(body) + (r"\b" if whole else ""))
    if not parts:
        return None
    return "|".join(sorted(parts, key=len, reverse=True))


def content_terms(text: str) -> list[str]:
    """The content words of a match text, in order: no stopwords, nothing under three letters."""
    return [w for w in _WORD.findall(text) if w not in _STOPWORDS and len(w) > 2]


def distinctive_label(
    texts: Sequence[str], df: Mapping[str, int], docs: int, *, words: int = 3
) -> str:
    """A short label from the words most typical of ``texts`` against a background.

    ``texts`` are normalised match texts (see :mod:`workers.pipeline.normalise`).

    Terms are scored by (number of texts containing them) x idf against ``df``/``docs``; only
    terms found in at least two texts count, and a two-word phrase can stand in for its words.
    Returns "" when the texts share no content word.
    """
    doc_terms = [content_terms(t) for t in texts if t]
    if len(doc_terms) < 2:
        return ""  # one question's words are not a theme's name (and may be anything it said)
    tf: Counter[str] = Counter()
    for terms in doc_terms:
        tf.update(set(terms))
        tf.update({f"{a} {b}" for a, b in itertools.pairwise(terms)})

    def idf(term: str) -> float:
        parts = term.split()
        return sum(math.log((docs + 1) / (df.get(p, 0) + 1)) + 1.0 for p in parts) / len(parts)

    scored = sorted(
        (
            (tf[t] * idf(t) * (1.15 if " " in t else 1.0), t)
            for t in tf
            if tf[t] >= 2  # shared by at least two questions
        ),
        reverse=True,
    )
    chosen: list[str] = []
    used: set[str] = set()
    for _, term in scored:
        if used & set(term.split()):
            continue
        chosen.append(term)
        used.update(term.split())
        if sum(len(c.split()) for c in chosen) >= words:
            break
    return ", ".join(chosen).capitalize()
