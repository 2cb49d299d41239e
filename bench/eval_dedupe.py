"""Evaluate question matching (DedupeIndex) on real data, with honest splits.

Run from the repository root::

    python -m bench.eval_dedupe            # markdown table
    python -m bench.eval_dedupe --json
    python -m bench.eval_dedupe --fit      # also print a PairScorer refit on the QQP tuning half

* QQP (10,000 pairs): split in halves with a fixed seed. Every threshold and the pair scorer's
  weights come from the tuning half; precision/recall/F1 are reported on the test half.
* COVID-Q (real questions only) and our policing set (spam left out): clusters are split in
  halves with a fixed seed. The questions of each half are streamed through a fresh
  DedupeIndex (advance questions first, then live ones, each in a seeded shuffle). The
  paraphrase threshold is chosen on the tuning half by a grid; pair P/R/F1, ARI and V-measure
  are reported on the test half, at that threshold and at the shipped default.

The test halves are never used for any choice.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bench.datasets import (
    COVIDQ_FILE,
    QQP_FILE,
    ClusteredQuestion,
    QuestionPair,
    bench_data_dir,
    load_covidq,
    load_policing,
    load_qqp,
    split_halves,
)
from workers.pipeline.dedupe import (
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_PARAPHRASE_THRESHOLD,
    DEFAULT_SAME_THEME_THRESHOLD,
    DedupeIndex,
    PairScorer,
    mask_location,
    pair_features,
)
from workers.pipeline.embedding import Embedder, default_embedder
from workers.pipeline.normalise import normalise


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 of a binary decision at one threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float


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


# --- pair counting on clusterings ---------------------------------------------------------


def clustering_pair_prf(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> PRF:
    """Pairwise P/R/F1 of "in the same predicted group" against "in the same true group"."""
    tp = sum(_comb2(c) for c in Counter(zip(truth, pred, strict=True)).values())
    pred_pairs = sum(_comb2(c) for c in Counter(pred).values())
    true_pairs = sum(_comb2(c) for c in Counter(truth).values())
    p = tp / pred_pairs if pred_pairs else 0.0
    r = tp / true_pairs if true_pairs else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(float("nan"), p, r, f)


# --- the runner ---------------------------------------------------------------------------


QQP_SEED = 20240601
CLUSTER_SEED = 7
ORDER_SEED = 11
GRID = tuple(round(0.3 + 0.025 * i, 3) for i in range(25))  # cosine 0.30 .. 0.90
SAME_THEME_GRID = tuple(round(0.3 + 0.025 * i, 3) for i in range(15))  # cosine 0.30 .. 0.65


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
        out[name] = {"threshold": t.threshold, "tune_f1": t.f1, **_prf(r)}
    out["_fitted"] = fitted
    return out


def _prf(r: PRF) -> dict[str, float]:
    return {"precision": r.precision, "recall": r.recall, "f1": r.f1}


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
            **_prf(pair),
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
    """Place ``items`` (in ``order``) into a fresh DedupeIndex with precomputed embeddings."""
    index = DedupeIndex(
        vecs.shape[1],
        paraphrase_threshold=threshold,
        same_theme_threshold=same_theme_threshold,
        scorer=scorer,
    )
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
    from workers.pipeline.themes import ThemeClassifier, load_seed_taxonomy

    classifier = ThemeClassifier(load_seed_taxonomy(), default_embedder())
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


def _fmt(v: object) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def markdown(results: dict[str, Any]) -> str:
    """Render results as a markdown table."""
    lines = [
        "| set | decision | threshold (chosen on) | P | R | F1 | ARI | V-measure "
        "| groups (pred/true) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    q = results.get("qqp")
    if q and "skipped" in q:
        lines.append(f"| QQP | skipped: {q['skipped']} | | | | | | | |")
    elif q:
        for key, label in (
            ("cosine", "cosine (default)"),
            ("scorer_fit_on_qqp_tune", "logistic: cosine + lexical"),
        ):
            r = q[key]
            lines.append(
                f"| QQP test half (pairs) | {label} | {r['threshold']:.3f} (QQP tune half) "
                f"| {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | | | |"
            )
    for key in ("covidq", "policing"):
        r = results.get(key)
        if not r:
            continue
        if "skipped" in r:
            lines.append(f"| {key} | skipped: {r['skipped']} | | | | | | | |")
            continue
        for label, src in (
            ("test_without_themes", "tune half, no themes"),
            ("test_at_tuned", "tune half of this set"),
            ("test_at_default", "default"),
        ):
            if label not in r:
                continue
            m = r[label]
            same = m.get("same_theme_threshold")
            shown = f"{m['threshold']:.3f}" + (f" / same theme {same:.3f}" if same else "")
            decision = "DedupeIndex" + (" + themes" if same else "")
            lines.append(
                f"| {r['name']} test half (online) | {decision} | {shown} ({src}) "
                f"| {_fmt(m['precision'])} | {_fmt(m['recall'])} | {_fmt(m['f1'])} "
                f"| {_fmt(m['ari'])} | {_fmt(m['v_measure'])} "
                f"| {m['pred_groups']}/{m['true_groups']} |"
            )
    extra = []
    for key in ("covidq", "policing"):
        r = results.get(key)
        if r and "skipped" not in r:
            for label in ("test_at_tuned", "test_at_default"):
                m = r[label]
                line = (
                    f"- {r['name']} {label}: kinds {m['kinds']}, placing took "
                    f"{m['ms_per_item']:.2f} ms ({m['cpu_ms_per_item']:.2f} CPU-ms) per question"
                )
                if "live_matched_to_advance" in m:
                    share = m["live_matched_to_advance"]
                    line += (
                        f", live questions joined to an advance one on the same point: {share:.1%}"
                    )
                extra.append(line)
    return "\n".join([*lines, "", *extra])


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: ``python -m bench.eval_dedupe [--json] [--fit]``."""
    parser = argparse.ArgumentParser(
        description="Evaluate DedupeIndex on QQP, COVID-Q and our set."
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument(
        "--fit", action="store_true", help="print a PairScorer fit on the QQP tuning half"
    )
    parser.add_argument("--sets", nargs="*", default=["qqp", "covidq", "policing"])
    args = parser.parse_args(argv)
    embedder = default_embedder()
    defaults = (DEFAULT_PARAPHRASE_THRESHOLD, DEFAULT_SAME_THEME_THRESHOLD)
    results: dict[str, Any] = {
        "embedder": embedder.name,
        "defaults": {
            "paraphrase_threshold": DEFAULT_PARAPHRASE_THRESHOLD,
            "same_theme_threshold": DEFAULT_SAME_THEME_THRESHOLD,
            "near_threshold": DEFAULT_NEAR_THRESHOLD,
            "scorer": "cosine",
        },
    }
    missing = f"not found under {bench_data_dir()} (set OPENFLOOR_BENCH_DATA)"
    if "qqp" in args.sets:
        if (bench_data_dir() / QQP_FILE).exists():
            results["qqp"] = eval_qqp(embedder)
            fitted = results["qqp"].pop("_fitted")
            if args.fit:
                print(f"# fitted: {fitted!r}")
        else:
            results["qqp"] = {"skipped": f"{QQP_FILE} {missing}"}
    if "covidq" in args.sets:
        if (bench_data_dir() / COVIDQ_FILE).exists():
            results["covidq"] = eval_clustered(
                "COVID-Q", load_covidq(), embedder, defaults, use_themes=False
            )
        else:
            results["covidq"] = {"skipped": f"{COVIDQ_FILE} {missing}"}
    if "policing" in args.sets:
        policing = load_policing()
        if policing is None:
            results["policing"] = {"skipped": "bench/data/policing_questions.jsonl not found"}
        else:
            kept = [q for q in policing if q.extra.get("theme") != "spam"]
            results["policing"] = eval_clustered(
                "policing", kept, embedder, defaults, use_themes=True
            )
    covid, police = results.get("covidq"), results.get("policing")
    if covid and police and "skipped" not in police and "skipped" not in covid:
        results["joint_choice"] = joint_choice(
            covid.pop("_tune_by_threshold"), police.pop("_tune_by_threshold")
        )
    for key in ("covidq", "policing"):
        if results.get(key):
            results[key].pop("_tune_by_threshold", None)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print(f"embedder: {results['embedder']}; defaults: {results['defaults']}\n")
        print(markdown(results))
        if "joint_choice" in results:
            print(f"\njoint choice on the tuning halves: {results['joint_choice']}")


if __name__ == "__main__":
    main()
