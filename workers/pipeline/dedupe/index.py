"""The :class:`DedupeIndex` of one meeting: placing questions, staff decisions, persistence.

The package docstring (``workers.pipeline.dedupe``) says how questions are placed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from workers.pipeline.dedupe.planner import BatchPlanner, BatchRow, sha256_hex
from workers.pipeline.dedupe.records import GroupMembers, PlacedItem
from workers.pipeline.embedding import Embedder
from workers.pipeline.grouping import (
    DEFAULT_JOIN_THRESHOLD,
    DEFAULT_SIZE_STEP,
    DEFAULT_SUGGESTIONS,
    GroupSums,
)
from workers.pipeline.match_rules import (
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_NEIGHBOURS,
    MatchDecision,
    mask_location,
)
from workers.pipeline.vector_index import VectorIndex

__all__ = ["STATE_VERSION", "DedupeIndex"]

STATE_VERSION = 2


class DedupeIndex(BatchPlanner):
    """Online duplicate grouping for one meeting (see the module docstring)."""

    def __init__(
        self,
        dim: int = 384,
        *,
        join_threshold: float = DEFAULT_JOIN_THRESHOLD,
        size_step: float = DEFAULT_SIZE_STEP,
        near_threshold: float = DEFAULT_NEAR_THRESHOLD,
        neighbours: int = DEFAULT_NEIGHBOURS,
        suggestions: int = DEFAULT_SUGGESTIONS,
        embedder: Embedder | None = None,
        vector_index: VectorIndex | None = None,
    ) -> None:
        """Create an empty index.

        A question joins a group when its average cosine to the members reaches
        ``join_threshold + size_step * log2(group size)``. ``embedder`` is only needed when
        :meth:`place` is called without an embedding. ``neighbours`` is how many nearest
        earlier questions are looked up per question (their groups are the candidates);
        ``suggestions`` is how many candidate groups a question carries.
        """
        self.dim = dim
        self.join_threshold = join_threshold
        self.size_step = size_step
        self.near_threshold = near_threshold
        self.neighbours = neighbours
        self.suggestions = suggestions
        self.embedder = embedder
        self._vectors = vector_index if vector_index is not None else VectorIndex(dim)
        self._items: dict[str, PlacedItem] = {}
        self._by_hash: dict[str, str] = {}
        self._by_masked: dict[str, str] = {}
        self._groups = GroupMembers()
        self._sums = GroupSums(dim)

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
        return MatchDecision(
            d.item_id, d.kind, item.group, d.score, d.matched_item_id, d.suggestions
        )

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
        return masked, vec, text_hash or sha256_hex(match_text)

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
        return self.place_if(
            item_id, match_text, embedding, location, text_hash, theme, accept=lambda _: False
        )[0]

    def place_if(
        self,
        item_id: str,
        match_text: str,
        embedding: np.ndarray | Sequence[float] | None = None,
        location: str | None = None,
        text_hash: str | None = None,
        theme: str | None = None,
        *,
        accept: Callable[[MatchDecision], bool],
    ) -> tuple[MatchDecision, bool]:
        """Decide one item and record it only if ``accept(decision)``: (decision, recorded).

        An item already placed keeps its recorded decision (and counts as recorded).
        """
        if item_id in self._items:
            return self.decision_of(item_id), True
        masked, vec, text_hash = self._prepare(match_text, embedding, location, text_hash)
        row = BatchRow(item_id, masked, vec, text_hash, location, theme)
        decision = self._plan([row])[0]
        if not accept(decision):
            return decision, False
        self._record(row, decision)
        return decision, True

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
        ``theme`` is kept on the record (the grouping itself does not use it).
        A question that is already placed is never re-homed: its recorded decision is returned
        with its current group (which may differ if staff moved it).
        """
        return self.place_if(
            item_id, match_text, embedding, location, text_hash, theme, accept=lambda _: True
        )[0]

    def place_batch(
        self,
        items: Sequence[tuple[str, str, np.ndarray, str | None, str | None]],
        themes: Sequence[str | None] | None = None,
    ) -> list[MatchDecision]:
        """Place ``(item_id, match_text, embedding, location, text_hash)`` rows together.

        The batch settles its own questions together (average linkage within the batch and
        against the groups near it) instead of one by one, so the order inside a batch does
        not decide who joins whom.
        """
        rows = []
        for i, (item_id, text, vec, loc, text_hash) in enumerate(items):
            masked, v, h = self._prepare(text, vec, loc, text_hash)
            rows.append(BatchRow(item_id, masked, v, h, loc, themes[i] if themes else None))
        return self.place_rows(rows)

    def place_many(
        self,
        items: Iterable[tuple[str, str, str | None]],
        themes: Sequence[str | None] | None = None,
    ) -> list[MatchDecision]:
        """Embed ``(item_id, match_text, location)`` tuples in one call and place them together."""
        rows = list(items)
        if self.embedder is None:
            raise ValueError("place_many needs an embedder")
        masked = [mask_location(text, loc) for _, text, loc in rows]
        vecs = self.embedder.embed(masked) if rows else np.zeros((0, self.dim), np.float32)
        return self.place_batch(
            [(i, t, vecs[n], loc, None) for n, (i, t, loc) in enumerate(rows)], themes
        )

    def place_rows(self, rows: Sequence[BatchRow]) -> list[MatchDecision]:
        """Decide a batch of prepared rows together and record them (placed ids are kept)."""
        fresh = [r for r in rows if r.item_id not in self._items]
        planned = dict(zip([r.item_id for r in fresh], self._plan(fresh), strict=True))
        out = []
        for row in rows:
            if row.item_id not in planned:
                out.append(self.decision_of(row.item_id))
                continue
            decision = planned[row.item_id]
            self._record(row, decision)
            out.append(decision)
        return out

    def _record(self, row: BatchRow, decision: MatchDecision) -> None:
        self._items[row.item_id] = PlacedItem(
            row.item_id, decision.group_key, row.text_hash, row.masked, row.location, decision,
            row.theme,
        )  # fmt: skip
        self._groups.add(decision.group_key, row.item_id)
        self._sums.add(decision.group_key, row.vec)
        self._by_hash.setdefault(row.text_hash, row.item_id)
        self._by_masked.setdefault(row.masked, row.item_id)
        self._vectors.add(row.item_id, row.vec)

    # --- staff feedback ------------------------------------------------------------------

    def _fresh_key(self, base: str) -> str:
        n = 2
        while f"{base}#{n}" in self._groups.members or f"{base}#{n}" in self._items:
            n += 1
        return f"{base}#{n}"

    def _known_group(self, group_key: str) -> bool:
        return group_key in self._groups.members

    def _move(self, item: PlacedItem, group_key: str) -> None:
        vec = self._vectors.get(item.item_id)
        self._groups.remove(item.group, item.item_id)
        self._groups.add(group_key, item.item_id)
        if vec is not None:
            self._sums.remove(item.group, vec)
            self._sums.add(group_key, vec)
        item.group = group_key

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
            self._move(item, group_key)
        item.staff_placed = True

    def theme_of(self, item_id: str) -> str | None:
        """The theme recorded for a placed question."""
        return self._items[item_id].theme

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
            self._move(item, new_key)
            self._groups.cannot_link.add(frozenset((old, new_key)))
        item.split_from = old
        item.staff_placed = True
        return new_key

    # --- persistence ---------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Everything needed to rebuild the index: JSON-able, except ``"vectors"`` (bytes)."""
        return {
            "version": STATE_VERSION,
            "dim": self.dim,
            "join_threshold": self.join_threshold,
            "size_step": self.size_step,
            "near_threshold": self.near_threshold,
            "neighbours": self.neighbours,
            "suggestions": self.suggestions,
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
            join_threshold=state["join_threshold"],
            size_step=state["size_step"],
            near_threshold=state["near_threshold"],
            neighbours=state["neighbours"],
            suggestions=state["suggestions"],
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
        for item in index._items.values():
            vec = index._vectors.get(item.item_id)
            if vec is not None:
                index._sums.add(item.group, vec)
        return index
