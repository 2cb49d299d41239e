"""Evaluate question matching (DedupeIndex) on real data, with honest splits.

Run from the repository root::

    python -m bench.eval.dedupe            # markdown table
    python -m bench.eval.dedupe --json
    python -m bench.eval.dedupe --fit      # also print a PairScorer refit on the QQP tuning half

* QQP (10,000 pairs): split in halves with a fixed seed. Every threshold and the pair scorer's
  weights come from the tuning half; precision/recall/F1 are reported on the test half.
* COVID-Q (real questions only) and our policing set (spam left out): clusters are split in
  halves with a fixed seed. The questions of each half are streamed through a fresh
  DedupeIndex (advance questions first, then live ones, each in a seeded shuffle). The
  paraphrase threshold is chosen on the tuning half by a grid; pair P/R/F1, ARI and V-measure
  are reported on the test half, at that threshold and at the shipped default.

The test halves are never used for any choice.

This module is the command line; the evaluations are in :mod:`bench.dedupe_sets`, the metrics
in :mod:`bench.metrics` and the markdown table in :mod:`bench.dedupe_report`. The names they
define that were once defined here are re-exported.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from bench.datasets import COVIDQ_FILE, QQP_FILE, bench_data_dir, load_covidq, load_policing
from bench.dedupe_report import markdown
from bench.dedupe_sets import (
    CLUSTER_SEED,
    GRID,
    ORDER_SEED,
    QQP_SEED,
    SAME_THEME_GRID,
    OnlineRun,
    eval_clustered,
    eval_qqp,
    fit_pair_scorer,
    joint_choice,
    predicted_themes,
    qqp_features,
    run_online,
)
from bench.metrics import (
    PRF,
    adjusted_rand_index,
    best_threshold,
    clustering_pair_prf,
    prf_at,
    v_measure,
)
from workers.pipeline.embedding import default_embedder
from workers.pipeline.match_rules import (
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_PARAPHRASE_THRESHOLD,
    DEFAULT_SAME_THEME_THRESHOLD,
)

__all__ = [
    "CLUSTER_SEED",
    "GRID",
    "ORDER_SEED",
    "PRF",
    "QQP_SEED",
    "SAME_THEME_GRID",
    "OnlineRun",
    "adjusted_rand_index",
    "best_threshold",
    "clustering_pair_prf",
    "eval_clustered",
    "eval_qqp",
    "fit_pair_scorer",
    "joint_choice",
    "main",
    "markdown",
    "predicted_themes",
    "prf_at",
    "qqp_features",
    "run_online",
    "v_measure",
]


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: ``python -m bench.eval.dedupe [--json] [--fit]``."""
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
