"""Training pairs for the domain sentence model, from committed labelled sets.

    python -m bench.training_pairs                          # writes bench/data/training/pairs.jsonl
    python -m bench.training_pairs --exclude group3.jsonl   # leave a development set out

Each line is ``{"anchor", "positive", "negative", "source"}``: two questions of the same **ask**
(one answer serves both) and a hard negative of another ask from the same agenda item when the
item has one (half the time), otherwise from the same theme. The policing set's ask is ``ask``
and its item ``dup_group``; the development sets (``bench/data/blind/group*.jsonl``) carry
``ask``, ``item`` and ``theme``. Texts are what the worker embeds: normalised match text with the
sender's place masked out. ``scripts/train_embedder.py`` trains on this file.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterable
from pathlib import Path

from bench.datasets import POLICING_FILE, REPO_ROOT, read_jsonl
from workers.pipeline.match_rules import mask_location
from workers.pipeline.normalise import normalise

BLIND_DIR = REPO_ROOT / "bench" / "data" / "blind"
#: Paraphrase sets written for training only (never scored): many members per ask, in varied
#: wording, with sibling asks of the same item as hard negatives (``written/README.md``).
WRITTEN_DIR = REPO_ROOT / "bench" / "data" / "training" / "written"
OUTPUT = REPO_ROOT / "bench" / "data" / "training" / "pairs.jsonl"
SEED = 8
MAX_PER_ASK = 12
#: Share of negatives drawn from the anchor's own agenda item when it holds another ask.
SAME_ITEM_SHARE = 0.5


def _text(row: dict[str, object]) -> str:
    return mask_location(normalise(str(row["text"])).match_text, row.get("location") or None)  # type: ignore[arg-type]


def pairs_from_set(
    rows: Iterable[dict[str, object]], item_field: str, source: str, rng: random.Random
) -> list[dict[str, str | None]]:
    """(anchor, positive, hard negative) triples inside each ask of one labelled set."""
    asks: dict[str, list[str]] = {}
    item_of: dict[str, str] = {}
    theme_of: dict[str, str] = {}
    for row in rows:
        if "spam" in (row.get("flags") or ()):  # type: ignore[operator]
            continue
        key = str(row["ask"])
        asks.setdefault(key, []).append(_text(row))
        item_of[key] = str(row[item_field])
        theme_of[key] = str(row.get("theme"))
    by_item: dict[str, list[str]] = {}
    by_theme: dict[str, list[str]] = {}
    for key in asks:
        by_item.setdefault(item_of[key], []).append(key)
        by_theme.setdefault(theme_of[key], []).append(key)
    out: list[dict[str, str | None]] = []
    for key, texts in sorted(asks.items()):
        texts = [t for t in dict.fromkeys(texts) if t]
        combos = [(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :]]
        rng.shuffle(combos)
        same_item = [k for k in by_item[item_of[key]] if k != key]
        same_theme = [k for k in by_theme[theme_of[key]] if k != key]
        for a, b in combos[:MAX_PER_ASK]:
            pool = same_item if same_item and rng.random() < SAME_ITEM_SHARE else same_theme
            pool = pool or same_item
            negative = rng.choice(asks[rng.choice(pool)]) if pool else None
            out.append({"anchor": a, "positive": b, "negative": negative, "source": source})
    return out


#: The development sets the shipped model was trained on. A set joins this list when a model
#: is retrained on it (group4-5 and group6-8 joined after their first contact; group11-17 with
#: the model of 2026-12-03; group22-27 with the model of that evening, chosen on group28-31,
#: which it never saw).
TRAINED_SETS = tuple(f"group{n}.jsonl" for n in (*range(1, 18), *range(22, 28)))


def blind_sets(prefix: str) -> list[Path]:
    """The former blind sets named ``<prefix><n>.jsonl``, in the order of ``n``."""
    numbered: dict[int, Path] = {}
    for path in BLIND_DIR.glob(f"{prefix}*.jsonl"):
        n = path.stem.removeprefix(prefix)
        if n.isdigit():
            numbered[int(n)] = path
    return [numbered[n] for n in sorted(numbered)]


def development_sets() -> list[Path]:
    """The development sets labelled at the ask level that the shipped model learned from."""
    return [BLIND_DIR / name for name in TRAINED_SETS]


def build(exclude: Iterable[str] = ()) -> list[dict[str, str | None]]:
    """Every training triple, in a fixed order; ``exclude`` names development files to leave out
    (e.g. ``group3.jsonl``, to score a model on a set it never saw)."""
    rng = random.Random(SEED)
    out = pairs_from_set(read_jsonl(POLICING_FILE), "dup_group", "policing_questions", rng)
    skip = set(exclude)
    for path in development_sets():
        if path.name not in skip:
            out += pairs_from_set(read_jsonl(path), "item", f"blind/{path.name}", rng)
    for path in sorted(WRITTEN_DIR.glob("*.jsonl")):
        if path.name not in skip:
            out += pairs_from_set(read_jsonl(path), "item", f"written/{path.name}", rng)
    rng.shuffle(out)
    return out


def main() -> None:
    """Write the pairs file."""
    parser = argparse.ArgumentParser(description="build training pairs")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--exclude", action="append", default=[], help="skip blind/<name> or written/<name>"
    )
    args = parser.parse_args()
    pairs = build(args.exclude)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"{len(pairs)} pairs -> {args.output}")


if __name__ == "__main__":
    main()
