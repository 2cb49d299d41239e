"""Training pairs for the domain sentence model, from committed labelled sets.

    python -m bench.training_pairs            # writes bench/data/training/pairs.jsonl

Each line is ``{"anchor", "positive", "negative", "source"}``: two questions of the same ask
(or, for the policing set, the same agenda point) and a hard negative from the same theme but
another ask. Texts are what the worker embeds: normalised match text with the sender's place
masked out. ``scripts/train_embedder.py`` trains on this file.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterable
from pathlib import Path

from bench.datasets import POLICING_FILE, REPO_ROOT
from workers.pipeline.match_rules import mask_location
from workers.pipeline.normalise import normalise

BLIND_DIR = REPO_ROOT / "bench" / "data" / "blind"
WRITTEN = REPO_ROOT / "bench" / "data" / "training" / "written_pairs.jsonl"
OUTPUT = REPO_ROOT / "bench" / "data" / "training" / "pairs.jsonl"
SEED = 8
MAX_PER_GROUP = 12


def _text(row: dict[str, object]) -> str:
    return mask_location(normalise(str(row["text"])).match_text, row.get("location") or None)  # type: ignore[arg-type]


def pairs_from_set(
    rows: Iterable[dict[str, object]], group_field: str, source: str, rng: random.Random
) -> list[dict[str, str | None]]:
    """(anchor, positive, hard negative) triples inside each group of one labelled set."""
    groups: dict[str, list[str]] = {}
    theme_of: dict[str, str] = {}
    for row in rows:
        if row.get("flags") and "spam" in row["flags"]:  # type: ignore[operator]
            continue
        key = str(row[group_field])
        groups.setdefault(key, []).append(_text(row))
        theme_of[key] = str(row.get("theme"))
    by_theme: dict[str, list[str]] = {}
    for key, theme in theme_of.items():
        by_theme.setdefault(theme, []).append(key)
    out: list[dict[str, str | None]] = []
    for key, texts in sorted(groups.items()):
        texts = [t for t in dict.fromkeys(texts) if t]
        combos = [(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :]]
        rng.shuffle(combos)
        others = [k for k in by_theme[theme_of[key]] if k != key]
        for a, b in combos[:MAX_PER_GROUP]:
            negative = rng.choice(groups[rng.choice(others)]) if others else None
            out.append({"anchor": a, "positive": b, "negative": negative, "source": source})
    return out


def build(exclude: Iterable[str] = ()) -> list[dict[str, str | None]]:
    """Every training triple, in a fixed order; ``exclude`` names blind files to leave out
    (left out before sampling, so the result is what it was before those files existed)."""
    rng = random.Random(SEED)
    out = pairs_from_set(_read(POLICING_FILE), "dup_group", "policing_questions", rng)
    skip = set(exclude)
    for path in sorted(p for p in BLIND_DIR.glob("*.jsonl") if p.name not in skip):
        out += pairs_from_set(_read(path), "ask", f"blind/{path.name}", rng)
    if WRITTEN.exists():
        for row in _read(WRITTEN):
            neg = row.get("negative")
            out.append({
                "anchor": normalise(str(row["anchor"])).match_text,
                "positive": normalise(str(row["positive"])).match_text,
                "negative": normalise(str(neg)).match_text if neg else None,
                "source": "written",
            })  # fmt: skip
    rng.shuffle(out)
    return out


def _read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> None:
    """Write the pairs file."""
    parser = argparse.ArgumentParser(description="build training pairs")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--exclude", action="append", default=[], help="skip blind/<name>")
    args = parser.parse_args()
    pairs = build(args.exclude)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"{len(pairs)} pairs -> {args.output}")


if __name__ == "__main__":
    main()
