"""Small learned heads over the pipeline's sentence vectors: logistic regression weights.

A head is a JSON file in ``workers/pipeline/heads/`` written by ``scripts/train_heads.py``
(scikit-learn, at build time only) from committed training data. At run time it is one
matrix product in numpy, so a head costs microseconds per question and needs no model
library. The file records the sha256 of the training data it was fitted on, and its own
digest is checked against ``heads/sha256sums.txt`` when it is loaded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["HEADS_DIR", "HeadIntegrityError", "LinearHead", "load_head", "read_checked"]

HEADS_DIR = Path(__file__).parent / "heads"


class HeadIntegrityError(RuntimeError):
    """A head file does not match the digest recorded beside it."""


@dataclass(frozen=True)
class LinearHead:
    """Logistic regression: ``softmax`` over classes, or one ``sigmoid`` per class."""

    classes: tuple[str, ...]
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)
    link: str  # "softmax" or "sigmoid"
    embedder: str | None = None
    """Name of the sentence model whose vectors it was fitted on, when the file records it."""

    @classmethod
    def softmax_of(cls, model: Any, embedder: str | None = None) -> LinearHead:
        """The softmax head of a fitted multinomial logistic regression (``classes_``,
        ``coef_``, ``intercept_``: scikit-learn's, at build time)."""
        return cls(
            tuple(model.classes_),
            np.asarray(model.coef_, dtype=np.float32),
            np.asarray(model.intercept_, dtype=np.float32),
            "softmax",
            embedder=embedder,
        )

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Probabilities, one row per input row and one column per class."""
        logits = np.asarray(features, dtype=np.float32) @ self.coef.T + self.intercept
        if self.link == "sigmoid":
            return 1.0 / (1.0 + np.exp(-logits))
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def to_json(self, **meta: object) -> str:
        """The file format read by :func:`load_head` (``meta`` is kept for people)."""
        return json.dumps(
            {
                "classes": list(self.classes),
                "link": self.link,
                "intercept": [round(float(x), 6) for x in self.intercept],
                "coef": [[round(float(x), 6) for x in row] for row in self.coef],
                **meta,
            },
            indent=0,
        )


def _expected_digests(directory: Path) -> dict[str, str]:
    sums = directory / "sha256sums.txt"
    out = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split()
            out[name] = digest
    return out


def read_checked(name: str, directory: Path = HEADS_DIR) -> dict:
    """The JSON of ``<directory>/<name>.json`` once its sha256 matches ``sha256sums.txt``.

    Raises :class:`HeadIntegrityError` when the digest differs or is not recorded.
    """
    path = directory / f"{name}.json"
    raw = path.read_bytes()
    expected = _expected_digests(directory).get(path.name)
    actual = hashlib.sha256(raw).hexdigest()
    if expected != actual:
        raise HeadIntegrityError(f"{path.name}: sha256 {actual} is not the recorded {expected}")
    data: dict = json.loads(raw)
    return data


@cache
def load_head(name: str, directory: Path = HEADS_DIR) -> LinearHead:
    """Read ``<directory>/<name>.json``, checking its sha256 against ``sha256sums.txt`` there."""
    data = read_checked(name, directory)
    return LinearHead(
        classes=tuple(data["classes"]),
        coef=np.asarray(data["coef"], dtype=np.float32),
        intercept=np.asarray(data["intercept"], dtype=np.float32),
        link=data["link"],
        embedder=data.get("embedder"),
    )
