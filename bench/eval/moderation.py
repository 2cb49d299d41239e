"""Evaluate the text-safety stages on hand-written cases: per-flag precision/recall and cost.

Run from the repository root::

    .venv/bin/python -m bench.eval.moderation            # table
    .venv/bin/python -m bench.eval.moderation --json     # machine-readable
    .venv/bin/python -m bench.eval.moderation --errors   # list mismatches (redacted text)

The cases are hand-written (none copied from any dataset). ``dev`` rows were written first and
the rules tuned on them. ``holdout1`` and ``holdout2`` rows were each written blind, scored,
and only then used to widen the rules, so their scores today are optimistic too. Scores at
first contact, for an honest view of how keyword rules generalise:

============  =========================  =========================
flag          holdout1 precision/recall  holdout2 precision/recall
============  =========================  =========================
abuse         1.00 / 0.67                1.00 / 0.25
spam          0.88 / 0.78                1.00 / 0.63
out_of_scope  1.00 / 0.44                1.00 / 0.25
personal      1.00 / 0.92                1.00 / 1.00
============  =========================  =========================

Precision held up; recall on unseen wording is the weak side (new insults, threats phrased
differently, council services not in the topic list). Flags are advisory and staff see every
question, so a miss means a question is not pre-sorted, not that it is published unchecked.

Each line of the cases file is ``{"text": ..., "expect": [codes...]}`` with optional
``category`` (for the breakdown), ``note``, ``split`` (``dev`` when absent; ``holdout`` rows were
written after the rules were tuned and are reported separately) and ``author`` (rows with an
author go through one :class:`RepeatTracker` in file order, so repeated copy-paste from
different accounts is scored too).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workers.pipeline.dedupe import mask_location
from workers.pipeline.embedding import default_embedder
from workers.pipeline.moderation import (
    ABUSE,
    OUT_OF_SCOPE,
    PERSONAL_DATA,
    SPAM,
    RepeatTracker,
    moderate,
)
from workers.pipeline.moderation.head import learned_flags
from workers.pipeline.normalise import normalise
from workers.pipeline.personal_data import find_personal_data, flag_personal_data, redact

__all__ = ["CASES_FILE", "Case", "Outcome", "load_cases", "main", "run", "scores"]

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "moderation_cases.jsonl"
CODES = (ABUSE, SPAM, OUT_OF_SCOPE, PERSONAL_DATA)


@dataclass(frozen=True)
class Case:
    """One labelled question."""

    text: str
    expect: frozenset[str]
    category: str = ""
    split: str = "dev"
    author: str | None = None
    note: str = ""


@dataclass
class Outcome:
    """What the pipeline said about one case."""

    case: Case
    got: frozenset[str]
    reasons: list[str] = field(default_factory=list)


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    """Read the JSONL cases file."""
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        unknown = set(row["expect"]) - set(CODES)
        if unknown:
            raise ValueError(f"line {n}: unknown flag code(s) {sorted(unknown)}")
        cases.append(
            Case(
                text=row["text"],
                expect=frozenset(row["expect"]),
                category=row.get("category", ""),
                split=row.get("split", "dev"),
                author=row.get("author"),
                note=row.get("note", ""),
            )
        )
    return cases


def run(cases: Sequence[Case], *, learned: bool = True) -> list[Outcome]:
    """Run normalise -> moderate -> learned head -> personal data (-> repeat tracker).

    The learned head reads the sentence vectors the pipeline computes (``learned=False``
    scores the keyword rules alone).
    """
    tracker = RepeatTracker()
    norms = [normalise(c.text) for c in cases]
    rule_flags = [moderate(n) for n in norms]
    if learned and cases:
        vectors = default_embedder().embed([mask_location(n.match_text, None) for n in norms])
        learned_flags(norms, vectors, rule_flags)
    outcomes = []
    for i, (case, n, flags) in enumerate(zip(cases, norms, rule_flags, strict=True)):
        pd = flag_personal_data(find_personal_data(n.clean))
        if pd is not None:
            flags.append(pd)
        if case.author is not None:
            repeat = tracker.observe(n.hash, case.author, at=float(i))
            if repeat is not None:
                flags.append(repeat)
        outcomes.append(Outcome(case, frozenset(f.code for f in flags), [f.reason for f in flags]))
    return outcomes


def scores(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    """Per-code and any-flag precision, recall, F1 and counts."""
    out: dict[str, dict[str, float]] = {}
    for code in (*CODES, "any"):
        tp = fp = fn = 0
        for o in outcomes:
            if code == "any":
                exp, got = bool(o.case.expect), bool(o.got)
            else:
                exp, got = code in o.case.expect, code in o.got
            tp += exp and got
            fp += got and not exp
            fn += exp and not got
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        out[code] = {"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": fp, "fn": fn}
    return out


def clean_policing_fp_rate(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """Share of ordinary policing questions (expect nothing) that got any flag."""
    clean = [o for o in outcomes if not o.case.expect]
    flagged = sum(bool(o.got) for o in clean)
    return {"cases": len(clean), "flagged": flagged, "rate": flagged / len(clean) if clean else 0}


def timing(cases: Sequence[Case], repeats: int = 5) -> dict[str, float]:
    """Mean microseconds per question for each stage (best of ``repeats`` passes)."""
    texts = [c.text for c in cases]
    normed = [normalise(t) for t in texts]
    stages = {
        "normalise": lambda: [normalise(t) for t in texts],
        "moderate": lambda: [moderate(n) for n in normed],
        "personal_data": lambda: [find_personal_data(n.clean) for n in normed],
        "total": lambda: [
            (moderate(m := normalise(t)), flag_personal_data(find_personal_data(m.clean)))
            for t in texts
        ],
    }
    result = {}
    for name, fn in stages.items():
        best = min(_timed(fn) for _ in range(repeats))
        result[f"{name}_us"] = best / len(texts) * 1e6
    per_q = []
    for t in texts:
        start = time.perf_counter()
        m = normalise(t)
        moderate(m)
        flag_personal_data(find_personal_data(m.clean))
        per_q.append((time.perf_counter() - start) * 1e6)
    per_q.sort()
    result["total_p50_us"] = statistics.median(per_q)
    result["total_p99_us"] = per_q[min(len(per_q) - 1, int(len(per_q) * 0.99))]
    result["total_max_us"] = per_q[-1]
    return result


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def better_profanity_cost(cases: Sequence[Case], limit: int = 50) -> float:
    """Mean microseconds of ``better_profanity.profanity.contains_profanity`` (for comparison)."""
    from better_profanity import profanity

    profanity.load_censor_words()
    texts = [c.text for c in cases[:limit]]
    start = time.perf_counter()
    for t in texts:
        profanity.contains_profanity(t)
    return (time.perf_counter() - start) / len(texts) * 1e6


def report(outcomes: Sequence[Outcome], cases: Sequence[Case], args: argparse.Namespace) -> dict:
    """Everything printed, as one dict."""
    splits = sorted({o.case.split for o in outcomes})
    result: dict = {
        "cases": len(outcomes),
        "by_category": dict(Counter(o.case.category for o in outcomes)),
        "scores": scores(outcomes),
        "clean_questions_flagged": clean_policing_fp_rate(outcomes),
    }
    if len(splits) > 1:
        result["by_split"] = {
            s: {
                "cases": sum(o.case.split == s for o in outcomes),
                "scores": scores([o for o in outcomes if o.case.split == s]),
                "clean_questions_flagged": clean_policing_fp_rate(
                    [o for o in outcomes if o.case.split == s]
                ),
            }
            for s in splits
        }
    if not args.no_timing:
        result["timing"] = timing(cases)
    if args.compare_better_profanity:
        result["better_profanity_contains_profanity_us"] = better_profanity_cost(cases)
    result["errors"] = [
        {
            "text": redact(o.case.text),
            "expect": sorted(o.case.expect),
            "got": sorted(o.got),
            "reasons": o.reasons,
            "category": o.case.category,
            "split": o.case.split,
        }
        for o in outcomes
        if o.got != o.case.expect
    ]
    return result


def _print_table(result: dict, show_errors: bool) -> None:
    print(f"{result['cases']} cases: {result['by_category']}")

    def table(sc: dict) -> None:
        print(f"  {'flag':<14}{'precision':>10}{'recall':>8}{'f1':>7}{'tp':>5}{'fp':>5}{'fn':>5}")
        for code, s in sc.items():
            print(
                f"  {code:<14}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>7.3f}"
                f"{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}"
            )

    print("all cases:")
    table(result["scores"])
    c = result["clean_questions_flagged"]
    print(f"  clean questions flagged: {c['flagged']}/{c['cases']} ({c['rate']:.1%})")
    for split, sub in result.get("by_split", {}).items():
        print(f"split {split!r} ({sub['cases']} cases):")
        table(sub["scores"])
        c = sub["clean_questions_flagged"]
        print(f"  clean questions flagged: {c['flagged']}/{c['cases']} ({c['rate']:.1%})")
    if "timing" in result:
        t = result["timing"]
        print(
            "cost per question (µs): "
            + ", ".join(f"{k.removesuffix('_us')} {v:.1f}" for k, v in t.items())
        )
    if "better_profanity_contains_profanity_us" in result:
        print(
            "better_profanity contains_profanity per question (µs): "
            f"{result['better_profanity_contains_profanity_us']:.0f}"
        )
    print(f"mismatches: {len(result['errors'])}")
    if show_errors:
        for e in result["errors"]:
            print(f"  [{e['split']}/{e['category']}] expect={e['expect']} got={e['got']}")
            print(f"    {e['text']}")
            for r in e["reasons"]:
                print(f"    - {r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=Path, default=CASES_FILE, help="JSONL cases file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--errors", action="store_true", help="list mismatches (redacted)")
    parser.add_argument("--no-timing", action="store_true", help="skip the cost measurement")
    parser.add_argument(
        "--rules-only", action="store_true", help="keyword rules without the learned head"
    )
    parser.add_argument(
        "--compare-better-profanity",
        action="store_true",
        help="also time better_profanity.contains_profanity (slow: ~40 ms a question)",
    )
    parser.add_argument(
        "--min-recall",
        type=float,
        default=None,
        help="exit 1 if abuse or spam recall is below this (e.g. 0.95)",
    )
    args = parser.parse_args(argv)

    cases = load_cases(args.cases)
    outcomes = run(cases, learned=not args.rules_only)
    result = report(outcomes, cases, args)
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_table(result, args.errors)
    if args.min_recall is not None:
        low = [c for c in (ABUSE, SPAM) if result["scores"][c]["recall"] < args.min_recall]
        if low:
            print(f"recall below {args.min_recall} for: {', '.join(low)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
