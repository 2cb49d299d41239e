"""Evaluate theme assignment on our own labelled question set.

The set (``bench/data/policing_questions.jsonl``) is split in two halves by duplicate group
(never splitting a group), stratified by theme: half ``A`` is for choosing thresholds
(``--tune``), half ``B`` is held out and is what we report. Spam is left out (triage drops it
before theming). Each half is run as one stream through a fresh classifier built from the seed
taxonomy, in file order, exactly as live questions would arrive.

Metrics
    homogeneity / completeness / V-measure of the predicted themes (taxonomy slugs and
    discovered ``new:`` themes alike) against the gold themes; accuracy on questions whose
    gold theme is in the taxonomy; how discovery behaves on gold themes the taxonomy lacks
    (recall of "sent to discovery", purity of discovered themes); time per question spent in
    ``assign`` (embedding excluded).

Usage::

    .venv/bin/python bench/eval/themes.py            # markdown table, held-out half B
    .venv/bin/python bench/eval/themes.py --json     # the same as JSON
    .venv/bin/python bench/eval/themes.py --tune     # grid search on half A, then report B
    .venv/bin/python bench/eval/themes.py --errors   # also list misassigned questions
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow running as a plain script
    sys.path.insert(0, str(ROOT))

from workers.pipeline.embedding import default_embedder  # noqa: E402
from workers.pipeline.themes import Theme, ThemeClassifier, load_seed_taxonomy  # noqa: E402

DATA = ROOT / "bench" / "data" / "policing_questions.jsonl"

#: Parameter grid for ``--tune`` (searched on half A only).
GRID: dict[str, Sequence[float]] = {
    "threshold": (0.44, 0.48, 0.52, 0.56, 0.60),
    "join_threshold": (0.40, 0.45, 0.50, 0.55),
    "keyword_bonus": (0.24, 0.30, 0.36, 0.42),
    "proto_weight": (0.5, 0.7),
    "floor": (0.36, 0.40, 0.44, 1.0),  # 1.0: no fallback for unsure questions
}


class CachedEmbedder:
    """Wraps an embedder and remembers vectors by text (the grid search re-embeds the
    taxonomy for every classifier it builds)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.name = getattr(inner, "name", "embedder")
        self._memo: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts not seen before; return all rows in input order."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            for text, vec in zip(todo, self.inner.embed(todo), strict=True):
                self._memo[text] = vec
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            out[i] = self._memo[text]
        return out


@dataclass(frozen=True)
class Question:
    """One labelled question from the set."""

    id: str
    text: str
    group: str
    theme: str
    flags: tuple[str, ...]


