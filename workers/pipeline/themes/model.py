"""How the theme classifier holds one theme: its example vectors, label and members.

A :class:`ThemeModel` is the classifier's working record of a taxonomy theme or of a theme
found by discovery. The scorer, discovery and persistence all read and update these records;
the public view of a theme is :class:`ThemeInfo`, and what a question is given is a
:class:`ThemeAssignment`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from workers.pipeline.themes.taxonomy import Theme

__all__ = ["Embedder", "ThemeAssignment", "ThemeInfo", "ThemeModel", "unit_vector"]


def unit_vector(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to unit length as float32 (a zero vector is returned unchanged)."""
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else v.astype(np.float32)


@dataclass
class ThemeModel:
    """A theme as the classifier holds it (taxonomy or discovered)."""

    slug: str
    label: str
    discovered: bool
    base: np.ndarray  # (k, dim): taxonomy examples + description; empty for discovered themes
    theme: Theme | None = None
    keyword_regex: str | None = None
    label_edited: bool = False
    learned: list[np.ndarray] = field(default_factory=list)  # staff-confirmed examples
    learned_texts: list[str] = field(default_factory=list)
    members: dict[str, np.ndarray] = field(default_factory=dict)  # discovered: key -> vector
    member_texts: dict[str, str] = field(default_factory=dict)

    def vectors(self) -> np.ndarray:
        """Every example vector of the theme, (k, dim)."""
        rows = [*self.learned, *self.members.values()]
        if not rows:
            return self.base
        return np.concatenate([self.base, np.stack(rows)], axis=0)

    def centroid(self) -> np.ndarray:
        """Unit mean of every example vector: the theme's prototype."""
        return unit_vector(self.vectors().mean(axis=0))

    def texts(self) -> list[str]:
        """Texts of members and staff examples (for automatic labels)."""
        return [*self.member_texts.values(), *self.learned_texts]


class Embedder(Protocol):
    """What the classifier embeds with: ``embed(texts)`` gives unit float32 rows of ``dim``."""

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ThemeAssignment:
    """The theme given to one question."""

    slug: str
    label: str
    score: float
    """How well the question fits: its best taxonomy fit, the head aside, or its similarity
    to the discovered theme (0..~1.1; higher is more confident)."""
    discovered: bool
    """True when the theme is a discovered ``new:`` candidate rather than a taxonomy theme."""
    pinned: bool = False
    """True when staff chose this theme; the classifier never changes it."""


@dataclass(frozen=True)
class ThemeInfo:
    """A theme as staff see it in the theme list."""

    slug: str
    label: str
    discovered: bool
    label_edited: bool
    examples: int
    """Number of example embeddings the theme is matched against (taxonomy + staff + members)."""
