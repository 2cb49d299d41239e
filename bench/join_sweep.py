"""Held-out choice of the join threshold: one model, its held-out sets, several thresholds.

    python -m bench.join_sweep --model /tmp/new_no3.onnx bench/data/blind/group3.jsonl \
        --thresholds 0.50 0.55 0.60

Runs the code of `openfloor cluster` (``bench.eval.blind``) with a :class:`DedupeIndex` built
with each ``join_threshold`` (``size_step`` as shipped unless given) and prints one JSON line
per (set, threshold): staff clicks as a share of by hand, top-3 suggestions, theme V-measure.
Pass only sets the model was not trained on (``python -m bench.training_pairs --exclude``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from bench.eval.blind import load, run, score
from workers.pipeline.dedupe import DEFAULT_SIZE_STEP, DedupeIndex
from workers.pipeline.embedding import Embedder, OnnxSentenceEmbedder, default_embedder
from workers.pipeline.engine import Pipeline


def sweep(
    embedder: Embedder, path: Path, thresholds: Sequence[float], size_step: float
) -> list[dict[str, object]]:
    """Figures of one labelled set at each threshold (embeddings cached between runs)."""
    rows = load(path)
    out = []
    for threshold in thresholds:
        dedupe = DedupeIndex(
            embedder.dim, join_threshold=threshold, size_step=size_step, embedder=embedder
        )
        figures = score(rows, run(rows, Pipeline(embedder=embedder, dedupe=dedupe)))
        out.append({
            "set": path.name, "join_threshold": threshold, "size_step": size_step,
            "clicks_share": round(figures["clicks_share"], 4),
            "top3": round(figures["top3_suggestion_accuracy"], 4),
            "theme_v": round(figures["theme_v_measure"], 4),
            "pair_f1": round(figures["pair_f1"], 4),
        })  # fmt: skip
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Print one JSON line per set and threshold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--model", type=Path, help="an ONNX file (default: the shipped model)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.55])
    parser.add_argument("--size-step", type=float, default=DEFAULT_SIZE_STEP)
    args = parser.parse_args(argv)
    embedder: Embedder = (
        OnnxSentenceEmbedder(args.model, name=args.model.stem) if args.model else default_embedder()
    )
    for path in args.paths:
        for line in sweep(embedder, path, args.thresholds, args.size_step):
            print(json.dumps({"model": str(args.model or "shipped"), **line}), flush=True)


if __name__ == "__main__":
    main()