def load_questions(path: Path = DATA) -> list[Question]:
    """Read the JSONL set."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            out.append(Question(r["id"], r["text"], r["dup_group"], r["theme"], tuple(r["flags"])))
    return out


def split_halves(questions: Sequence[Question]) -> dict[str, list[Question]]:
    """Split by duplicate group, alternating groups within each theme (A, B, A, B...).

    The starting half alternates from theme to theme so that the halves stay balanced.
    """
    groups_by_theme: dict[str, list[str]] = defaultdict(list)
    for q in questions:
        if q.group not in groups_by_theme[q.theme]:
            groups_by_theme[q.theme].append(q.group)
    half_of: dict[str, str] = {}
    for t, theme in enumerate(sorted(groups_by_theme)):
        for g, group in enumerate(sorted(groups_by_theme[theme])):
            half_of[group] = "AB"[(g + t) % 2]
    halves: dict[str, list[Question]] = {"A": [], "B": []}
    for q in questions:
        halves[half_of[q.group]].append(q)
    return halves


# --- clustering metrics ------------------------------------------------------------------


def _entropy(counts: Sequence[int]) -> float:
    total = sum(counts)
    return -sum(c / total * math.log(c / total) for c in counts if c) if total else 0.0


def v_measure(gold: Sequence[str], pred: Sequence[str]) -> tuple[float, float, float]:
    """Homogeneity, completeness and V-measure (Rosenberg & Hirschberg 2007)."""
    n = len(gold)
    joint = Counter(zip(gold, pred, strict=True))
    g_counts, p_counts = Counter(gold), Counter(pred)
    h_g, h_p = _entropy(list(g_counts.values())), _entropy(list(p_counts.values()))
    h_g_given_p = -sum(c / n * math.log(c / p_counts[p]) for (_, p), c in joint.items())
    h_p_given_g = -sum(c / n * math.log(c / g_counts[g]) for (g, _), c in joint.items())
    hom = 1.0 if h_g == 0 else 1.0 - h_g_given_p / h_g
    com = 1.0 if h_p == 0 else 1.0 - h_p_given_g / h_p
    v = 0.0 if hom + com == 0 else 2 * hom * com / (hom + com)
    return hom, com, v


# --- one run -----------------------------------------------------------------------------


def run_half(
    questions: Sequence[Question],
    vectors: np.ndarray,
    taxonomy: Sequence[Theme],
    embedder: Any,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Stream one half through a fresh classifier and score it."""
    clf = ThemeClassifier(taxonomy, embedder, **params)
    t0 = time.perf_counter()
    got = clf.assign(vectors, [q.text for q in questions], [q.id for q in questions])
    elapsed = time.perf_counter() - t0
    known = {t.slug for t in taxonomy}
    gold = [q.theme for q in questions]
    pred = [a.slug for a in got]
    hom, com, v = v_measure(gold, pred)
    seen = [(q, a) for q, a in zip(questions, got, strict=True) if q.theme in known]
    novel = [(q, a) for q, a in zip(questions, got, strict=True) if q.theme not in known]
    disc_members: dict[str, list[str]] = defaultdict(list)
    for q, a in zip(questions, got, strict=True):
        if a.discovered:
            disc_members[a.slug].append(q.theme)
    pure = sum(Counter(m).most_common(1)[0][1] for m in disc_members.values())
    n_disc = sum(len(m) for m in disc_members.values())
    multi = {s: m for s, m in disc_members.items() if len(m) > 1}
    return {
        "questions": len(questions),
        "gold_themes": len(set(gold)),
        "homogeneity": hom,
        "completeness": com,
        "v_measure": v,
        "accuracy_taxonomy_themes": sum(a.slug == q.theme for q, a in seen) / max(len(seen), 1),
        "taxonomy_questions_sent_to_discovery": sum(a.discovered for _, a in seen),
        "novel_questions": len(novel),
        "novel_sent_to_discovery": sum(a.discovered for _, a in novel),
        "discovered_themes": len(disc_members),
        "discovered_themes_with_2plus": len(multi),
        "discovered_purity": pure / n_disc if n_disc else 1.0,
        "discovered_labels": {
            s: {"label": clf.label(s), "size": len(m), "gold": dict(Counter(m))}
            for s, m in sorted(multi.items(), key=lambda kv: -len(kv[1]))
        },
        "ms_per_question": 1000 * elapsed / max(len(questions), 1),
        "_pairs": list(zip(questions, got, strict=True)),
    }


