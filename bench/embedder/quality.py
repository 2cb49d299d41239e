"""How well an embedder finds duplicate questions: F1 of a cosine threshold, honestly split.

The threshold is always chosen on a tuning half and F1 reported on the other half: QQP pairs
(:func:`qqp_cosine_f1`), pairs within a clustered set split by cluster
(:func:`clustered_pair_f1`), and a lexical rapidfuzz baseline on QQP for comparison.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from bench.datasets import ClusteredQuestion, QuestionPair, split_halves
from bench.metrics import best_threshold, prf_at
from workers.pipeline.dedupe import mask_location
from workers.pipeline.embedding import Embedder
from workers.pipeline.normalise import normalise

__all__ = ["clustered_pair_f1", "qqp_cosine_f1", "rapidfuzz_baseline"]


def qqp_cosine_f1(embedder: Embedder, pairs: Sequence[QuestionPair]) -> dict[str, float]:
    """Cosine threshold tuned on the tuning half; P/R/F1 reported on the test half."""
    tune, test = split_halves(pairs)
    texts = sorted({p.q1 for p in pairs} | {p.q2 for p in pairs})
    index = {t: i for i, t in enumerate(texts)}
    vecs = embedder.embed(texts)

    def cos(ps: Sequence[QuestionPair]) -> np.ndarray:
        a = vecs[[index[p.q1] for p in ps]]
        b = vecs[[index[p.q2] for p in ps]]
        return np.sum(a * b, axis=1)

    chosen = best_threshold(cos(tune), [p.duplicate for p in tune])
    result = prf_at(cos(test), [p.duplicate for p in test], chosen.threshold)
    return {
        "threshold": round(chosen.threshold, 4),
        "tune_f1": round(chosen.f1, 4),
        "test_precision": round(result.precision, 4),
        "test_recall": round(result.recall, 4),
        "test_f1": round(result.f1, 4),
    }


def rapidfuzz_baseline(pairs: Sequence[QuestionPair]) -> dict[str, float]:
    """Lexical baseline: rapidfuzz token_set_ratio, same split and threshold rule."""
    from rapidfuzz import fuzz, utils

    tune, test = split_halves(pairs)

    def score(ps: Sequence[QuestionPair]) -> list[float]:
        return [fuzz.token_set_ratio(p.q1, p.q2, processor=utils.default_process) for p in ps]

    chosen = best_threshold(score(tune), [p.duplicate for p in tune])
    result = prf_at(score(test), [p.duplicate for p in test], chosen.threshold)
    return {"threshold": chosen.threshold, "test_f1": round(result.f1, 4)}


def clustered_pair_f1(
    embedder: Embedder, items: Sequence[ClusteredQuestion], prefix: str, seed: int = 7
) -> dict[str, float]:
    """Pairwise same-cluster F1 of cosine >= t on a cluster-level split.

    Clusters are shuffled with a fixed seed and cut in two; t is chosen on all pairs inside the
    first half's items and F1 is reported on all pairs inside the second half's items. Place
    names given as the item's location are masked first, as the dedupe stage does.
    """
    clusters = sorted({q.cluster for q in items})
    random.Random(seed).shuffle(clusters)
    tune_clusters = set(clusters[: len(clusters) // 2])
    texts = [mask_location(normalise(q.text).match_text, q.location) for q in items]
    vecs = embedder.embed(texts)

    def scores(sel: list[int]) -> tuple[np.ndarray, np.ndarray]:
        v = vecs[sel]
        sims = v @ v.T
        labels = np.array([[items[i].cluster == items[j].cluster for j in sel] for i in sel])
        upper = np.triu_indices(len(sel), k=1)
        return sims[upper], labels[upper]

    tune_idx = [i for i, q in enumerate(items) if q.cluster in tune_clusters]
    test_idx = [i for i, q in enumerate(items) if q.cluster not in tune_clusters]
    chosen = best_threshold(*scores(tune_idx))
    result = prf_at(*scores(test_idx), chosen.threshold)
    return {f"{prefix}_threshold": round(chosen.threshold, 4), f"{prefix}_f1": round(result.f1, 4)}
