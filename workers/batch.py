"""`openfloor cluster`: the worker pipeline over a JSON Lines file, for a spreadsheet of cards."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from tqdm import tqdm

from domain.models.enums import QuestionKind
from workers.pipeline.engine import Analysis, Item, Pipeline
from workers.pipeline.themes.taxonomy import auto_label


class InputError(ValueError):
    """A line of the input file is not a usable question."""


def read_items(lines: Iterable[str]) -> Iterator[Item]:
    """Parse JSON Lines: each object needs ``id`` and ``text``; ``name``, ``location``,
    ``channel`` and ``author`` (a handle or other stable sender key) are optional. Blank
    lines are skipped."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or "id" not in obj or not str(obj.get("text") or "").strip():
            raise InputError(f"line {number}: needs an object with 'id' and non-empty 'text'")
        yield Item(
            id=str(obj["id"]),
            text=str(obj["text"]),
            name=obj.get("name") or None,
            location=obj.get("location") or None,
            channel=str(obj.get("channel") or "event"),
            author=str(obj.get("author") or obj.get("name") or obj["id"]),
        )


def result_record(a: Analysis) -> dict[str, Any]:
    """The output object for one question.

    ``kind`` is the pipeline's question / comment / noise decision. A comment or noise is
    not grouped: its ``dup_group`` is its own id and no later question joins it.
    """
    return {
        "id": a.id,
        "kind": a.kind.value,
        "dup_group": a.match.group_key if a.kind is QuestionKind.QUESTION else a.id,
        "theme": (a.theme.label or auto_label(a.theme.slug, "")) if a.theme else None,
        "flags": a.flag_codes,
        "match": a.match.kind.value,
        "suggestions": [
            {"dup_group": sg.group_key, "score": round(sg.score, 4)} for sg in a.match.suggestions
        ],
        "redacted_text": a.redacted,
    }


def cluster(
    source: IO[str],
    sink: IO[str],
    *,
    batch_size: int = 256,
    progress: bool = False,
    pipeline: Pipeline | None = None,
) -> int:
    """Run the pipeline over ``source`` and write one JSON object per question to ``sink``.

    ``pipeline`` defaults to a fresh :class:`Pipeline` (what the worker starts a meeting with);
    benchmarks pass one built with other settings.
    """
    items = list(read_items(source))
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise InputError(f"id {item.id!r} appears twice")
        seen.add(item.id)
    pipeline = pipeline or Pipeline()
    bar = tqdm(total=len(items), unit="q", disable=not progress, desc="clustering")
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        for analysis in pipeline.analyse(batch):
            sink.write(json.dumps(result_record(analysis), ensure_ascii=False) + "\n")
        bar.update(len(batch))
    bar.close()
    return len(items)
