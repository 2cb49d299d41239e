"""Loaders for the external benchmark files and our own labelled policing set.

The external files live outside the repository (see ``SOURCES.md`` beside them) and are never
copied in. Their folder comes from ``OPENFLOOR_BENCH_DATA``, defaulting to ``../shared/benchmarks``
relative to the repository root.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
QQP_FILE = "qqp_first10000_pairs.csv"
COVIDQ_FILE = "covid_q_final_master_dataset.csv"
POLICING_FILE = REPO_ROOT / "bench" / "data" / "policing_questions.jsonl"
_POLICING_EXTRA = ("channel", "phase", "name", "theme", "flags")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON Lines file (blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def files_sha256(paths: Sequence[Path]) -> str:
    """One SHA-256 over the bytes of ``paths`` in order: what a fitted model was trained on."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def bench_data_dir() -> Path:
    """Folder holding the external benchmark files (``OPENFLOOR_BENCH_DATA`` or the default)."""
    env = os.environ.get("OPENFLOOR_BENCH_DATA")
    if env:
        return Path(env)
    return (REPO_ROOT / ".." / "shared" / "benchmarks").resolve()


@dataclass(frozen=True)
class QuestionPair:
    """One labelled QQP pair (original columns only)."""

    pair_id: int
    q1: str
    q2: str
    duplicate: bool


@dataclass(frozen=True)
class ClusteredQuestion:
    """A question with its same-question cluster label (and optional extra fields)."""

    qid: str
    text: str
    cluster: str
    location: str | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)


def load_qqp(path: Path | None = None) -> list[QuestionPair]:
    """Load the 10,000 QQP pairs (only id, question1, question2 and is_duplicate are used)."""
    path = path or bench_data_dir() / QQP_FILE
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            QuestionPair(
                pair_id=int(row["id"]),
                q1=row["question1"],
                q2=row["question2"],
                duplicate=row["is_duplicate"].strip() == "1",
            )
            for row in csv.DictReader(fh)
        ]


def split_halves(
    pairs: Sequence[QuestionPair], seed: int = 20240601
) -> tuple[list[QuestionPair], list[QuestionPair]]:
    """Shuffle with a fixed seed and cut into (tune, test) halves.

    The test half is for reporting only: no threshold, weight or model choice may use it.
    """
    items = list(pairs)
    random.Random(seed).shuffle(items)
    mid = len(items) // 2
    return items[:mid], items[mid:]


def load_covidq(path: Path | None = None) -> list[ClusteredQuestion]:
    """Load COVID-Q real questions: categorised rows whose Source is not "Author Generated"."""
    path = path or bench_data_dir() / COVIDQ_FILE
    out: list[ClusteredQuestion] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh)):
            if not row["Category"].strip() or row["Source"].strip() == "Author Generated":
                continue
            out.append(
                ClusteredQuestion(
                    qid=f"covidq-{n}",
                    text=row["Question"],
                    cluster=row["Question ID"].strip(),
                    extra={"category": row["Category"].split(" - ")[0].strip()},
                )
            )
    return out


def load_policing(path: Path | None = None) -> list[ClusteredQuestion] | None:
    """Load our labelled policing questions (JSON Lines), or None when the file is absent.

    Each line has id, text, channel, phase, name, location, dup_group, theme, flags. A row without a
    ``dup_group`` is its own group.
    """
    path = path or POLICING_FILE
    if not path.exists():
        return None
    out: list[ClusteredQuestion] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            qid = str(row["id"])
            group = row.get("dup_group")
            out.append(
                ClusteredQuestion(
                    qid=qid,
                    text=str(row["text"]),
                    cluster=str(group) if group not in (None, "") else f"solo-{qid}",
                    location=row.get("location") or None,
                    extra={k: row[k] for k in _POLICING_EXTRA if k in row},
                )
            )
    return out


def cluster_pairs(
    items: Sequence[ClusteredQuestion],
) -> list[tuple[ClusteredQuestion, ClusteredQuestion, bool]]:
    """All unordered pairs of ``items`` with a same-cluster label (quadratic; small sets only)."""
    return [(a, b, a.cluster == b.cluster) for i, a in enumerate(items) for b in items[i + 1 :]]
