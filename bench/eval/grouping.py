"""Grouping on every labelled set, as staff feel it: clicks, suggestions, themes.

    python -m bench.eval.grouping            # markdown table (make bench)
    python -m bench.eval.grouping --json

Each set runs through exactly the code of `openfloor cluster` (:mod:`bench.eval.blind`). Sets:
our policing set at both levels (`ask`, and the agenda item `dup_group`) and every blind grouping
set that has become development data (`bench/data/blind/group*.jsonl`, labelled at the ask level;
the shipped model learned from those marked "trained on", the others it has never seen).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.datasets import POLICING_FILE
from bench.eval.blind import load, run, score
from bench.training_pairs import TRAINED_SETS, blind_sets


def sets() -> list[tuple[str, Path, str]]:
    """(name, path, group-level label field) of every development set."""
    out = [
        ("policing_questions (asks)", POLICING_FILE, "ask"),
        ("policing_questions (agenda items)", POLICING_FILE, "dup_group"),
    ]
    for path in blind_sets("group"):
        seen = ", trained on" if path.name in TRAINED_SETS else ""
        out.append((f"blind/{path.name} (asks{seen})", path, "ask"))
    return out


def evaluate() -> list[dict[str, Any]]:
    """Figures for every set."""
    results = []
    for name, path, field in sets():
        rows = load(path, field)
        results.append({"set": name, **score(rows, run(rows))})
    return results


def markdown(results: list[dict[str, Any]]) -> str:
    """One table row per set."""
    lines = [
        "| set | questions / asks | groups | clicks (moves + merges) | clicks / by hand "
        "| top 3 | pair P / R / F1 | V | ARI | theme V (pred / true) | largest groups |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['set']} | {r['questions']} / {r['asks']} | {r['groups']} "
            f"| {r['moves']} + {r['merges']} = {r['clicks']} | {r['clicks_share']:.2f} "
            f"| {r['top3_suggestion_accuracy']:.3f} ({r['top3_counted']}) "
            f"| {r['pair_precision']:.2f} / {r['pair_recall']:.2f} / {r['pair_f1']:.2f} "
            f"| {r['v_measure']:.3f} | {r['ari']:.3f} "
            f"| {r['theme_v_measure']:.3f} ({r['themes_pred']} / {r['themes_true']}) "
            f"| {', '.join(str(n) for n in r['largest_groups'])} |"
        )
    lines.append(
        "\nClicks: one move per question outside its predicted group's majority ask, one merge "
        "per extra predicted group whose majority is the same ask, as a share of grouping by "
        "hand (questions − asks). Top 3: for a question whose ask already had an earlier "
        "question, a group holding one is its own (if it joined) or among its suggestions."
    )
    return "\n".join(lines)


def main() -> None:
    """Print the table (or JSON)."""
    parser = argparse.ArgumentParser(description="grouping on every labelled set")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = evaluate()
    print(json.dumps(results, indent=1) if args.json else markdown(results))


if __name__ == "__main__":
    main()
