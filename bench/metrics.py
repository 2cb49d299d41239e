"""Scoring metrics for the benchmarks: thresholded P/R/F1 and clustering agreement.

* :func:`prf_at` and :func:`best_threshold`: precision/recall/F1 of a score threshold, and the
  threshold that maximises F1 on given data (chosen on a tuning half, applied to a test half).
* :func:`clustering_pair_prf`, :func:`adjusted_rand_index` and :func:`v_measure`: agreement
  between a predicted grouping and the true one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "PRF",
    "adjusted_rand_index",
    "best_threshold",
    "clustering_pair_prf",
    "prf_at",
    "prf_fields",
    "v_measure",
]


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 of a binary decision at one threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float


def prf_fields(r: PRF) -> dict[str, float]:
    """Precision, recall and F1 of ``r`` as a dict (for JSON results), without the threshold."""
    return {"precision": r.precision, "recall": r.recall, "f1": r.f1}


def prf_at(scores: ArrayLike, labels: ArrayLike, threshold: float) -> PRF:
    """Precision/recall/F1 of predicting ``score >= threshold`` as positive."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    pred = s >= threshold
    tp = float(np.sum(pred & y))
    fp = float(np.sum(pred & ~y))
    fn = float(np.sum(~pred & y))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(threshold, p, r, f)


def best_threshold(scores: ArrayLike, labels: ArrayLike) -> PRF:
    """The threshold (midpoint between adjacent scores) that maximises F1 on these data."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    fp = np.cumsum(~y_sorted)
    positives = max(int(y.sum()), 1)
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / positives
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    # only cut between distinct scores
    distinct = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    f1 = np.where(distinct, f1, -1.0)
    i = int(np.argmax(f1))
    nxt = s_sorted[i + 1] if i + 1 < len(s_sorted) else s_sorted[i] - 1e-6
    threshold = float((s_sorted[i] + nxt) / 2)
    return prf_at(s, y, threshold)


def _comb2(n: int) -> float:
    return n * (n - 1) / 2.0


def adjusted_rand_index(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    """Adjusted Rand index between two labelings of the same items (Hubert & Arabie)."""
    pairs = Counter(zip(truth, pred, strict=True))
    a = Counter(truth)
    b = Counter(pred)
    n = len(truth)
    index = sum(_comb2(c) for c in pairs.values())
    sum_a = sum(_comb2(c) for c in a.values())
    sum_b = sum(_comb2(c) for c in b.values())
    expected = sum_a * sum_b / _comb2(n) if n > 1 else 0.0
    maximum = (sum_a + sum_b) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def _entropy(counts: Counter[Hashable], n: int) -> float:
    return -sum((c / n) * math.log(c / n) for c in counts.values() if c)


def v_measure(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> tuple[float, float, float]:
    """(homogeneity, completeness, V-measure) of ``pred`` vs ``truth`` (Rosenberg-Hirschberg)."""
    n = len(truth)
    joint = Counter(zip(truth, pred, strict=True))
    h_c = _entropy(Counter(truth), n)
    h_k = _entropy(Counter(pred), n)
    pred_counts = Counter(pred)
    truth_counts = Counter(truth)
    h_c_given_k = -sum((c / n) * math.log(c / pred_counts[k]) for (_, k), c in joint.items())
    h_k_given_c = -sum((c / n) * math.log(c / truth_counts[t]) for (t, _), c in joint.items())
    homogeneity = 1.0 if h_c == 0 else 1.0 - h_c_given_k / h_c
    completeness = 1.0 if h_k == 0 else 1.0 - h_k_given_c / h_k
    if homogeneity + completeness == 0:
        return homogeneity, completeness, 0.0
    v = 2 * homogeneity * completeness / (homogeneity + completeness)
    return homogeneity, completeness, v


def clustering_pair_prf(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> PRF:
    """Pairwise P/R/F1 of "in the same predicted group" against "in the same true group"."""
    tp = sum(_comb2(c) for c in Counter(zip(truth, pred, strict=True)).values())
    pred_pairs = sum(_comb2(c) for c in Counter(pred).values())
    true_pairs = sum(_comb2(c) for c in Counter(truth).values())
    p = tp / pred_pairs if pred_pairs else 0.0
    r = tp / true_pairs if true_pairs else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(float("nan"), p, r, f)
