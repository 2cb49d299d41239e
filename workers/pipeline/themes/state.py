"""The JSON-safe snapshot format of a theme classifier, piece by piece.

:meth:`ThemeClassifier.to_state <workers.pipeline.themes.classifier.ThemeClassifier.to_state>`
and ``from_state`` assemble a snapshot from these pieces: one entry per theme (its taxonomy
record, staff label and staff examples, and for discovered themes their members), the
discovery bookkeeping (unsure questions, slug counters, label background). Vectors are stored
as base64 of little-endian float32.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from workers.pipeline.themes.discovery import Orphan, ThemeDiscovery
from workers.pipeline.themes.model import ThemeModel

__all__ = [
    "STATE_VERSION",
    "decode_vectors",
    "discovery_state",
    "encode_vectors",
    "restore_discovery",
    "restore_theme",
    "theme_entry",
]

STATE_VERSION = 1


def encode_vectors(vectors: np.ndarray) -> str:
    """Base64 of the vectors as little-endian float32."""
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode("ascii")


def decode_vectors(blob: str, dim: int) -> np.ndarray:
    """The (n, dim) float32 vectors saved by :func:`encode_vectors`."""
    flat = np.frombuffer(base64.b64decode(blob), dtype="<f4")
    return flat.reshape(-1, dim).astype(np.float32)


def theme_entry(model: ThemeModel, dim: int) -> dict[str, Any]:
    """The snapshot entry of one theme: label, staff examples, taxonomy record, members."""
    entry: dict[str, Any] = {
        "slug": model.slug,
        "label": model.label,
        "label_edited": model.label_edited,
        "discovered": model.discovered,
        "learned": encode_vectors(np.array(model.learned, np.float32).reshape(-1, dim)),
        "learned_texts": list(model.learned_texts),
    }
    if model.theme is not None:
        entry["theme"] = {
            "slug": model.theme.slug,
            "label": model.theme.label,
            "description": model.theme.description,
            "examples": list(model.theme.examples),
            "keywords": list(model.theme.keywords),
        }
    if model.discovered:
        vecs = np.array(list(model.members.values()), np.float32).reshape(-1, dim)
        entry["member_ids"] = list(model.members)
        entry["members"] = encode_vectors(vecs)
        entry["member_texts"] = [model.member_texts[k] for k in model.members]
    return entry


def restore_theme(models: dict[str, ThemeModel], entry: Mapping[str, Any], dim: int) -> None:
    """Apply one snapshot entry to ``models``.

    A discovered theme is created with its members; a taxonomy theme must already be in
    ``models`` (rebuilt from its ``theme`` record). Both get their label and staff examples.
    """
    slug = entry["slug"]
    if entry["discovered"]:
        model = ThemeModel(slug, entry["label"], True, np.zeros((0, dim), np.float32))
        models[slug] = model
        vectors = decode_vectors(entry["members"], dim)
        for key, vec, text in zip(entry["member_ids"], vectors, entry["member_texts"], strict=True):
            model.members[key] = vec
            model.member_texts[key] = text
    model = models[slug]
    model.label, model.label_edited = entry["label"], bool(entry["label_edited"])
    model.learned = list(decode_vectors(entry["learned"], dim))
    model.learned_texts = list(entry["learned_texts"])


def discovery_state(discovery: ThemeDiscovery) -> dict[str, Any]:
    """The discovery part of a snapshot: unsure questions, slug counters, label background."""
    orphans = discovery.orphans
    return {
        "orphans": {
            "ids": [o.qid for o in orphans],
            "texts": [o.text for o in orphans],
            "vectors": encode_vectors(
                np.array([o.vector for o in orphans], np.float32).reshape(-1, discovery.dim)
            ),
        },
        "next_new": discovery.next_new,
        "next_anon": discovery.next_anon,
        "df": dict(discovery.df),
        "docs": discovery.docs,
    }


def restore_discovery(discovery: ThemeDiscovery, state: Mapping[str, Any]) -> None:
    """Load the discovery part of a snapshot, after its themes were restored.

    Question ids of discovered-theme members are mapped back to their themes (members saved
    without an id, keys ``_0``, ``_1``..., are not).
    """
    dim = discovery.dim
    for slug, model in discovery.models.items():
        if model.discovered:
            for key in model.members:
                if not key.startswith("_"):
                    discovery.member_of[key] = slug
    orphans = state["orphans"]
    discovery.orphans = [
        Orphan(qid, vec, text)
        for qid, vec, text in zip(
            orphans["ids"], decode_vectors(orphans["vectors"], dim), orphans["texts"], strict=True
        )
    ]
    discovery.next_new = int(state["next_new"])
    discovery.next_anon = int(state["next_anon"])
    discovery.df, discovery.docs = Counter(state["df"]), int(state["docs"])
    discovery.invalidate()
