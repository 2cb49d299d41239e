"""Evaluations of question matching (DedupeIndex) on each benchmark set, with honest splits.

* QQP pairs (:func:`eval_qqp`): pair features of the place-masked match texts, scored by
  cosine or by a logistic pair scorer fitted on the tuning half (:func:`fit_pair_scorer`).
* Clustered sets, COVID-Q and our policing set (:func:`eval_clustered`): each half of the
  clusters is streamed through a fresh DedupeIndex (:func:`run_online`) in arrival order,
  optionally with themes predicted by the theme classifier; thresholds are tuned on one half
  and reported on the other. :func:`joint_choice` picks the shipped defaults from the tuning
  halves of both sets.

The command line and the markdown table are in :mod:`bench.eval.dedupe` and
:mod:`bench.dedupe_report`.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.datasets import ClusteredQuestion, QuestionPair, load_qqp, split_halves
from bench.metrics import (
    adjusted_rand_index,
    best_threshold,
    clustering_pair_prf,
    prf_at,
    prf_fields,
    v_measure,
)
from workers.pipeline.dedupe import DedupeIndex
from workers.pipeline.embedding import Embedder, default_embedder
from workers.pipeline.match_rules import PairScorer, mask_location, pair_features
from workers.pipeline.normalise import normalise

__all__ = [
    "CLUSTER_SEED",
    "GRID",
    "ORDER_SEED",
    "QQP_SEED",
    "SAME_THEME_GRID",
    "OnlineRun",
    "eval_clustered",
    "eval_qqp",
    "fit_pair_scorer",
    "joint_choice",
    "predicted_themes",
    "qqp_features",
    "run_online",
]

QQP_SEED = 20240601
CLUSTER_SEED = 7
ORDER_SEED = 11
GRID = tuple(round(0.3 + 0.025 * i, 3) for i in range(25))  # cosine 0.30 .. 0.90
SAME_THEME_GRID = tuple(round(0.3 + 0.025 * i, 3) for i in range(15))  # cosine 0.30 .. 0.65


# --- QQP pairs ----------------------------------------------------------------------------


def _embed_masked(
    embedder: Embedder, texts: Sequence[str], locations: Sequence[str | None]
) -> tuple[list[str], np.ndarray]:
    """Place-masked match texts and their embeddings, one question per call as the worker does.

    (int8 activations are quantised per onnxruntime run, so batching would move vectors by up
    to ~1% cosine and the figures with them.)
    """
    masked = [
        mask_location(normalise(t).match_text, loc) for t, loc in zip(texts, locations, strict=True)
    ]
    vecs = np.zeros((len(masked), embedder.dim), dtype=np.float32)
    for i, text in enumerate(masked):
        vecs[i] = embedder.embed([text])[0]
    return masked, vecs


def qqp_features(
    embedder: Embedder, pairs: Sequence[QuestionPair]
) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """(features, exact-hash-equal flags, labels) for every pair, in order."""
    texts = sorted({p.q1 for p in pairs} | {p.q2 for p in pairs})
    masked, vecs = _embed_masked(embedder, texts, [None] * len(texts))
    index = {t: i for i, t in enumerate(texts)}
    feats, exact = [], []
    for p in pairs:
        i, j = index[p.q1], index[p.q2]
        feats.append(pair_features(masked[i], masked[j], float(vecs[i] @ vecs[j])))
        exact.append(masked[i] == masked[j])
    return np.array(feats), np.array(exact), [p.duplicate for p in pairs]


def fit_pair_scorer(
    x: np.ndarray, y: Sequence[bool], l2: float = 1.0, source: str = ""
) -> PairScorer:
    """L2-regularised logistic regression (Newton's method) on standardised features."""
    target = np.asarray(y, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-9
    z = np.c_[(x - mean) / scale, np.ones(len(x))]
    w = np.zeros(z.shape[1])
    penalty = l2 * np.r_[np.ones(z.shape[1] - 1), 0.0]
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (p - target) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return PairScorer(
        tuple(round(float(v), 6) for v in mean),
        tuple(round(float(v), 6) for v in scale),
        tuple(round(float(v), 6) for v in w[:-1]),
        round(float(w[-1]), 6),
        source,
    )


def _pair_scores(feats: np.ndarray, exact: np.ndarray, scorer: PairScorer | None) -> np.ndarray:
    """Score per pair as DedupeIndex decides it: 1 for equal texts, else cosine or P(same)."""
    if scorer is None:
        out = feats[:, 0].copy()
    else:
        out = np.array([scorer.score_features(f) for f in feats])
    out[exact] = 1.0
    return out


def eval_qqp(embedder: Embedder) -> dict[str, Any]:
    """QQP pair P/R/F1 for cosine and for a logistic pair scorer, all fit on the tuning half."""
    pairs = load_qqp()
    tune, test = split_halves(pairs, seed=QQP_SEED)
    f_tune, e_tune, y_tune = qqp_features(embedder, tune)
    f_test, e_test, y_test = qqp_features(embedder, test)
    out: dict[str, Any] = {}
    fitted = fit_pair_scorer(f_tune, y_tune, source="QQP tuning half")
    for name, scorer in (("cosine", None), ("scorer_fit_on_qqp_tune", fitted)):
        s_tune = _pair_scores(f_tune, e_tune, scorer)
        s_test = _pair_scores(f_test, e_test, scorer)
        t = best_threshold(s_tune, y_tune)
        r = prf_at(s_test, y_test, t.threshold)
        out[name] = {"threshold": t.threshold, "tune_f1": t.f1, **prf_fields(r)}
    out["_fitted"] = fitted
    return out


# --- online grouping on clustered sets ------------------------------------------------------


@dataclass
class OnlineRun:
    """Result of streaming questions through one DedupeIndex."""

    truth: list[str]
    pred: list[str]
    kinds: Counter[str]
    seconds: float
    cpu_seconds: float

    def metrics(self) -> dict[str, float]:
        """Pair P/R/F1, ARI, V-measure and group counts."""
        pair = clustering_pair_prf(self.truth, self.pred)
        h, c, v = v_measure(self.truth, self.pred)
        return {
            **prf_fields(pair),
            "ari": adjusted_rand_index(self.truth, self.pred),
            "homogeneity": h,
            "completeness": c,
            "v_measure": v,
            "true_groups": len(set(self.truth)),
            "pred_groups": len(set(self.pred)),
            "items": len(self.truth),
            "ms_per_item": 1000 * self.seconds / max(len(self.truth), 1),
            "cpu_ms_per_item": 1000 * self.cpu_seconds / max(len(self.truth), 1),
        }


def run_online(
    items: Sequence[ClusteredQuestion],
    masked: Sequence[str],
    vecs: np.ndarray,
    order: Sequence[int],
    threshold: float,
    same_theme_threshold: float,
    themes: Mapping[int, str] | None = None,
    scorer: PairScorer | None = None,
) -> OnlineRun:
    """Place ``items`` (in ``order``) into a fresh DedupeIndex with precomputed embeddings.

    Since issue 8 the index joins on the average cosine to a group (``threshold``) and no longer
    uses themes or a pair scorer: ``same_theme_threshold``, ``themes`` and ``scorer`` are
    accepted for the older tables and ignored.
    """
    del same_theme_threshold, scorer
    index = DedupeIndex(vecs.shape[1], join_threshold=threshold)
    kinds: Counter[str] = Counter()
    start, cpu = time.perf_counter(), time.process_time()
    for i in order:
        q = items[i]
        text = normalise(q.text).match_text
        theme = themes.get(i) if themes is not None else None
        d = index.place(q.qid, text, vecs[i], q.location, theme=theme)
        kinds[d.kind.value] += 1
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    truth = [items[i].cluster for i in order]
    pred = [index.group_of(items[i].qid) for i in order]
    return OnlineRun(truth, pred, kinds, seconds, cpu)


def _arrival_order(items: Sequence[ClusteredQuestion], idx: Sequence[int], seed: int) -> list[int]:
    """Advance questions first, then live ones (each shuffled); others just shuffled."""
    rng = random.Random(seed)
    advance = [i for i in idx if items[i].extra.get("phase") == "advance"]
    rest = [i for i in idx if items[i].extra.get("phase") != "advance"]
    rng.shuffle(advance)
    rng.shuffle(rest)
    return advance + rest


def _live_to_advance(
    items: Sequence[ClusteredQuestion], run_order: Sequence[int], pred: Sequence[str]
) -> float | None:
    """Share of live questions on a point also asked in advance that joined such a question."""
    group_of = {items[i].qid: g for i, g in zip(run_order, pred, strict=True)}
    advance_by_group: dict[str, set[str]] = {}
    for i in run_order:
        if items[i].extra.get("phase") == "advance":
            advance_by_group.setdefault(items[i].cluster, set()).add(group_of[items[i].qid])
    hits = total = 0
    for i in run_order:
        q = items[i]
        if q.extra.get("phase") == "live" and q.cluster in advance_by_group:
            total += 1
            hits += group_of[q.qid] in advance_by_group[q.cluster]
    return hits / total if total else None


def predicted_themes(
    items: Sequence[ClusteredQuestion], masked: Sequence[str], vecs: np.ndarray, order: list[int]
) -> dict[int, str]:
    """Themes from a fresh seed-taxonomy ThemeClassifier run over ``order`` (as live)."""
    from workers.pipeline.themes import ThemeClassifier, load_seed_taxonomy, shipped_theme_head

    embedder = default_embedder()
    classifier = ThemeClassifier(load_seed_taxonomy(), embedder, head=shipped_theme_head(embedder))
    assigned = classifier.assign(
        vecs[order], [masked[i] for i in order], [items[i].qid for i in order], normalised=True
    )
    return {i: a.slug for i, a in zip(order, assigned, strict=True)}


def eval_clustered(
    name: str,
    items: Sequence[ClusteredQuestion],
    embedder: Embedder,
    defaults: tuple[float, float],
    use_themes: bool,
) -> dict[str, Any]:
    """Online grouping: thresholds tuned on half the clusters, reported on the other half.

    With ``use_themes`` each half also runs through the theme classifier first and its themes
    (predicted, never gold) are passed to the index; both thresholds are then tuned.
    """
    masked, vecs = _embed_masked(embedder, [q.text for q in items], [q.location for q in items])
    clusters = sorted({q.cluster for q in items})
    random.Random(CLUSTER_SEED).shuffle(clusters)
    tune_clusters = set(clusters[: len(clusters) // 2])
    tune_idx = [i for i, q in enumerate(items) if q.cluster in tune_clusters]
    test_idx = [i for i, q in enumerate(items) if q.cluster not in tune_clusters]
    tune_order = _arrival_order(items, tune_idx, ORDER_SEED)
    test_order = _arrival_order(items, test_idx, ORDER_SEED)
    tune_themes = predicted_themes(items, masked, vecs, tune_order) if use_themes else None
    test_themes = predicted_themes(items, masked, vecs, test_order) if use_themes else None
    grid = []
    for t in GRID:
        for same in SAME_THEME_GRID if use_themes else (t,):
            if same > t:
                continue
            run = run_online(items, masked, vecs, tune_order, t, same, tune_themes)
            grid.append((run.metrics()["f1"], t, same))
    best_f1, best_t, best_same = max(grid)
    by_threshold: dict[float, tuple[float, float]] = {}  # t -> (best tune F1, its same-theme t)
    for f1, t, same in grid:
        if f1 > by_threshold.get(t, (-1.0, 0.0))[0]:
            by_threshold[t] = (f1, same)
    out: dict[str, Any] = {
        "name": name,
        "themes": "predicted by ThemeClassifier" if use_themes else "none",
        "tuned": [best_t, best_same],
        "tune_f1": best_f1,
        "_tune_by_threshold": by_threshold,
    }
    settings = (("test_at_tuned", (best_t, best_same)), ("test_at_default", defaults))
    for label, (t, same) in settings:
        run = run_online(items, masked, vecs, test_order, t, same, test_themes)
        out[label] = {
            "threshold": t,
            "same_theme_threshold": same if use_themes else None,
            **run.metrics(),
            "kinds": dict(run.kinds),
        }
        live = _live_to_advance(items, test_order, run.pred)
        if live is not None:
            out[label]["live_matched_to_advance"] = live
    if use_themes:  # the same split without themes, for comparison
        no_theme = [
            (run_online(items, masked, vecs, tune_order, t, t).metrics()["f1"], t) for t in GRID
        ]
        _, t = max(no_theme)
        run = run_online(items, masked, vecs, test_order, t, t)
        out["test_without_themes"] = {"threshold": t, **run.metrics(), "kinds": dict(run.kinds)}
    return out


def joint_choice(
    covid: Mapping[float, tuple[float, float]], policing: Mapping[float, tuple[float, float]]
) -> dict[str, float]:
    """Default thresholds from the tuning halves of both sets.

    The threshold for questions without a shared theme maximises the sum of the two tuning
    F1s (COVID-Q has no themes, so it guards against over-merging in general); the
    same-theme threshold is the policing tuning half's best for that threshold.
    """
    common = sorted(set(covid) & set(policing))
    t = max(common, key=lambda x: (covid[x][0] + policing[x][0], x))
    return {
        "paraphrase_threshold": t,
        "same_theme_threshold": policing[t][1],
        "covidq_tune_f1": covid[t][0],
        "policing_tune_f1": policing[t][0],
    }
