"""The theme classifier: assigns each question a taxonomy theme or a discovered one.

A question is scored against every taxonomy theme (:mod:`workers.pipeline.themes.scoring`):
how well it fits each, and how it ranks them (the fit plus the theme head's weighed
probability). The theme ranked first wins when some theme fits at ``threshold`` or better. A
question that fits no theme goes to discovery (:mod:`workers.pipeline.themes.discovery`): it
joins a close discovered theme or starts one. An unsure question that resembles nothing seen
so far keeps its best-guess theme but is remembered; once enough unsure questions like it
have arrived (``min_found``), together they found a discovered theme.

Staff feedback: :meth:`ThemeClassifier.learn` adds a question's embedding as an extra example
of the theme staff chose and pins that question to the theme so the classifier never changes
it. :meth:`ThemeClassifier.to_state` / :meth:`ThemeClassifier.from_state` give a JSON-safe
snapshot (labels, learned examples, discovered themes, pins) to keep between runs
(:mod:`workers.pipeline.themes.state`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workers.pipeline.linear_head import LinearHead
from workers.pipeline.themes.discovery import Orphan, ThemeDiscovery
from workers.pipeline.themes.model import (
    Embedder,
    ThemeAssignment,
    ThemeInfo,
    ThemeModel,
    unit_vector,
)
from workers.pipeline.themes.scoring import ScoreWeights, TaxonomyScorer
from workers.pipeline.themes.state import (
    STATE_VERSION,
    discovery_state,
    restore_discovery,
    restore_theme,
    theme_entry,
)
from workers.pipeline.themes.taxonomy import Theme, themes_from_records
from workers.pipeline.themes.words import keyword_regex, match_text

__all__ = ["ThemeAssignment", "ThemeClassifier", "ThemeInfo"]


class ThemeClassifier:
    """Assigns questions to taxonomy themes and discovers new ones.

    Args:
        themes: the taxonomy (e.g. :func:`load_seed_taxonomy`).
        embedder: object with ``embed(texts)`` returning unit float32 rows, and ``dim``.
        threshold: minimum fit (the head aside) of some taxonomy theme for a question to
            take the theme it ranks first; below it the question goes to discovery.
        join_threshold: minimum cosine similarity to a discovered theme's centroid (or to a
            remembered unsure question) for a question to join it.
        proto_weight: weight of cosine similarity to the theme prototype.
        knn_weight: weight of the mean similarity to the theme's ``knn`` nearest examples.
        keyword_bonus: added to a taxonomy theme's score when one of its keywords occurs.
        knn: number of nearest examples averaged.
        floor: kept in saved states; no longer used (a single question never founds a theme).
        min_found: an unsure question (below ``threshold``) keeps its best taxonomy theme and
            is remembered until, with it, ``min_found`` unsure questions cohere (each at least
            ``join_threshold`` similar to the newest): together they found a discovered theme.
        max_orphans: how many such remembered questions are kept (oldest dropped first).
        head: a theme head over ``embedder``'s vectors (:func:`shipped_theme_head`), or None.
        head_weight: weight of the head's probability in a taxonomy theme's score.

    The weights were chosen on one half of ``bench/data/policing_questions.jsonl``
    (``bench/eval/themes.py --tune``); ``keyword_bonus`` by leave one set out over the blind
    sets group1-3 (``python -m bench.eval.theme_sets``); ``head_weight`` and ``threshold``
    with a head fitted without group28-32, on them (docs/first-contact.md, group33-35).
    """

    def __init__(
        self,
        themes: Sequence[Theme],
        embedder: Embedder,
        *,
        threshold: float = 0.45,
        join_threshold: float = 0.45,
        proto_weight: float = 0.7,
        knn_weight: float = 0.3,
        keyword_bonus: float = 0.24,
        knn: int = 2,
        floor: float = 0.40,
        max_orphans: int = 200,
        staff_match: float = 0.6,
        min_found: int = 3,
        head: LinearHead | None = None,
        head_weight: float = 1.5,
    ) -> None:
        """Embed the taxonomy (examples, label and description of every theme)."""
        self.embedder = embedder
        self.dim = int(embedder.dim)
        self.threshold = threshold
        self.join_threshold = join_threshold
        self.proto_weight = proto_weight
        self.knn_weight = knn_weight
        self.keyword_bonus = keyword_bonus
        self.knn = int(knn)
        self.floor = floor
        self.max_orphans = int(max_orphans)
        self.staff_match = staff_match
        self.min_found = int(min_found)
        self.head = head
        self.head_weight = head_weight
        self._models: dict[str, ThemeModel] = {}
        self._pins: dict[str, str] = {}  # question id -> staff theme
        self._discovery = ThemeDiscovery(self._models, self.dim)
        self._tax_dirty = True
        for theme in themes:
            self.add_theme(theme)
        self._rebuild_taxonomy()

    # -- taxonomy management --

    def add_theme(self, theme: Theme) -> None:
        """Add or replace a taxonomy theme (its examples are embedded now).

        Replacing keeps the staff examples learned so far and a staff-edited label.
        """
        texts = [*theme.examples, f"{theme.label}. {theme.description}".strip()]
        base = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        model = ThemeModel(
            slug=theme.slug,
            label=theme.label,
            discovered=False,
            base=base,
            theme=theme,
            keyword_regex=keyword_regex(theme.keywords),
        )
        old = self._models.get(theme.slug)
        if old is not None:
            model.learned, model.learned_texts = old.learned, old.learned_texts
            if old.label_edited:
                model.label, model.label_edited = old.label, True
        self._models[theme.slug] = model
        self._discovery.observe(match_text(t) for t in texts)
        self._tax_dirty = True

    def rename(self, slug: str, label: str) -> None:
        """Give a theme a staff label; automatic relabelling never overrides it."""
        if not label.strip():
            raise ValueError("label must not be empty")
        model = self._model(slug)
        model.label, model.label_edited = label.strip(), True

    def themes(self) -> list[ThemeInfo]:
        """All themes: taxonomy first, then discovered ones in order of discovery."""
        return [
            ThemeInfo(m.slug, m.label, m.discovered, m.label_edited, len(m.vectors()))
            for m in self._models.values()
        ]

    def label(self, slug: str) -> str:
        """Current label of a theme."""
        return self._model(slug).label

    def slugs(self) -> set[str]:
        """Slugs of every theme, taxonomy and discovered."""
        return set(self._models)

    def is_discovered(self, slug: str) -> bool:
        """True if ``slug`` is a theme found by discovery rather than a taxonomy theme."""
        return self._model(slug).discovered

    def pinned(self, question_id: str) -> str | None:
        """The staff-chosen theme of a question, if any."""
        return self._pins.get(question_id)

    # -- feedback --

    def learn(
        self,
        slug: str,
        vector: np.ndarray,
        *,
        text: str | None = None,
        question_id: str | None = None,
    ) -> None:
        """Staff put a question in theme ``slug``: use it as an example and pin the question.

        ``vector`` is the question's embedding. With ``question_id`` the question is pinned:
        every later :meth:`assign` returns ``slug`` for it, and if discovery had placed it in
        another candidate theme it is taken out of that one. ``text`` helps automatic labels.
        """
        model = self._model(slug)
        vec = unit_vector(np.asarray(vector, dtype=np.float32).reshape(-1))
        if vec.shape[0] != self.dim:
            raise ValueError(f"vector has {vec.shape[0]} dimensions, expected {self.dim}")
        if question_id is not None:
            self._pins[question_id] = slug
            self._discovery.release(question_id, slug)
        if model.discovered and question_id is not None:
            self._discovery.add_member(slug, vec, text or "", question_id)
        else:
            model.learned.append(vec)
            model.learned_texts.append(match_text(text) if text else "")
            if model.discovered:
                self._discovery.update_centroid(slug)
                self._discovery.relabel(slug)
            else:
                self._tax_dirty = True

    # -- assignment --

    def classify(
        self, texts: Sequence[str], ids: Sequence[str] | None = None
    ) -> list[ThemeAssignment]:
        """Embed ``texts`` with the classifier's embedder and :meth:`assign` them."""
        return self.assign(self.embedder.embed(list(texts)), texts, ids)

    def assign(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        *,
        normalised: bool = False,
    ) -> list[ThemeAssignment]:
        """Assign a theme to each question, in order (discovery is online).

        Args:
            vectors: (n, dim) unit embeddings of the questions.
            texts: the question texts: keyword cues and labels use them.
            ids: optional question ids. A pinned id keeps its staff theme; an id that
                discovery already placed keeps its discovered theme, so re-running is stable.
            normalised: ``texts`` are already ``normalise(text).match_text`` (saves ~0.05 ms
                per question).

        Returns:
            One :class:`ThemeAssignment` per question, in input order.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        n = len(texts)
        if vectors.shape != (n, self.dim):
            raise ValueError(f"vectors shape {vectors.shape} does not match {n} texts")
        if ids is not None and len(ids) != n:
            raise ValueError("ids and texts differ in length")
        if n == 0:
            return []
        discovery = self._discovery
        matched = list(texts) if normalised else [match_text(t) for t in texts]
        discovery.observe(matched)
        ranking, fit = self._taxonomy_scores(vectors, matched)
        best = ranking.argmax(axis=1)
        picks: list[tuple[str, float, bool]] = []
        touched: set[str] = set()
        orphan_pick: dict[int, int] = {}  # id() of an orphan made in this batch -> its pick
        for i in range(n):
            qid = ids[i] if ids is not None else None
            if qid is not None and self._pins.get(qid) in self._models:
                picks.append((self._pins[qid], 1.0, True))
                continue
            if qid is not None and qid in discovery.member_of:
                picks.append((discovery.member_of[qid], 1.0, False))
                continue
            tax_slug, tax_score = self._scorer.slugs[best[i]], float(fit[i].max())
            disc_slug, disc_score = discovery.nearest_theme(vectors[i])
            if (
                disc_slug is not None
                and disc_score >= self.join_threshold
                and (tax_score < self.threshold or disc_score > tax_score)
            ):
                discovery.add_member(disc_slug, vectors[i], matched[i], qid)
                touched.add(disc_slug)
                picks.append((disc_slug, disc_score, False))
                continue
            if tax_score >= self.threshold:
                picks.append((tax_slug, tax_score, False))
                continue
            close = discovery.close_orphans(vectors[i], self.join_threshold)
            if len(close) + 1 < self.min_found:
                # Unsure, and not yet several like it: keep the best guess, remember it.
                discovery.remember_orphan(Orphan(qid, vectors[i], matched[i]), self.max_orphans)
                orphan_pick[id(discovery.orphans[-1])] = len(picks)
                picks.append((tax_slug, tax_score, False))
                continue
            # Several unsure questions that cohere, none fitting the taxonomy: a new theme.
            slug = discovery.new_candidate()
            for orphan in close:
                discovery.orphans.remove(orphan)
                discovery.add_member(slug, orphan.vector, orphan.text, orphan.qid)
                if id(orphan) in orphan_pick:
                    picks[orphan_pick.pop(id(orphan))] = (slug, 1.0, False)
            discovery.add_member(slug, vectors[i], matched[i], qid)
            touched.add(slug)
            picks.append((slug, 1.0, False))
        for slug in touched:
            discovery.relabel(slug)
        return [
            ThemeAssignment(
                slug, self._models[slug].label, score, self._models[slug].discovered, pin
            )
            for slug, score, pin in picks
        ]

    # -- persistence --

    def to_state(self) -> dict[str, Any]:
        """JSON-safe snapshot: taxonomy, staff labels and examples, discovered themes, pins."""
        return {
            "version": STATE_VERSION,
            "embedder": getattr(self.embedder, "name", None),
            "dim": self.dim,
            "params": {
                "threshold": self.threshold,
                "join_threshold": self.join_threshold,
                "proto_weight": self.proto_weight,
                "knn_weight": self.knn_weight,
                "keyword_bonus": self.keyword_bonus,
                "knn": self.knn,
                "floor": self.floor,
                "max_orphans": self.max_orphans,
                "staff_match": self.staff_match,
                "min_found": self.min_found,
                "head_weight": self.head_weight,
            },
            "themes": [theme_entry(m, self.dim) for m in self._models.values()],
            "pins": dict(self._pins),
            **discovery_state(self._discovery),
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], embedder: Embedder, head: LinearHead | None = None
    ) -> ThemeClassifier:
        """Rebuild a classifier saved by :meth:`to_state` (taxonomy examples are re-embedded;
        the head is not part of the state: pass the one in use).

        Raises:
            ValueError: the state is of another version or from another embedder.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported theme state version {state.get('version')!r}")
        dim = int(state["dim"])
        if dim != int(embedder.dim):
            raise ValueError(f"state has {dim}-d vectors but the embedder gives {embedder.dim}")
        saved_name = state.get("embedder")
        if saved_name and getattr(embedder, "name", saved_name) != saved_name:
            raise ValueError(f"state was made with embedder {saved_name!r}")
        taxonomy = themes_from_records(e["theme"] for e in state["themes"] if "theme" in e)
        self = cls(taxonomy, embedder, head=head, **state["params"])
        for entry in state["themes"]:
            restore_theme(self._models, entry, dim)
        self._pins = dict(state["pins"])
        restore_discovery(self._discovery, state)
        self._tax_dirty = True
        return self

    # -- internals --

    def _model(self, slug: str) -> ThemeModel:
        try:
            return self._models[slug]
        except KeyError:
            raise KeyError(f"unknown theme {slug!r}") from None

    def _rebuild_taxonomy(self) -> None:
        """Rebuild the taxonomy scorer after a change to the taxonomy or its staff examples."""
        tax = [m for m in self._models.values() if not m.discovered]
        self._scorer = TaxonomyScorer(tax, self.dim, self.head)
        self._tax_dirty = False

    def _taxonomy_scores(
        self, vectors: np.ndarray, matched: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n, themes) ranking and fit of every question against every taxonomy theme."""
        if self._tax_dirty:
            self._rebuild_taxonomy()
        weights = ScoreWeights(
            proto_weight=self.proto_weight,
            knn_weight=self.knn_weight,
            keyword_bonus=self.keyword_bonus,
            knn=self.knn,
            staff_match=self.staff_match,
            head_weight=self.head_weight,
        )
        return self._scorer.scores(vectors, matched, weights)
