"""The theme head: a softmax over the seed taxonomy's slugs, fitted on questions people filed.

Used by ``scripts/train_heads.py`` (``--only theme``). Training data: the former blind
grouping sets in :data:`THEME_SETS` (each writer chose their own sections; ``theme`` is their
slug) and ``bench/data/policing_questions.jsonl`` (already in taxonomy slugs). A writer's slug
becomes a taxonomy slug through ``bench/data/train/theme_map.json``, written by hand from the
slugs' names alone (``"technology-and-digital": null``: no taxonomy theme fits, the row is left
out). Features are the worker's sentence vectors of the place-masked reading
(:func:`urgent_fit.reading_vectors`). Cross-validation leaves whole sets out, so a figure is
for a writer the head never saw.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict
from urgent_fit import reading_vectors

from bench.datasets import files_sha256, read_jsonl
from workers.pipeline.embedding import default_embedder
from workers.pipeline.linear_head import LinearHead
from workers.pipeline.themes import load_seed_taxonomy

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
THEME_MAP = DATA / "train" / "theme_map.json"
#: The grouping sets the shipped head learned from (group33 on were first scored with it).
THEME_SETS = tuple(f"group{n}" for n in (*range(1, 18), *range(22, 33)))
#: Inverse regularisation, chosen with the head fitted on group1-17 and 22-27 and scored
#: through the pipeline on group28-32 (1 and 16 were worse).
C = 4.0


def theme_data() -> tuple[list[str], list[str | None], list[str], list[str], list[Path]]:
    """Texts, locations, taxonomy slugs, the set of each row, and the files read."""
    mapping: dict[str, str | None] = json.loads(THEME_MAP.read_text(encoding="utf-8"))
    slugs = {t.slug for t in load_seed_taxonomy()}
    texts: list[str] = []
    locations: list[str | None] = []
    labels: list[str] = []
    sources: list[str] = []
    paths = [DATA / "blind" / f"{name}.jsonl" for name in THEME_SETS]
    paths.append(DATA / "policing_questions.jsonl")
    for path in paths:
        policing = path.stem == "policing_questions"
        for r in read_jsonl(path):
            if policing and set(r.get("flags") or ()) & {"spam", "abuse"}:
                continue
            theme = r.get("theme")
            slug = theme if policing else mapping[str(theme)]
            if slug not in slugs:
                continue
            texts.append(r["text"])
            locations.append(r.get("location"))
            labels.append(str(slug))
            sources.append(path.stem)
    return texts, locations, labels, sources, [*paths, THEME_MAP]


def fit_theme() -> tuple[LinearHead, dict[str, object]]:
    """Cross-validate leaving whole sets out, then fit on every row."""
    texts, locations, labels, sources, paths = theme_data()
    x = reading_vectors(texts, locations)
    y = np.asarray(labels)
    model = LogisticRegression(C=C, max_iter=3000)
    oof = cross_val_predict(model, x, y, cv=GroupKFold(5), groups=sources)
    accuracy = float((oof == y).mean())
    right = oof == y
    per_set = {s: round(float(right[np.asarray(sources) == s].mean()), 3) for s in set(sources)}
    report = {"rows": len(y), "classes": len(set(labels)), "accuracy": round(accuracy, 3)}
    print("theme, 5-fold cross-validation by set:", json.dumps({**report, "per_set": per_set}))
    head = LinearHead.softmax_of(model.fit(x, y), embedder=default_embedder().name)
    meta = {
        "embedder": head.embedder,
        "trained_on": [str(p.relative_to(ROOT)) for p in paths],
        "trained_on_sha256": files_sha256(paths),
        "cross_validation": report,
    }
    return head, meta
