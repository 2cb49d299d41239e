"""How two questions are compared: place masking, lexical features and the match rules.

:func:`match_pair` decides whether a candidate pair is a near duplicate (rapidfuzz ratio on the
place-masked texts) or a paraphrase (cosine, or a :class:`PairScorer`'s probability, against a
threshold that is lower when both questions share a theme). :class:`DedupeIndex` in
``workers.pipeline.dedupe`` applies these rules to the nearest neighbours of each new question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from workers.pipeline.grouping import Suggestion

_STOPWORDS = frozenset(
    """
    a an the of to in on at by for from with about into over under and or but if so than
    then that this these those is are was were be been being am do does did done have has
    had i me my we us our you your he him his she her it its they them their what which who
    whom whose why how when where there here can could should would will shall may might
    must not no any some all just very too also please thank thanks dear
    """.split()  # noqa: SIM905
)
_WORD = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _location_forms(location: str) -> list[str]:
    """Word sequences that name ``location`` in lower-case match text (longest first)."""
    words = _tokens(location.replace("&", " and "))
    if not words:
        return []
    forms = [" ".join(words)]
    if len(words) > 1 and len(words[0]) >= 4:
        forms.append(words[0])  # "Stourport-on-Severn" is often just "Stourport"
    return forms


def mask_location(match_text: str, location: str | None) -> str:
    """Remove the question's own place name from its match text.

    ``match_text`` is normalised text (lower-case words); ``location`` is the place the caller
    recorded for the question. Whole-word occurrences of the place (and of its first word, for
    multi-word names) are removed so that "why is Ludlow never patrolled" and "why is Bromsgrove
    never patrolled" compare as the same question. Other places in the text are left alone.
    """
    if not location:
        return match_text
    text = match_text
    for form in _location_forms(location):
        pattern = r"\b" + r"\W+".join(re.escape(w) for w in form.split()) + r"\b"
        text = re.sub(pattern, " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())


def pair_features(a: str, b: str, cosine: float) -> np.ndarray:
    """Features of a question pair for :class:`PairScorer` (texts are place-masked match text).

    [cosine, rapidfuzz token_set_ratio/100, Jaccard of content words, shorter/longer length,
    content words only one side has (capped at 10, /10)].
    """
    ta, tb = _tokens(a), _tokens(b)
    ca, cb = set(ta) - _STOPWORDS, set(tb) - _STOPWORDS
    union = ca | cb
    jaccard = len(ca & cb) / len(union) if union else 1.0
    length_ratio = min(len(ta), len(tb)) / max(len(ta), len(tb), 1)
    unshared = min(len(ca ^ cb), 10) / 10.0
    token_set = fuzz.token_set_ratio(a, b) / 100.0
    return np.array([cosine, token_set, jaccard, length_ratio, unshared], dtype=np.float64)


@dataclass(frozen=True)
class PairScorer:
    """Logistic model: P(same question) from :func:`pair_features`.

    ``weights``/``bias`` apply to standardised features ((x - mean) / scale).
    """

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    source: str = ""

    def score_features(self, features: np.ndarray) -> float:
        """Probability for one feature vector."""
        z = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        logit = float(z @ np.asarray(self.weights) + self.bias)
        return 1.0 / (1.0 + math.exp(-max(min(logit, 50.0), -50.0)))

    def score(self, a: str, b: str, cosine: float) -> float:
        """Probability that ``a`` and ``b`` ask the same thing."""
        return self.score_features(pair_features(a, b, cosine))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PairScorer:
        """Inverse of :meth:`to_dict`."""
        return cls(
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["weights"]),
            float(data["bias"]),
            str(data.get("source", "")),
        )


#: Optional logistic pair scorer fitted on the QQP tuning half (``python -m bench.eval.dedupe
#: --fit``). Measured: +0.003 F1 on the QQP test half over cosine alone and no gain on our
#: policing set (docs/embedding-choice.md), so the default decision uses cosine alone.
QQP_PAIR_SCORER = PairScorer(
    mean=(0.656942, 0.727215, 0.378918, 0.752313, 0.52098),
    scale=(0.267117, 0.183679, 0.264189, 0.192505, 0.332749),
    weights=(3.393292, -0.249846, -0.262431, -0.091845, 0.011004),
    bias=-1.569432,
    source="QQP tuning half",
)
#: Minimum cosine (of place-masked questions) for a paraphrase match, and the lower minimum
#: when both questions carry the same theme. Chosen on the tuning halves only by
#: ``python -m bench.eval.dedupe`` ("joint choice"): the first maximises the summed tuning F1
#: of COVID-Q and our policing set (themes predicted by the theme classifier), the second is
#: the policing tuning half's best given the first. See docs/embedding-choice.md.
DEFAULT_PARAPHRASE_THRESHOLD = 0.75
DEFAULT_SAME_THEME_THRESHOLD = 0.375
#: Minimum rapidfuzz ratio / 100 for a near-exact (typo, resubmission) match.
DEFAULT_NEAR_THRESHOLD = 0.9
DEFAULT_NEIGHBOURS = 10


class MatchKind(StrEnum):
    """How a question was matched."""

    EXACT = "exact"
    NEAR = "near"
    PARAPHRASE = "paraphrase"
    NEW = "new"


def match_pair(
    a: str,
    b: str,
    cosine: float,
    *,
    scorer: PairScorer | None = None,
    near_threshold: float = DEFAULT_NEAR_THRESHOLD,
    paraphrase_threshold: float = DEFAULT_PARAPHRASE_THRESHOLD,
) -> tuple[MatchKind, float]:
    """Classify one pair of place-masked match texts (with the cosine of their embeddings).

    Returns (``near``, ratio) when the texts are equal or their rapidfuzz ratio / 100 is at
    least ``near_threshold``; (``paraphrase``, s) when the score ``s`` reaches
    ``paraphrase_threshold``; otherwise (``new``, s). ``s`` is the cosine, or the scorer's
    probability when a ``scorer`` is given. Exact duplicates are found by hash before any pair
    is compared, so this never returns ``exact``.
    """
    ratio = 1.0 if a == b else fuzz.ratio(a, b) / 100.0
    if a and b and ratio >= near_threshold:
        return MatchKind.NEAR, ratio
    p = cosine if scorer is None else scorer.score(a, b, cosine)
    if p >= paraphrase_threshold:
        return MatchKind.PARAPHRASE, p
    return MatchKind.NEW, p


@dataclass(frozen=True)
class MatchDecision:
    """The worker's decision for one question.

    ``group_key`` is the group the question is in (its own id when ``kind`` is ``new``);
    ``matched_item_id`` is the earlier question it matched (None for ``new``); ``score`` is 1.0
    for exact, the rapidfuzz ratio / 100 for near, the cosine (or the pair scorer's
    probability, when one is configured) for paraphrase, and for ``new`` the best rejected
    score, or 0.0. ``suggestions`` are the best candidate groups other than its own (carried
    by a question that started its own group, and as alternatives by one that joined).
    """

    item_id: str
    kind: MatchKind
    group_key: str
    score: float
    matched_item_id: str | None = None
    suggestions: tuple[Suggestion, ...] = ()


def offered(decision: MatchDecision, limit: int) -> MatchDecision:
    """``decision`` for an item kept out of grouping (a comment, a flagged question): the group
    it would have joined leads its suggestions, for staff to accept in one action."""
    if decision.kind is MatchKind.NEW or decision.matched_item_id is None:
        return decision
    first = Suggestion(decision.group_key, decision.matched_item_id, decision.score)
    rest = [s for s in decision.suggestions if s.group_key != decision.group_key]
    return replace(decision, suggestions=(first, *rest)[:limit])
