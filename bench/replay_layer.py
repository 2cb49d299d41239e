"""Learning across meetings from staff decisions, measured by replay.

    python -m bench.replay_layer --past bench/data/blind/group1.jsonl \\
        --past bench/data/blind/group2.jsonl bench/data/blind/group3.jsonl

Each *past* set runs through the worker's pipeline as a meeting (arrival order, batches of
256) and staff correct all of it perfectly (bench/replay.py's ``correct``); their decisions
become labelled pairs (workers/learning/pairs.py) and train the layer
(workers/learning/layer.py), as the nightly job does from the database. Then:

* **across**: the new set runs as a meeting without and with the layer; the clicks to reach
  the right grouping on all of it are compared.
* **halves** (the issue's replay): staff correct the new set's first half; the layer is
  retrained on the past meetings plus those decisions; the worker rebuilds the meeting with it
  (the first half placed again, staff's grouping of it restored); the clicks left on the second
  half are compared with the same replay without a layer (bench/replay.py's ``learn`` mode).

Only aggregate figures are printed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.eval.blind import INPUT_FIELDS, load
from bench.grouping_metrics import staff_clicks
from bench.replay import correct
from workers.batch import read_items
from workers.learning.layer import LearnedLayer, TrainOptions, pair_loss, train_layer
from workers.learning.pairs import MeetingDecisions, derive_pairs
from workers.pipeline.engine import Item, Pipeline

BATCH = 256


def _items(rows: Sequence[dict[str, Any]]) -> list[Item]:
    return list(read_items(json.dumps({k: r.get(k) for k in INPUT_FIELDS}) for r in rows))


def _run(pipeline: Pipeline, items: Sequence[Item], vectors: dict[str, Any]) -> None:
    for start in range(0, len(items), BATCH):
        for a in pipeline.analyse(items[start : start + BATCH]):
            vectors[a.id] = a.vector


def staff_session(
    rows: Sequence[dict[str, Any]], layer: LearnedLayer | None = None
) -> tuple[MeetingDecisions, int]:
    """A past meeting: the set runs, staff correct all of it; their decisions and clicks."""
    pipeline = Pipeline(layer=layer)
    vectors: dict[str, Any] = {}
    _run(pipeline, _items(rows), vectors)
    log = MeetingDecisions()
    clicks = correct(pipeline, rows, log)
    index = pipeline.dedupe
    log.vectors = {i: v for i, v in vectors.items() if i in index}
    log.group = {i: index.group_of(i) for i in log.vectors}
    return log, clicks


def clicks_on(pipeline: Pipeline, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Clicks from the pipeline's grouping of ``rows`` to the right one."""
    placed = [r for r in rows if r["id"] in pipeline.dedupe]
    c = staff_clicks(
        [r["_ask"] for r in placed], [pipeline.dedupe.group_of(r["id"]) for r in placed]
    )
    return {"questions": len(placed), "clicks": c.total, "by_hand": c.by_hand,
            "share": round(c.share, 3)}  # fmt: skip


def across(rows: Sequence[dict[str, Any]], layer: LearnedLayer | None) -> dict[str, Any]:
    """The new set as a meeting of its own, with or without the layer."""
    pipeline = Pipeline(layer=layer)
    _run(pipeline, _items(rows), {})
    return {"layer": layer is not None, **clicks_on(pipeline, rows)}


def halves(
    rows: Sequence[dict[str, Any]],
    past: Sequence[MeetingDecisions],
    options: TrainOptions,
    retrain: bool,
) -> dict[str, Any]:
    """First half corrected, second half counted; the layer retrained between (``retrain``)."""
    half = len(rows) // 2
    items = _items(rows)
    first = Pipeline()
    vectors: dict[str, Any] = {}
    _run(first, items[:half], vectors)
    log = MeetingDecisions()
    correct(first, rows[:half], log)
    pipeline = first
    trained: dict[str, Any] = {}
    if retrain:
        log.vectors = {i: v for i, v in vectors.items() if i in first.dedupe}
        log.group = {i: first.dedupe.group_of(i) for i in log.vectors}
        pairs = derive_pairs([*past, log])
        layer, report = train_layer(pairs, options)
        trained = report.as_dict()
        pipeline = Pipeline(layer=layer)  # the worker rebuilds the meeting from the database
        _run(pipeline, items[:half], {})
        correct(pipeline, rows[:half])  # staff's grouping of the first half, as stored
    _run(pipeline, items[half:], {})
    return {"retrained": retrain, **clicks_on(pipeline, rows[half:]), **trained}


def main() -> None:
    """Print both replays."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--past", type=Path, action="append", default=[])
    parser.add_argument("--ask-field", default="ask")
    parser.add_argument("--rank", type=int, default=TrainOptions.rank)
    parser.add_argument("--steps", type=int, default=TrainOptions.steps)
    parser.add_argument("--l2", type=float, default=TrainOptions.l2)
    args = parser.parse_args()
    options = TrainOptions(rank=args.rank, steps=args.steps, l2=args.l2)
    past = []
    for path in args.past:
        meeting, clicks = staff_session(load(path, args.ask_field))
        past.append(meeting)
        print(json.dumps({"past": path.name, "staff_clicks": clicks, "decided": len(meeting.left)}))
    pairs = derive_pairs(past)
    layer, report = train_layer(pairs, options)
    print(json.dumps({"trained": report.as_dict(), "sha256": layer.sha256[:12]}))
    rows = load(args.path, args.ask_field)
    new, _ = staff_session(rows)
    new_pairs = derive_pairs([new])
    losses = {
        "identity": round(pair_loss(LearnedLayer.identity(), new_pairs, options), 5),
        "layer": round(pair_loss(layer, new_pairs, options), 5),
        "pairs": len(new_pairs),
    }
    print(json.dumps({"new_set_pair_loss": losses}))
    for with_layer in (None, layer):
        print(json.dumps({"mode": "across", **across(rows, with_layer)}))
    for retrain in (False, True):
        print(json.dumps({"mode": "halves", **halves(rows, past, options, retrain)}))


if __name__ == "__main__":
    main()
