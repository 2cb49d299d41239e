"""Score a blind set through exactly the worker pipeline, printing aggregate figures only.

A blind set is written by someone who has seen neither the code nor our data. Score it
once, record the figures in ``docs/benchmarks.md`` with the commit, and only then look at
its misses (``--misses``); from then on it is development data (``bench/data/blind/``).

    .venv/bin/python -m bench.score_blind live FILE        # {"id","text","channel","author","kind"}
    .venv/bin/python -m bench.score_blind moderation FILE  # {"id","text","channel","label",...}
    .venv/bin/python -m bench.score_blind urgent FILE      # label: urgent | not_urgent

``live`` scores the question / comment / noise decision (``kind``: precision and recall of
each class, the confusion counts, and how many non-questions would be forwarded to grouping).
``moderation`` scores the blocking flags against ``label`` (ok, abuse, spam, out_of_scope):
per-flag precision and recall (a flag counts when raised, whatever else is raised) and the
confusion of the label with the first blocking flag; beside them, ``out_of_scope_set_aside``:
how many out-of-scope items were kept off the question list by any means (any blocking flag,
or the kind stage calling them a comment or chatter that joins no group: never forwarded).
Sets written since moderation35 label greetings, thanks, emoji and talk about the stream
``chatter`` (before, out of scope): a chatter item is right when it is kept off the question
list by any means, and it is left out of the per-flag figures (``chatter_set_aside``).
``urgent`` scores the possible-emergency mark (a flag with ``urgent`` set) against ``label``
(urgent, not_urgent), and how many urgent items were at least held for a person by another
flag.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.datasets import read_jsonl
from workers.pipeline.engine import BLOCKING, Analysis, Item, Pipeline
from workers.pipeline.moderation import ABUSE, OUT_OF_SCOPE, SPAM
from workers.pipeline.moderation.head import ModerationHead

__all__ = ["analyse_file", "main", "score_kind", "score_moderation", "score_urgent"]

KINDS = ("question", "comment", "noise")
LABELS = ("ok", ABUSE, SPAM, OUT_OF_SCOPE)
CHATTER = "chatter"


def analyse_file(
    rows: Sequence[dict[str, Any]],
    batch_size: int = 256,
    moderation_head: ModerationHead | None = None,
) -> list[Analysis]:
    """Run the rows through one :class:`Pipeline`, in order and in worker-sized batches.

    ``moderation_head`` replaces the shipped learned moderation head (a held-out fit).
    """
    items = [
        Item(
            id=str(r["id"]),
            text=str(r["text"]),
            channel=str(r.get("channel") or "event"),
            author=str(r.get("author") or r["id"]),
            location=r.get("location") or None,
        )
        for r in rows
    ]
    pipeline = Pipeline(moderation_head=moderation_head)
    out: list[Analysis] = []
    for start in range(0, len(items), batch_size):
        out.extend(pipeline.analyse(items[start : start + batch_size]))
    return out


def _pr(truth: Sequence[bool], got: Sequence[bool]) -> dict[str, float]:
    tp = sum(t and g for t, g in zip(truth, got, strict=True))
    fp = sum(g and not t for t, g in zip(truth, got, strict=True))
    fn = sum(t and not g for t, g in zip(truth, got, strict=True))
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def score_kind(rows: Sequence[dict[str, Any]], analyses: Sequence[Analysis]) -> dict[str, Any]:
    """Per-kind precision/recall, confusion (truth → predicted), forwarding, per channel."""
    truth = [str(r["kind"]) for r in rows]
    got = [a.kind.value for a in analyses]
    confusion = Counter(zip(truth, got, strict=True))
    channels = sorted({str(r.get("channel") or "event") for r in rows})
    per_channel = {}
    for ch in channels:
        idx = [i for i, r in enumerate(rows) if str(r.get("channel") or "event") == ch]
        per_channel[ch] = {
            "items": len(idx),
            "accuracy": round(sum(truth[i] == got[i] for i in idx) / len(idx), 3),
            "question": _pr(
                [truth[i] == "question" for i in idx], [got[i] == "question" for i in idx]
            ),
        }
    forwarded = [a.forwarded for a in analyses]
    return {
        "items": len(rows),
        "truth": dict(Counter(truth)),
        "per_kind": {k: _pr([t == k for t in truth], [g == k for g in got]) for k in KINDS},
        "accuracy": round(sum(t == g for t, g in zip(truth, got, strict=True)) / len(rows), 3),
        "confusion_truth_to_predicted": {
            t: {g: confusion[(t, g)] for g in KINDS} for t in KINDS
        },
        "chatter_forwarded": sum(
            f and t != "question" for f, t in zip(forwarded, truth, strict=True)
        ),
        "questions_not_forwarded": sum(
            not f and t == "question" for f, t in zip(forwarded, truth, strict=True)
        ),
        "per_channel": per_channel,
    }  # fmt: skip


def _first_blocking(a: Analysis) -> str:
    for code in (ABUSE, SPAM, OUT_OF_SCOPE):
        if code in a.flag_codes:
            return code
    return "ok"


def _set_aside(truth: Sequence[str], analyses: Sequence[Analysis]) -> dict[str, float]:
    """Out-of-scope items kept off the question list by any means, and ok ones kept off too."""
    aside = [not a.forwarded for a in analyses]
    oos = [s for t, s in zip(truth, aside, strict=True) if t == OUT_OF_SCOPE]
    return {
        "recall": round(sum(oos) / len(oos), 3) if oos else 1.0,
        "ok_set_aside": sum(s for t, s in zip(truth, aside, strict=True) if t == "ok"),
    }


def score_moderation(
    rows: Sequence[dict[str, Any]], analyses: Sequence[Analysis]
) -> dict[str, Any]:
    """Per-flag precision/recall against ``label`` and the label → first-flag confusion.

    Items labelled ``chatter`` are scored apart: kept off the question list or not.
    """
    labels = [str(r["label"]) for r in rows]
    chatter = [not a.forwarded for t, a in zip(labels, analyses, strict=True) if t == CHATTER]
    pairs = [(t, a) for t, a in zip(labels, analyses, strict=True) if t != CHATTER]
    truth = [t for t, _ in pairs]
    flagged = [a for _, a in pairs]  # the items the flags are scored on
    got = [_first_blocking(a) for a in flagged]
    confusion = Counter(zip(truth, got, strict=True))
    extra: dict[str, Any] = {}
    if chatter:
        extra["chatter_set_aside"] = {
            "items": len(chatter),
            "recall": round(sum(chatter) / len(chatter), 3),
        }
    return {
        "items": len(rows),
        "truth": dict(Counter(labels)),
        "per_flag": {
            code: _pr([t == code for t in truth], [code in a.flag_codes for a in flagged])
            for code in (ABUSE, SPAM, OUT_OF_SCOPE)
        },
        "any_blocking_flag": _pr([t != "ok" for t in truth], [a.blocked for a in flagged]),
        "out_of_scope_set_aside": _set_aside(truth, flagged),
        "confusion_label_to_first_flag": {
            t: {g: confusion[(t, g)] for g in LABELS} for t in LABELS
        },
        **extra,
        "blocking_codes": sorted(BLOCKING),
    }


def _urgent(a: Analysis) -> bool:
    return any(f.urgent for f in a.flags)


def score_urgent(rows: Sequence[dict[str, Any]], analyses: Sequence[Analysis]) -> dict[str, Any]:
    """Precision/recall of the possible-emergency mark; urgent items held by another flag."""
    truth = [r["label"] == "urgent" for r in rows]
    got = [_urgent(a) for a in analyses]
    return {
        "items": len(rows),
        "truth": dict(Counter(str(r["label"]) for r in rows)),
        "urgent": _pr(truth, got),
        "urgent_missed_but_held": sum(
            t and not g and a.blocked for t, g, a in zip(truth, got, analyses, strict=True)
        ),
        "not_urgent_held": sum(not t and a.blocked for t, a in zip(truth, analyses, strict=True)),
    }


def _commit() -> str:
    try:
        run = lambda *cmd: subprocess.run(cmd, capture_output=True, text=True, check=True)  # noqa: E731
        out = run("git", "rev-parse", "--short", "HEAD")
        dirty = run("git", "status", "--porcelain", "--untracked-files=no").stdout.strip()
        return out.stdout.strip() + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _misses(rows: Sequence[dict[str, Any]], analyses: Sequence[Analysis], task: str) -> None:
    for r, a in zip(rows, analyses, strict=True):
        want = r["kind"] if task == "live" else r["label"]
        if task == "live":
            got = a.kind.value
        elif task == "urgent":
            got = "urgent" if _urgent(a) else "not_urgent"
        else:
            got = _first_blocking(a)
        if want != got:
            reasons = "; ".join(f"{f.code}: {f.reason}" for f in a.flags)
            print(
                f"[{r['id']}] {r.get('channel')} want={want} got={got} | {a.redacted} | {reasons}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("task", choices=("live", "moderation", "urgent"))
    parser.add_argument("path", type=Path)
    parser.add_argument(
        "--misses",
        action="store_true",
        help="also list the misses (only once first-contact figures are recorded)",
    )
    args = parser.parse_args(argv)
    rows = read_jsonl(args.path)
    analyses = analyse_file(rows)
    scorers = {"live": score_kind, "moderation": score_moderation, "urgent": score_urgent}
    scorer = scorers[args.task]
    result = {"set": args.path.name, "commit": _commit(), **scorer(rows, analyses)}
    json.dump(result, sys.stdout, indent=1)
    print()
    if args.misses:
        _misses(rows, analyses, args.task)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