def run_with_feedback(
    questions: Sequence[Question],
    vectors: np.ndarray,
    taxonomy: Sequence[Theme],
    embedder: Any,
    params: dict[str, Any],
    *,
    batch: int = 20,
    feedback: bool = True,
) -> dict[str, float]:
    """Stream in batches; after each batch staff move every wrongly themed question whose
    gold theme is in the taxonomy (``learn``). Scores are of the assignments as first given,
    so they show how corrections on earlier batches help later ones."""
    clf = ThemeClassifier(taxonomy, embedder, **params)
    known = {t.slug for t in taxonomy}
    pred: list[str] = []
    fixes = 0
    for lo in range(0, len(questions), batch):
        part = questions[lo : lo + batch]
        got = clf.assign(vectors[lo : lo + batch], [q.text for q in part], [q.id for q in part])
        pred.extend(a.slug for a in got)
        if feedback:
            for k, (q, a) in enumerate(zip(part, got, strict=True)):
                if q.theme in known and a.slug != q.theme:
                    clf.learn(q.theme, vectors[lo + k], text=q.text, question_id=q.id)
                    fixes += 1
    gold = [q.theme for q in questions]
    later = range(len(questions) // 2, len(questions))
    seen_later = [i for i in later if gold[i] in known]
    return {
        "v_measure": v_measure(gold, pred)[2],
        "accuracy_second_half": sum(pred[i] == gold[i] for i in seen_later) / len(seen_later),
        "corrections": fixes,
    }


def tune(
    questions: Sequence[Question],
    vectors: np.ndarray,
    taxonomy: Sequence[Theme],
    embedder: Any,
) -> tuple[dict[str, Any], float]:
    """Grid search on one half; the best V-measure (ties: higher accuracy) wins."""
    best: tuple[float, float, dict[str, Any]] | None = None
    keys = list(GRID)
    for combo in itertools.product(*(GRID[k] for k in keys)):
        params = dict(zip(keys, combo, strict=True))
        params["knn_weight"] = round(1.0 - params["proto_weight"], 3)
        r = run_half(questions, vectors, taxonomy, embedder, params)
        key = (round(r["v_measure"], 4), r["accuracy_taxonomy_themes"])
        if best is None or key > best[:2]:
            best = (*key, params)
    assert best is not None
    return best[2], best[0]


def _markdown(results: dict[str, dict[str, Any]], params: dict[str, Any]) -> str:
    rows = [
        ("questions (spam excluded)", "questions", "{:d}"),
        ("gold themes", "gold_themes", "{:d}"),
        ("V-measure", "v_measure", "{:.3f}"),
        ("homogeneity", "homogeneity", "{:.3f}"),
        ("completeness", "completeness", "{:.3f}"),
        ("accuracy (gold theme in taxonomy)", "accuracy_taxonomy_themes", "{:.3f}"),
        ("taxonomy questions sent to discovery", "taxonomy_questions_sent_to_discovery", "{:d}"),
        ("novel-theme questions", "novel_questions", "{:d}"),
        ("novel-theme questions sent to discovery", "novel_sent_to_discovery", "{:d}"),
        ("discovered themes (all / 2+ members)", None, ""),
        ("discovered-theme purity", "discovered_purity", "{:.3f}"),
        ("assign ms / question (no embedding)", "ms_per_question", "{:.3f}"),
        ("batches of 20, no feedback: V-measure", "stream_v_measure", "{:.3f}"),
        (
            "batches of 20, no feedback: accuracy, later half",
            "stream_accuracy_second_half",
            "{:.3f}",
        ),
        ("batches of 20, staff fix errors: V-measure", "feedback_v_measure", "{:.3f}"),
        (
            "batches of 20, staff fix errors: accuracy, later half",
            "feedback_accuracy_second_half",
            "{:.3f}",
        ),
        ("staff corrections made", "feedback_corrections", "{:d}"),
    ]
    halves = list(results)
    lines = ["| metric | " + " | ".join(f"half {h}" for h in halves) + " |"]
    lines.append("|---|" + "---|" * len(halves))
    for title, key, fmt in rows:
        if key is None:
            cells = [
                f"{results[h]['discovered_themes']} / {results[h]['discovered_themes_with_2plus']}"
                for h in halves
            ]
        else:
            cells = [fmt.format(results[h][key]) for h in halves]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Parameters: " + ", ".join(f"{k}={v}" for k, v in params.items()))
    for h in halves:
        labels = results[h]["discovered_labels"]
        if labels:
            lines.append("")
            lines.append(f"Discovered themes with 2+ members, half {h}:")
            lines.append("")
            for slug, info in labels.items():
                gold = ", ".join(f"{g} {c}" for g, c in info["gold"].items())
                lines.append(f'- `{slug}` "{info["label"]}" ({info["size"]}: {gold})')
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    ap.add_argument("--tune", action="store_true", help="choose parameters on half A first")
    ap.add_argument("--errors", action="store_true", help="list wrong assignments (half B)")
    ap.add_argument("--half", choices=["A", "B", "both"], default="both")
    args = ap.parse_args(argv)

    questions = [q for q in load_questions() if "spam" not in q.flags]
    halves = split_halves(questions)
    embedder = CachedEmbedder(default_embedder())
    taxonomy = load_seed_taxonomy()
    vectors = {h: embedder.embed([q.text for q in qs]) for h, qs in halves.items()}

    defaults = ThemeClassifier.__init__.__kwdefaults__ or {}
    params: dict[str, Any] = dict(defaults)
    if args.tune:
        params, v_a = tune(halves["A"], vectors["A"], taxonomy, embedder)
        print(f"tuned on half A (V={v_a:.3f}): {params}", file=sys.stderr)
    wanted = ["A", "B"] if args.half == "both" else [args.half]
    results = {h: run_half(halves[h], vectors[h], taxonomy, embedder, params) for h in wanted}
    for h in wanted:
        for name, flag in (("stream", False), ("feedback", True)):
            r = run_with_feedback(halves[h], vectors[h], taxonomy, embedder, params, feedback=flag)
            results[h].update({f"{name}_{k}": v for k, v in r.items()})
    if args.json:
        clean = {
            h: {k: v for k, v in r.items() if not k.startswith("_")} for h, r in results.items()
        }
        print(json.dumps({"params": params, "results": clean}, indent=2))
    else:
        print(_markdown(results, params))
    if args.errors:
        for h in wanted:
            print(f"\nWrong or discovered, half {h}:")
            for q, a in results[h]["_pairs"]:
                if a.slug != q.theme:
                    print(f"  {q.theme:>13} -> {a.slug:<13} {a.score:.2f} {q.group} {q.text[:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
