"""Scoring questions against the taxonomy themes.

A question's score for a taxonomy theme combines its cosine similarity to the theme prototype
(the unit mean of the theme's example, description and staff-example embeddings), the mean
similarity to the theme's nearest examples, and a bonus when one of the theme's keyword cues
occurs in its match text. With a theme head (a softmax over the taxonomy's slugs, fitted on
thousands of questions filed by people: ``scripts/train_heads.py``) the head's probability,
weighed, is added. A question very close to a staff example of a theme gets at least that
similarity (plus the head's full weight) as the theme's score, so this office's own choices
outweigh the head. Scoring a batch is a few matrix products.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workers.pipeline.linear_head import LinearHead
from workers.pipeline.themes.model import ThemeModel, unit_vector

__all__ = ["ScoreWeights", "TaxonomyScorer", "knn_mean"]


@dataclass(frozen=True)
class ScoreWeights:
    """How the parts of a taxonomy score are weighed (see ``ThemeClassifier``'s arguments)."""

    proto_weight: float
    knn_weight: float
    keyword_bonus: float
    knn: int
    staff_match: float
    head_weight: float = 0.0


def knn_mean(sims: np.ndarray, k: int) -> np.ndarray:
    """Mean of the top-``k`` values of each row of ``sims`` (n, m)."""
    k = min(k, sims.shape[1])
    if k <= 0:
        return np.zeros(sims.shape[0], np.float32)
    if k == sims.shape[1]:
        return sims.mean(axis=1)
    return np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


class TaxonomyScorer:
    """Prototypes, stacked examples and keyword regex of the taxonomy themes, ready to score.

    Built from the taxonomy theme models as they are now; build a new one after any change to
    the taxonomy or its staff examples. A theme the head does not know (one staff added) gets
    no head term; a head class no longer in the taxonomy is ignored.
    """

    def __init__(
        self, models: Sequence[ThemeModel], dim: int, head: LinearHead | None = None
    ) -> None:
        """Stack every theme's vectors and compile the keyword cues of ``models``."""
        vecs = [m.vectors() for m in models]
        self.slugs = [m.slug for m in models]
        """Slugs of the scored themes: column ``j`` of :meth:`scores` is ``slugs[j]``."""
        self._head = head
        known = {c: k for k, c in enumerate(head.classes)} if head is not None else {}
        self._head_cols = [(j, known[s]) for j, s in enumerate(self.slugs) if s in known]
        groups = [f"(?P<t{j}>{m.keyword_regex})" for j, m in enumerate(models) if m.keyword_regex]
        self._lexicon = re.compile(r"\b(?:" + "|".join(groups) + ")") if groups else None
        empty = np.zeros((0, dim), np.float32)
        self._protos = np.stack([unit_vector(v.mean(axis=0)) for v in vecs]) if vecs else empty
        self._examples = np.concatenate(vecs) if vecs else empty
        learned = [(j, v) for j, m in enumerate(models) for v in m.learned]
        self._learned_owner = np.array([j for j, _ in learned], dtype=np.int64)
        self._learned_vecs = np.stack([v for _, v in learned]) if learned else empty
        bounds = np.cumsum([0, *(len(v) for v in vecs)])
        self._bounds = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))

    def scores(
        self, vectors: np.ndarray, matched: Sequence[str], weights: ScoreWeights
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n, themes) ranking and fit: how each question ranks the themes, how well each fits.

        The fit is prototype + nearest-example similarity + keyword bonus (a staff example
        close enough lifts it); the ranking adds the head's weighed probability. A question
        takes the theme it ranks first, when some theme fits well enough (otherwise it may
        found a discovered theme). ``vectors`` are the questions' unit embeddings and
        ``matched`` their match texts. With no taxonomy themes both are one column of ``-inf``.
        """
        n, t = len(vectors), len(self.slugs)
        if t == 0:
            empty = np.full((n, 1), -np.inf, np.float32)
            return empty, empty
        proto = vectors @ self._protos.T
        sims = vectors @ self._examples.T
        knn = np.empty((n, t), np.float32)
        for j, (lo, hi) in enumerate(self._bounds):
            knn[:, j] = knn_mean(sims[:, lo:hi], weights.knn)
        lex = np.zeros((n, t), np.float32)
        if self._lexicon is not None:
            for i, text in enumerate(matched):
                for hit in self._lexicon.finditer(text):
                    lex[i, int(hit.lastgroup[1:])] = 1.0  # type: ignore[index]
        score = (
            weights.proto_weight * proto + weights.knn_weight * knn + weights.keyword_bonus * lex
        )
        ranking = score.copy()
        if self._head is not None and self._head_cols and weights.head_weight:
            probs = self._head.scores(vectors)
            cols, classes = zip(*self._head_cols, strict=True)
            ranking[:, list(cols)] += weights.head_weight * probs[:, list(classes)]
        if len(self._learned_vecs):
            # A staff example is strong evidence: a question at least as close to one as
            # the theme's fit says gets that similarity as its fit, and ranks the theme as
            # if the head were sure (so a theme staff added, unknown to the head, can win).
            staff = vectors @ self._learned_vecs.T
            for j in np.unique(self._learned_owner):
                near = staff[:, self._learned_owner == j].max(axis=1)
                near = np.where(near >= weights.staff_match, near, -np.inf)
                score[:, j] = np.maximum(score[:, j], near)
                ranking[:, j] = np.maximum(ranking[:, j], near + weights.head_weight)
        return ranking, score
