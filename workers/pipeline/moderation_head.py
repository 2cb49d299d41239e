"""Learned moderation: a logistic regression over the sentence vector, beside the word lists.

The keyword rules of :mod:`workers.pipeline.moderation` miss what has no keyword: insults
without a swear word ("spineless clown"), slogans as acronyms, scam adverts without a link,
test posts, council business in words the topic list lacks. ``heads/moderation.json`` (one
sigmoid per flag, fitted by ``scripts/train_heads.py`` on committed data) reads the vector
the pipeline already computed; a flag is added when its probability reaches the threshold
chosen at training time for 95 % out-of-fold precision, and the rules did not already
raise it. Like every flag it only asks staff to look.

Text the English sentence model cannot read (mostly Welsh) gets no learned flag: its
vector says nothing reliable, and a Welsh question must stay visible.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache

import numpy as np

from workers.pipeline.flags import Flag
from workers.pipeline.linear_head import HEADS_DIR, load_head
from workers.pipeline.normalise import Normalised
from workers.pipeline.wordlists import word_set

__all__ = ["learned_flags", "looks_welsh"]

_LABELS = {
    "abuse": "reads as abusive",
    "spam": "reads as spam or a test post",
    "out_of_scope": "reads as council or other non-police business",
}
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


@cache
def _thresholds() -> dict[str, float]:
    data = json.loads((HEADS_DIR / "moderation.json").read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data["thresholds"].items()}


def learned_flags(
    norms: Sequence[Normalised], vectors: np.ndarray, flags: Sequence[list[Flag]]
) -> None:
    """Append a learned flag to ``flags[i]`` where the head fires and the rules were silent."""
    if not norms:
        return
    head = load_head("moderation")
    thresholds = _thresholds()
    probs = head.scores(vectors)
    for n, row, item_flags in zip(norms, probs, flags, strict=True):
        if not n.match_text.strip() or looks_welsh(n.match_text):
            continue
        have = {f.code for f in item_flags}
        for code, p in zip(head.classes, row, strict=True):
            if p >= thresholds[code] and code not in have:
                item_flags.append(Flag(code, f"{_LABELS[code]} (learned model, {p:.2f})"))
