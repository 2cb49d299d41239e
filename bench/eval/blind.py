"""Score a labelled question set through exactly the code of `openfloor cluster` (and the worker).

    python -m bench.eval.blind /work/blind/group1.jsonl            # aggregate figures only
    python -m bench.eval.blind bench/data/blind/group1.jsonl --misses   # after first contact

Input: one JSON object per line with ``id``, ``text``, ``channel``, ``name``, ``location`` and
the labels ``ask`` (group level), ``item`` (agenda item) and ``theme`` (section slug); the labels
are never shown to the pipeline. Without ``--misses`` nothing but aggregate figures is printed,
so a blind set can be scored once before anyone reads it (docs/benchmarks.md, "First contact").
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.datasets import read_jsonl
from bench.grouping_metrics import grouping_figures, pair_recall_of, top3_accuracy
from bench.metrics import v_measure
from workers.batch import cluster
from workers.pipeline.engine import Pipeline
from workers.pipeline.normalise import normalise
from workers.pipeline.welsh import is_welsh

INPUT_FIELDS = ("id", "text", "channel", "name", "location")


def load(path: Path, ask_field: str = "ask") -> list[dict[str, Any]]:
    """Rows of a labelled set; ``ask_field`` names the group-level label."""
    rows = read_jsonl(path)
    for row in rows:
        row["_ask"] = str(row[ask_field])
    return rows


def run(rows: Sequence[dict[str, Any]], pipeline: Pipeline | None = None) -> list[dict[str, Any]]:
    """The `openfloor cluster` output records for ``rows`` (in file order)."""
    source = io.StringIO(
        "".join(
            json.dumps({k: row.get(k) for k in INPUT_FIELDS}, ensure_ascii=False) + "\n"
            for row in rows
        )
    )
    sink = io.StringIO()
    cluster(source, sink, pipeline=pipeline)
    return [json.loads(line) for line in sink.getvalue().splitlines()]


def score(rows: Sequence[dict[str, Any]], out: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate figures of one run: groups, suggestions, themes."""
    truth = [r["_ask"] for r in rows]
    pred = [o["dup_group"] for o in out]
    figures = grouping_figures(truth, pred)
    arrivals = (
        [r["id"] for r in rows],
        {r["id"]: r["_ask"] for r in rows},
        {o["id"]: o["dup_group"] for o in out if not _blocked(o)},
        {o["id"]: o["match"] != "new" for o in out},
        {o["id"]: [s["dup_group"] for s in o.get("suggestions", [])] for o in out},
    )
    top3, counted = top3_accuracy(*arrivals)
    norms = [normalise(r["text"]) for r in rows]
    welsh = {i for i, n in enumerate(norms) if is_welsh(n.match_text, n.clean)}
    welsh_top3, welsh_counted = top3_accuracy(*arrivals, only={rows[i]["id"] for i in welsh})
    welsh_recall, welsh_pairs = pair_recall_of(truth, pred, welsh)
    themes_true = [str(r.get("theme")) for r in rows]
    themes_pred = [str(o["theme"]) for o in out]
    _, _, theme_v = v_measure(themes_true, themes_pred)
    return {
        **figures,
        "top3_suggestion_accuracy": top3,
        "top3_counted": counted,
        "theme_v_measure": theme_v,
        "welsh_questions": len(welsh),
        "welsh_top3": welsh_top3,
        "welsh_top3_counted": welsh_counted,
        "welsh_pair_recall": welsh_recall,
        "welsh_pairs": welsh_pairs,
        "themes_true": len(set(themes_true)),
        "themes_pred": len(set(themes_pred)),
        "match_kinds": dict(Counter(o["match"] for o in out)),
        "flagged": sum(bool(o["flags"]) for o in out),
    }


def _blocked(o: dict[str, Any]) -> bool:
    return any(f in ("abuse", "spam", "out_of_scope") for f in o["flags"])


def commit() -> str:
    """The commit being measured (with ``+dirty`` if the worktree has changes)."""
    root = Path(__file__).resolve().parents[2]
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=root, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return head + ("+dirty" if dirty else "")


def misses(rows: Sequence[dict[str, Any]], out: Sequence[dict[str, Any]]) -> None:
    """Print every predicted group holding more than one ask, and asks split over groups."""
    by_group: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for r, o in zip(rows, out, strict=True):
        by_group.setdefault(o["dup_group"], []).append((r, o))
    for g, members in by_group.items():
        if len({r["_ask"] for r, _ in members}) > 1:
            print(f"\n== mixed group {g}")
            for r, o in members:
                print(f"  [{r['_ask']}] ({o['match']}) {r['text'][:110]}")
    by_ask: dict[str, set[str]] = {}
    for r, o in zip(rows, out, strict=True):
        by_ask.setdefault(r["_ask"], set()).add(o["dup_group"])
    for ask, groups in by_ask.items():
        if len(groups) > 1:
            print(f"\n== ask {ask} split over {len(groups)} groups")
            for r, o in zip(rows, out, strict=True):
                if r["_ask"] == ask:
                    sug = [(s["dup_group"], s["score"]) for s in o.get("suggestions", [])]
                    print(f"  {o['dup_group']} ({o['match']}) {r['text'][:90]}  sugg={sug}")


def main(argv: Sequence[str] | None = None) -> None:
    """Score one set and print aggregate figures (JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--ask-field", default="ask", help="group-level label (default: ask)")
    parser.add_argument("--misses", action="store_true", help="also print the misses")
    args = parser.parse_args(argv)
    rows = load(args.path, args.ask_field)
    started = time.perf_counter()
    out = run(rows)
    seconds = time.perf_counter() - started
    figures = {"set": args.path.name, "commit": commit(), **score(rows, out)}
    figures["seconds"] = round(seconds, 1)
    print(json.dumps(figures, indent=1))
    if args.misses:
        misses(rows, out)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
