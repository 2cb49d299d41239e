"""Discovery of themes the taxonomy lacks, among questions that fit no taxonomy theme.

Online leader clustering: a question that fits no taxonomy theme joins the discovered theme
whose centroid it is closest to, or starts a new candidate (slugs ``new:1``, ``new:2``...). An
unsure question that resembles nothing seen so far is remembered as an :class:`Orphan`; if a
second unsure question like it arrives, the two found a discovered theme. Each discovered
theme is labelled automatically by its most distinctive words (against the background word
counts of every text seen), unless staff renamed it. A discovered theme's centroid and label
come from its latest :data:`MEMBER_SAMPLE` members, so adding a question, relabelling and
saving the state cost the same in a meeting of 1,000 questions as in one of 100,000.

The decisions of when a question goes to discovery are the classifier's
(:mod:`workers.pipeline.themes.classifier`); this module keeps the discovered themes, their
centroids and members, the remembered unsure questions and the background word counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from workers.pipeline.themes.model import ThemeModel, unit_vector
from workers.pipeline.themes.taxonomy import DISCOVERED_PREFIX
from workers.pipeline.themes.words import content_terms, distinctive_label

__all__ = ["MEMBER_SAMPLE", "Orphan", "ThemeDiscovery"]

#: Members kept (with vector and text) per discovered theme: the most recent ones.
MEMBER_SAMPLE = 64


@dataclass
class Orphan:
    """A low-confidence question given its best-guess theme, kept to seed discovery."""

    qid: str | None
    vector: np.ndarray
    text: str


class ThemeDiscovery:
    """Discovered themes, their centroids and members, unsure questions and label background.

    Args:
        models: every theme model of the classifier, by slug (shared with it, so discovered
            themes created or dropped here are the classifier's too).
        dim: embedding dimension.
    """

    def __init__(self, models: dict[str, ThemeModel], dim: int) -> None:
        """Start with no discovered themes, no unsure questions and no background counts."""
        self.models = models
        self.dim = dim
        self.orphans: list[Orphan] = []
        """Remembered unsure questions, oldest first."""
        self.member_of: dict[str, str] = {}
        """Question id -> the discovered theme it was placed in."""
        self.next_new = 1
        """Number of the next ``new:`` slug."""
        self.next_anon = 0
        """Number of the next member key for a question without an id (``_0``, ``_1``...)."""
        self.df: Counter[str] = Counter()
        """Background document frequencies of content terms, for labels."""
        self.docs = 0
        """Number of texts counted in :attr:`df`."""
        self._slugs: list[str] = []
        self._rows: dict[str, int] = {}
        self._protos = np.zeros((0, dim), np.float32)
        self._dirty = True

    # -- centroids --

    def invalidate(self) -> None:
        """Recompute every centroid before the next use (after removals or loading state)."""
        self._dirty = True

    def _rebuild(self) -> None:
        """Recompute every discovered centroid."""
        self._slugs = []
        self._rows = {}
        self._protos = np.zeros((0, self.dim), np.float32)
        self._dirty = False
        for m in self.models.values():
            if m.discovered:
                self.update_centroid(m.slug)

    def update_centroid(self, slug: str) -> None:
        """Refresh one discovered theme's centroid row (appending a row for a new theme)."""
        if self._dirty:
            self._rebuild()
            return
        centroid = self.models[slug].centroid()
        row = self._rows.get(slug)
        if row is None:
            if len(self._slugs) == len(self._protos):  # grow by doubling
                grown = np.zeros((max(8, 2 * len(self._protos)), self.dim), np.float32)
                grown[: len(self._protos)] = self._protos
                self._protos = grown
            row = self._rows[slug] = len(self._slugs)
            self._slugs.append(slug)
        self._protos[row] = centroid

    def nearest_theme(self, vector: np.ndarray) -> tuple[str | None, float]:
        """The discovered theme whose centroid is most similar to ``vector``, and the cosine."""
        if self._dirty:
            self._rebuild()
        if not self._slugs:
            return None, -1.0
        sims = self._protos[: len(self._slugs)] @ vector
        j = int(sims.argmax())
        return self._slugs[j], float(sims[j])

    # -- unsure questions --

    def remember_orphan(self, orphan: Orphan, max_orphans: int) -> None:
        """Keep an unsure question, dropping the oldest beyond ``max_orphans``."""
        self.orphans.append(orphan)
        if len(self.orphans) > max_orphans:
            del self.orphans[0]

    def close_orphans(self, vector: np.ndarray, join_threshold: float) -> list[Orphan]:
        """Remembered unsure questions at least ``join_threshold`` similar, closest first."""
        if not self.orphans:
            return []
        sims = np.stack([o.vector for o in self.orphans]) @ vector
        order = [int(j) for j in np.argsort(-sims) if sims[j] >= join_threshold]
        return [self.orphans[j] for j in order]

    def nearest_orphan(self, vector: np.ndarray, join_threshold: float) -> Orphan | None:
        """The remembered unsure question most similar to ``vector``, if similar enough."""
        if not self.orphans:
            return None
        sims = np.stack([o.vector for o in self.orphans]) @ vector
        j = int(sims.argmax())
        return self.orphans[j] if sims[j] >= join_threshold else None

    # -- discovered themes and their members --

    def new_candidate(self) -> str:
        """Create an empty discovered theme and return its ``new:`` slug."""
        slug = f"{DISCOVERED_PREFIX}{self.next_new}"
        self.next_new += 1
        self.models[slug] = ThemeModel(slug, "", True, np.zeros((0, self.dim), np.float32))
        return slug

    def add_member(self, slug: str, vector: np.ndarray, text: str, qid: str | None) -> None:
        """Put a question in discovered theme ``slug`` and move its centroid."""
        model = self.models[slug]
        if qid is None:
            qid_key = f"_{self.next_anon}"
            self.next_anon += 1
        else:
            qid_key = qid
            self.member_of[qid] = slug
        model.members[qid_key] = unit_vector(vector)
        model.member_texts[qid_key] = text
        while len(model.members) > MEMBER_SAMPLE:  # the oldest leave the sample, not the theme
            oldest = next(iter(model.members))
            del model.members[oldest]
            del model.member_texts[oldest]
        self.update_centroid(slug)

    def remove_member(self, slug: str, qid: str) -> None:
        """Take a question out of discovered theme ``slug``; a theme left empty is dropped."""
        model = self.models[slug]
        model.members.pop(qid, None)
        model.member_texts.pop(qid, None)
        if not model.members and not model.learned:
            del self.models[slug]
        else:
            self.relabel(slug)
        self._dirty = True

    def release(self, question_id: str, slug: str) -> None:
        """Staff put ``question_id`` in ``slug``: forget where discovery had it.

        The question is no longer a remembered unsure question, and it leaves any other
        discovered theme it was a member of.
        """
        self.orphans = [o for o in self.orphans if o.qid != question_id]
        previous = self.member_of.pop(question_id, None)
        if previous is not None and previous != slug and previous in self.models:
            self.remove_member(previous, question_id)

    # -- labels --

    def observe(self, matched: Iterable[str]) -> None:
        """Count the content terms of match texts into the label background."""
        for text in matched:
            self.df.update(set(content_terms(text)))
            self.docs += 1

    def relabel(self, slug: str) -> None:
        """Label a discovered theme by its most distinctive words, unless staff renamed it."""
        model = self.models[slug]
        if not model.label_edited:
            model.label = distinctive_label(model.texts(), self.df, self.docs)
