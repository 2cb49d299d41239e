"""Learning from staff within a meeting, measured by replay.

    python -m bench.replay bench/data/blind/group1.jsonl

The set runs through the worker's pipeline in two halves (arrival order, batches of 256). Staff
correct the first half perfectly (each ask in one group: a split for its first question, then
moves) either *before* the second half arrives (the worker learns from it: a moved question
counts towards its new group's centroid) or *after* it (no learning). The clicks left on the
second half's questions are compared.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.eval.blind import INPUT_FIELDS, load
from bench.grouping_metrics import staff_clicks
from workers.batch import read_items
from workers.learning.pairs import MeetingDecisions
from workers.pipeline.engine import Pipeline


def correct(
    pipeline: Pipeline, rows: Sequence[dict[str, Any]], log: MeetingDecisions | None = None
) -> int:
    """Staff put every placed question of ``rows`` in one group per ask; returns the clicks.

    ``log`` records each decision (the question and the group it was taken out of).
    """
    index = pipeline.dedupe
    target: dict[str, str] = {}
    clicks = 0
    for row in rows:
        qid = row["id"]
        if qid not in index:
            continue
        ask = row["_ask"]
        if ask not in target:
            before = index.group_of(qid)
            others = [m for m in index.members(before) if m != qid]
            if others:
                target[ask] = index.split(qid)
                clicks += 1
                if log is not None:
                    log.decided(qid, before)
            else:
                target[ask] = index.group_of(qid)
        elif index.group_of(qid) != target[ask]:
            if log is not None:
                log.decided(qid, index.group_of(qid))
            index.pin(qid, target[ask])
            clicks += 1
    return clicks


def replay(rows: Sequence[dict[str, Any]], learn: bool, batch: int = 256) -> dict[str, Any]:
    """Clicks on the second half with the first half corrected before (``learn``) or after."""
    half = len(rows) // 2
    items = list(read_items(json.dumps({k: r.get(k) for k in INPUT_FIELDS}) for r in rows))
    pipeline = Pipeline()
    for start in range(0, half, batch):
        pipeline.analyse(items[start : min(start + batch, half)])
    if learn:
        correct(pipeline, rows[:half])
    for start in range(half, len(rows), batch):
        pipeline.analyse(items[start : start + batch])
    if not learn:
        correct(pipeline, rows[:half])
    index = pipeline.dedupe
    second = [r for r in rows[half:] if r["id"] in index]
    truth = [r["_ask"] for r in second]
    pred = [index.group_of(r["id"]) for r in second]
    clicks = staff_clicks(truth, pred)
    return {"learn": learn, "second_half": len(second), "clicks": clicks.total,
            "by_hand": clicks.by_hand, "share": round(clicks.share, 3)}  # fmt: skip


def main() -> None:
    """Print both replays."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--ask-field", default="ask")
    args = parser.parse_args()
    rows = load(args.path, args.ask_field)
    for learn in (False, True):
        print(json.dumps(replay(rows, learn)))


if __name__ == "__main__":
    main()
