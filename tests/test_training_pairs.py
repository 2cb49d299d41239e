"""The domain model's training pairs: built from the committed labelled sets at the ask level."""

from __future__ import annotations

import json
import random
from pathlib import Path

from bench.datasets import POLICING_FILE
from bench.training_pairs import (
    OUTPUT,
    WRITTEN_DIR,
    _text,
    build,
    development_sets,
    pairs_from_set,
)


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_every_policing_ask_lies_inside_one_agenda_item() -> None:
    rows = _rows(POLICING_FILE)
    item_of: dict[str, str] = {}
    for row in rows:
        assert str(row["ask"]).startswith(str(row["dup_group"]))
        assert item_of.setdefault(str(row["ask"]), str(row["dup_group"])) == row["dup_group"]
    assert len(set(item_of.values())) < len(item_of)  # some items hold several asks


def test_positives_share_an_ask_and_negatives_are_another_ask_of_the_item_or_theme() -> None:
    rows = [r for r in _rows(POLICING_FILE) if "spam" not in r["flags"]]  # type: ignore[operator]
    labels: dict[str, set[tuple[str, str, str]]] = {}
    for row in rows:
        labels.setdefault(_text(row), set()).add(
            (str(row["ask"]), str(row["dup_group"]), str(row["theme"]))
        )
    triples = pairs_from_set(rows, "dup_group", "policing_questions", random.Random(1))
    same_item = 0
    for t in triples:
        anchor, positive = labels[str(t["anchor"])], labels[str(t["positive"])]
        assert {a for a, _, _ in anchor} & {a for a, _, _ in positive}
        negative = labels[str(t["negative"])]
        for ask, item, theme in anchor:
            assert all(n_ask != ask for n_ask, _, _ in negative)
            assert any(n_item == item or n_theme == theme for _, n_item, n_theme in negative)
            same_item += any(n_item == item for _, n_item, _ in negative)
    assert same_item > 0  # split items give the hardest negatives


def test_excluding_a_development_set_leaves_none_of_its_pairs() -> None:
    names = [p.name for p in development_sets()]
    assert "live1.jsonl" not in names and "group3.jsonl" in names
    without = build(exclude=["group3.jsonl"])
    written = sorted(p.name for p in WRITTEN_DIR.glob("*.jsonl"))
    assert written  # paraphrase sets written for training only
    assert {str(t["source"]) for t in without} == {
        "policing_questions",
        *(f"blind/{n}" for n in names if n != "group3.jsonl"),
        *(f"written/{n}" for n in written),
    }


def test_the_committed_pairs_file_is_what_the_builder_writes() -> None:
    committed = _rows(OUTPUT)
    assert committed == build()
