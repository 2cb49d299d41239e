"""Per-meeting duplicate detection: exact, near-exact and paraphrase matches, with staff feedback.

A :class:`DedupeIndex` holds every question of one meeting that has been placed in a group.
Placing a new question returns a :class:`MatchDecision`:

* ``exact`` -- the same normalised text (same hash) as an earlier question;
* ``near`` -- a resubmission or typo: the place-masked texts are equal, or their rapidfuzz
  ``ratio`` is at least ``near_threshold``;
* ``paraphrase`` -- the cosine of the embeddings of the place-masked texts is at least
  ``paraphrase_threshold`` against a member of the group, or at least the lower
  ``same_theme_threshold`` when both questions carry the same theme (from the theme
  classifier or staff). Optionally a :class:`PairScorer` combining cosine with lexical overlap
  replaces the cosine;
* ``new`` -- none of these: the question starts its own group, keyed by its own id.

Candidates come from an HNSW :class:`~workers.pipeline.vector_index.VectorIndex`, so the cost of
placing a question stays flat as a meeting grows; there is no all-pairs comparison.

Places: "the same question about a different place is still the same question", so the caller's
``location`` is masked out of the text before embedding and lexical comparison
(:func:`mask_location`); the place itself stays on the caller's record.

Staff decisions win. :meth:`DedupeIndex.pin` (move or merge an item into a group) and
:meth:`DedupeIndex.split` (take an item out into its own group) are never undone by the worker:
an item already placed is never re-homed, a split records a cannot-link between the new group
and the one it left, and later questions that resemble a moved item follow it to its new group.
A staff theme change (:meth:`DedupeIndex.set_theme`) is used for later placements.

One index serves one meeting and is not thread-safe; persist it with
:meth:`DedupeIndex.to_state` and reload it with :meth:`DedupeIndex.from_state`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from workers.pipeline.dedupe_records import GroupMembers, PlacedItem
from workers.pipeline.embedding import Embedder
from workers.pipeline.match_rules import (
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_NEIGHBOURS,
    DEFAULT_PARAPHRASE_THRESHOLD,
    DEFAULT_SAME_THEME_THRESHOLD,
    QQP_PAIR_SCORER,
    MatchDecision,
    MatchKind,
    PairScorer,
    mask_location,
    match_pair,
    pair_features,
)
from workers.pipeline.vector_index import VectorIndex

__all__ = [
    "DEFAULT_NEAR_THRESHOLD",
    "DEFAULT_PARAPHRASE_THRESHOLD",
    "DEFAULT_SAME_THEME_THRESHOLD",
    "QQP_PAIR_SCORER",
    "DedupeIndex",
    "MatchDecision",
    "MatchKind",
    "PairScorer",
    "mask_location",
    "match_pair",
    "pair_features",
]

STATE_VERSION = 1


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_EMPTY_HASH = _sha256("")


class DedupeIndex:
    """Online duplicate grouping for one meeting (see the module docstring)."""

    def __init__(
        self,
        dim: int = 384,
        *,
        paraphrase_threshold: float = DEFAULT_PARAPHRASE_THRESHOLD,
        same_theme_threshold: float = DEFAULT_SAME_THEME_THRESHOLD,
        near_threshold: float = DEFAULT_NEAR_THRESHOLD,
        neighbours: int = DEFAULT_NEIGHBOURS,
        scorer: PairScorer | None = None,
        embedder: Embedder | None = None,
        vector_index: VectorIndex | None = None,
    ) -> None:
        """Create an empty index.

        ``paraphrase_threshold`` applies to a pair unless both questions carry the same theme
        (from the theme classifier or staff), when the lower ``same_theme_threshold`` applies.
        ``embedder`` is only needed when :meth:`place` is called without an embedding.
        ``neighbours`` is how many nearest earlier questions are examined per placement.
        """
        self.dim = dim
        self.paraphrase_threshold = paraphrase_threshold
        self.same_theme_threshold = same_theme_threshold
        self.near_threshold = near_threshold
        self.neighbours = neighbours
        self.scorer = scorer
        self.embedder = embedder
        self._vectors = vector_index if vector_index is not None else VectorIndex(dim)
        self._items: dict[str, PlacedItem] = {}
        self._by_hash: dict[str, str] = {}
        self._by_masked: dict[str, str] = {}
        self._groups = GroupMembers()

    # --- queries -------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of placed questions."""
        return len(self._items)

    def __contains__(self, item_id: object) -> bool:
        """Whether ``item_id`` has been placed."""
        return item_id in self._items

    def group_of(self, item_id: str) -> str:
        """Current group key of a placed question."""
        return self._items[item_id].group

    def decision_of(self, item_id: str) -> MatchDecision:
        """The decision recorded when the question was placed (with its current group)."""
        item = self._items[item_id]
        d = item.decision
        return MatchDecision(d.item_id, d.kind, item.group, d.score, d.matched_item_id)

    def members(self, group_key: str) -> list[str]:
        """Ids in a group, in placement order."""
        return list(self._groups.members.get(group_key, []))

    def groups(self) -> dict[str, list[str]]:
        """Every non-empty group and its members."""
        return {g: list(m) for g, m in self._groups.members.items() if m}

    def vector_of_text(self, masked: str) -> np.ndarray | None:
        """The stored vector of a placed question whose place-masked text is ``masked``."""
        item_id = self._by_masked.get(masked)
        return self._vectors.get(item_id) if item_id is not None else None

    def can_link(self, group_a: str, group_b: str) -> bool:
        """False when staff split one of these groups out of the other."""
        return frozenset((group_a, group_b)) not in self._groups.cannot_link

    # --- placement -----------------------------------------------------------------------

    def _embed(self, masked: str) -> np.ndarray:
        if self.embedder is None:
            raise ValueError("no embedding given and the index has no embedder")
        return self.embedder.embed([masked])[0]

    def decide(
        self,
        item_id: str,
        match_text: str,
        embedding: np.ndarray | Sequence[float] | None = None,
        location: str | None = None,
        text_hash: str | None = None,
        theme: str | None = None,
    ) -> MatchDecision:
        """What :meth:`place` would decide, without recording anything.

        ``embedding`` must be the embedding of ``mask_location(match_text, location)``; when
        omitted it is computed with the index's embedder.
        """
        if item_id in self._items:
            return self.decision_of(item_id)
        masked, vec, text_hash = self._prepare(match_text, embedding, location, text_hash)
        return self._decide(item_id, masked, vec, text_hash, theme)

    def _prepare(
        self,
        match_text: str,
        embedding: np.ndarray | Sequence[float] | None,
        location: str | None,
        text_hash: str | None,
    ) -> tuple[str, np.ndarray, str]:
        """Place-masked text, its embedding and the exact-duplicate hash of one question."""
        masked = mask_location(match_text, location)
        vec = self._embed(masked) if embedding is None else np.asarray(embedding, np.float32)
        return masked, vec, text_hash or _sha256(match_text)

    def _decide(
        self, item_id: str, masked: str, vec: np.ndarray, text_hash: str, theme: str | None
    ) -> MatchDecision:
        if text_hash == _EMPTY_HASH:
            # Nothing to match on (only emoji, symbols or invisible characters): two such
            # questions are not "the same question".
            return MatchDecision(item_id, MatchKind.NEW, item_id, 0.0, None)
        first = self._by_hash.get(text_hash)
        if first is not None:
            return MatchDecision(item_id, MatchKind.EXACT, self.group_of(first), 1.0, first)
        same_masked = self._by_masked.get(masked)
        if same_masked is not None and masked:
            g = self.group_of(same_masked)
            return MatchDecision(item_id, MatchKind.NEAR, g, 1.0, same_masked)
        hits = self._vectors.search(vec, self.neighbours)
        best: tuple[MatchKind, float, str] | None = None
        best_rejected = 0.0
        for other_id, cosine in hits:
            other = self._items[other_id]
            same_theme = theme is not None and other.theme == theme
            kind, score = match_pair(
                masked,
                other.masked,
                cosine,
                scorer=self.scorer,
                near_threshold=self.near_threshold,
                paraphrase_threshold=(
                    self.same_theme_threshold if same_theme else self.paraphrase_threshold
                ),
            )
            if kind is MatchKind.NEW:
                best_rejected = max(best_rejected, score)
                continue
            rank = (kind is MatchKind.NEAR, score)
            if best is None or rank > (best[0] is MatchKind.NEAR, best[1]):
                best = (kind, score, other_id)
        if best is None:
            return MatchDecision(item_id, MatchKind.NEW, item_id, best_rejected, None)
        kind, score, other_id = best
        return MatchDecision(item_id, kind, self.group_of(other_id), score, other_id)

    def place(
        self,
        item_id: str,
        match_text: str,
        embedding: np.ndarray | Sequence[float] | None = None,
        location: str | None = None,
        text_hash: str | None = None,
        theme: str | None = None,
    ) -> MatchDecision:
        """Decide and record the group of a new question; idempotent for a placed id.

        ``text_hash`` defaults to the SHA-256 of ``match_text`` (what ``normalise`` gives).
        ``theme`` is the question's theme if already known (classifier or staff): two
        questions with the same theme match at ``same_theme_threshold``.
        A question that is already placed is never re-homed: its recorded decision is returned
        with its current group (which may differ if staff moved it).
        """
        if item_id in self._items:
            return self.decision_of(item_id)
        masked, vec, text_hash = self._prepare(match_text, embedding, location, text_hash)
        decision = self._decide(item_id, masked, vec, text_hash, theme)
        if decision.kind is MatchKind.NEW and decision.group_key in self._groups.members:
            # the id is already used as a group key (a split item kept its old key): stay unique
            decision = MatchDecision(
                item_id, MatchKind.NEW, self._fresh_key(item_id), decision.score, None
            )
        self._items[item_id] = PlacedItem(
            item_id, decision.group_key, text_hash, masked, location, decision, theme
        )
        self._groups.add(decision.group_key, item_id)
        self._by_hash.setdefault(text_hash, item_id)
        self._by_masked.setdefault(masked, item_id)
        self._vectors.add(item_id, vec)
        return decision

    def place_many(
        self,
        items: Iterable[tuple[str, str, str | None]],
        themes: Sequence[str | None] | None = None,
    ) -> list[MatchDecision]:
        """Place ``(item_id, match_text, location)`` tuples in order, embedding in one batch.

        Note: int8 activations are quantised per batch, so a batch-embedded vector differs from
        the single-question one by up to ~1% cosine; decisions near a threshold can differ.
        """
        rows = list(items)
        if self.embedder is None:
            raise ValueError("place_many needs an embedder")
        masked = [mask_location(text, loc) for _, text, loc in rows]
        todo = [i for i, (item_id, _, _) in enumerate(rows) if item_id not in self._items]
        vecs = self.embedder.embed([masked[i] for i in todo]) if todo else None
        by_row = {i: vecs[n] for n, i in enumerate(todo)} if vecs is not None else {}
        out = []
        for i, (item_id, text, loc) in enumerate(rows):
            theme = themes[i] if themes is not None else None
            out.append(self.place(item_id, text, by_row.get(i), loc, theme=theme))
        return out

    # --- staff feedback ------------------------------------------------------------------

    def _fresh_key(self, base: str) -> str:
        n = 2
        while f"{base}#{n}" in self._groups.members or f"{base}#{n}" in self._items:
            n += 1
        return f"{base}#{n}"

    def _known_group(self, group_key: str) -> bool:
        return group_key in self._groups.members

    def pin(self, item_id: str, group_key: str) -> None:
        """Staff moved (or merged) ``item_id`` into ``group_key``; the worker never undoes it.

        Later questions that match this item are placed in ``group_key``. A cannot-link between
        the item's group of origin and ``group_key`` is lifted: staff have overruled it.
        """
        item = self._items[item_id]
        if not self._known_group(group_key):
            raise KeyError(f"unknown group {group_key!r}")
        if item.split_from is not None:
            self._groups.cannot_link.discard(frozenset((item.group, group_key)))
        if item.group != group_key:
            self._groups.remove(item.group, item_id)
            self._groups.add(group_key, item_id)
            item.group = group_key
        item.staff_placed = True

    def set_theme(self, item_id: str, theme: str | None) -> None:
        """Record a question's (new) theme, e.g. after staff re-themed it.

        Only later placements use it; no question is re-homed.
        """
        self._items[item_id].theme = theme

    def merge(self, from_group: str, into_group: str) -> None:
        """Staff merged two groups: every member of ``from_group`` is pinned to ``into_group``."""
        if not self._known_group(into_group):
            raise KeyError(f"unknown group {into_group!r}")
        self._groups.cannot_link.discard(frozenset((from_group, into_group)))
        for item_id in self.members(from_group):
            self.pin(item_id, into_group)

    def split(self, item_id: str) -> str:
        """Staff took ``item_id`` out of its group; returns the key of its new group.

        The new key is the item's id (or ``"<id>#2"``... when that id still keys the group it
        left, because it was that group's first member). The new group and the old one are
        cannot-linked: no later worker decision merges them again.
        """
        item = self._items[item_id]
        old = item.group
        new_key = item_id if item_id not in self._groups.members else self._fresh_key(item_id)
        if len(self._groups.members.get(old, [])) == 1 and old == item_id:
            new_key = old  # already alone in its own group
        if new_key != old:
            self._groups.remove(old, item_id)
            self._groups.add(new_key, item_id)
            self._groups.cannot_link.add(frozenset((old, new_key)))
        item.group = new_key
        item.split_from = old
        item.staff_placed = True
        return new_key

    # --- persistence ---------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Everything needed to rebuild the index: JSON-able, except ``"vectors"`` (bytes)."""
        return {
            "version": STATE_VERSION,
            "dim": self.dim,
            "paraphrase_threshold": self.paraphrase_threshold,
            "same_theme_threshold": self.same_theme_threshold,
            "near_threshold": self.near_threshold,
            "neighbours": self.neighbours,
            "scorer": self.scorer.to_dict() if self.scorer else None,
            "items": [it.to_row() for it in self._items.values()],
            "groups": {g: list(m) for g, m in self._groups.members.items()},
            "cannot_link": sorted(sorted(pair) for pair in self._groups.cannot_link),
            "vectors": self._vectors.to_bytes(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], embedder: Embedder | None = None) -> DedupeIndex:
        """Rebuild an index from :meth:`to_state` output."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported DedupeIndex state version {state.get('version')!r}")
        index = cls(
            state["dim"],
            paraphrase_threshold=state["paraphrase_threshold"],
            same_theme_threshold=state["same_theme_threshold"],
            near_threshold=state["near_threshold"],
            neighbours=state["neighbours"],
            scorer=PairScorer.from_dict(state["scorer"]) if state["scorer"] else None,
            embedder=embedder,
            vector_index=VectorIndex.from_bytes(state["vectors"]),
        )
        for row in state["items"]:
            item = PlacedItem.from_row(row)
            index._items[item.item_id] = item
            index._by_hash.setdefault(item.text_hash, item.item_id)
            index._by_masked.setdefault(item.masked, item.item_id)
        index._groups.members = {g: list(m) for g, m in state["groups"].items()}
        index._groups.cannot_link = {frozenset(pair) for pair in state["cannot_link"]}
        return index
