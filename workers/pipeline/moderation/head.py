"""Learned moderation: logistic regression on the sentence vector and on n-grams, beside the rules.

The keyword rules of :mod:`workers.pipeline.moderation` miss what has no keyword: insults
without a swear word ("spineless clown"), slogans as acronyms, scam adverts without a link,
test posts, council business in words the topic list lacks. ``heads/moderation.json`` holds
one sigmoid per flag over three blocks of features: the sentence vector the pipeline already
computed (what the text is about) and the character and word n-grams of
:mod:`workers.pipeline.moderation.features` (how it is spelt: "p1gs", "acab", "dm me"). It is
fitted by ``scripts/train_heads.py`` on committed data; its sha256 is checked on loading. A
flag is added when its probability reaches the threshold chosen by grouped cross-validation
for the precision target recorded in the file, and the rules did not already raise it. Like
every flag it only asks staff to look.

Text the English sentence model cannot read (Welsh, other scripts) gets no learned flag: its
vector says nothing reliable, and such a question must stay visible.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from workers.pipeline.flags import Flag
from workers.pipeline.language import looks_welsh, model_cannot_read
from workers.pipeline.linear_head import HEADS_DIR, read_checked
from workers.pipeline.moderation.features import gram_blocks
from workers.pipeline.normalise import Normalised

__all__ = ["GramWeights", "ModerationHead", "learned_flags", "load_moderation_head", "looks_welsh"]

_LABELS = {
    "abuse": "reads as abusive",
    "spam": "reads as spam or a test post",
    "out_of_scope": "reads as council or other non-police business",
}


@dataclass(frozen=True)
class GramWeights:
    """Weights of one n-gram block: a row of ``matrix`` (one column per class) per gram."""

    index: dict[str, int]
    matrix: np.ndarray  # (grams, classes)

    @classmethod
    def from_table(cls, table: dict[str, list[float]], classes: int) -> GramWeights:
        """From ``{gram: [weight per class]}``."""
        matrix = np.asarray(list(table.values()), dtype=np.float64).reshape(-1, classes)
        return cls({g: i for i, g in enumerate(table)}, matrix)

    def table(self) -> dict[str, list[float]]:
        """``{gram: [weight per class]}``, rounded, in gram order."""
        return {
            g: [round(float(x), 4) for x in self.matrix[i]] for g, i in sorted(self.index.items())
        }

    def total(self, grams: set[str]) -> np.ndarray:
        """The summed weights of the grams this block knows."""
        rows = [i for i in map(self.index.get, grams) if i is not None]
        return self.matrix[rows].sum(axis=0)


@dataclass(frozen=True)
class ModerationHead:
    """One sigmoid per flag over the sentence vector and the char / word n-gram blocks."""

    classes: tuple[str, ...]
    intercept: np.ndarray  # (classes,)
    vector_coef: np.ndarray  # (classes, vector dimensions)
    char_weights: GramWeights
    word_weights: GramWeights
    scales: tuple[float, float, float]  # weight of the vector, char and word blocks
    thresholds: dict[str, float]

    def scores(self, norms: Sequence[Normalised], vectors: np.ndarray) -> np.ndarray:
        """Probabilities, one row per text and one column per class."""
        logits = (
            np.asarray(vectors, dtype=np.float64) @ self.vector_coef.T * self.scales[0]
            + self.intercept
        )
        for row, n in enumerate(norms):
            (chars, c_value), (words, w_value) = gram_blocks(n)
            logits[row] += self.char_weights.total(chars) * (c_value * self.scales[1])
            logits[row] += self.word_weights.total(words) * (w_value * self.scales[2])
        return 1.0 / (1.0 + np.exp(-logits))

    def to_json(self, **meta: object) -> str:
        """The file format read by :func:`load_moderation_head` (``meta`` is kept for people)."""
        body = {
            "classes": list(self.classes),
            "thresholds": self.thresholds,
            "scales": list(self.scales),
            "intercept": [round(float(x), 6) for x in self.intercept],
            **meta,
            "vector_coef": [[round(float(x), 5) for x in row] for row in self.vector_coef],
            "word_grams": self.word_weights.table(),
            "char_grams": self.char_weights.table(),
        }
        return (
            "{\n"
            + ",\n".join(
                f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}"
                for k, v in body.items()
            )
            + "\n}\n"
        )

    @classmethod
    def from_json(cls, data: dict) -> ModerationHead:
        """The head described by a parsed head file."""
        scales = tuple(float(x) for x in data["scales"])
        return cls(
            classes=tuple(data["classes"]),
            intercept=np.asarray(data["intercept"], dtype=np.float64),
            vector_coef=np.asarray(data["vector_coef"], dtype=np.float64),
            char_weights=GramWeights.from_table(data["char_grams"], len(data["classes"])),
            word_weights=GramWeights.from_table(data["word_grams"], len(data["classes"])),
            scales=(scales[0], scales[1], scales[2]),
            thresholds={k: float(v) for k, v in data["thresholds"].items()},
        )


@cache
def load_moderation_head(directory: Path = HEADS_DIR) -> ModerationHead:
    """``<directory>/moderation.json``, its sha256 checked against ``sha256sums.txt`` there."""
    return ModerationHead.from_json(read_checked("moderation", directory))


def learned_flags(
    norms: Sequence[Normalised],
    vectors: np.ndarray,
    flags: Sequence[list[Flag]],
    head: ModerationHead | None = None,
) -> None:
    """Append a learned flag to ``flags[i]`` where the head fires and the rules were silent.

    ``head`` defaults to the shipped one (training passes a head it is evaluating).
    """
    if not norms:
        return
    head = head or load_moderation_head()
    keep = [i for i, n in enumerate(norms) if n.match_text.strip()]
    keep = [i for i in keep if not model_cannot_read(norms[i].match_text)]
    if not keep:
        return
    probs = head.scores([norms[i] for i in keep], np.asarray(vectors)[keep])
    for i, row in zip(keep, probs, strict=True):
        have = {f.code for f in flags[i]}
        for code, p in zip(head.classes, row, strict=True):
            if p >= head.thresholds[code] and code not in have:
                flags[i].append(Flag(code, f"{_LABELS[code]} (learned model, {p:.2f})"))
