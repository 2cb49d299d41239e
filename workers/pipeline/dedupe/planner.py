"""How a batch of new questions is decided against a meeting's groups (no state is changed).

:class:`BatchPlanner` is the part of :class:`~workers.pipeline.dedupe.DedupeIndex` that turns
prepared rows into :class:`MatchDecision` s: exact and near (typo) copies first, then the rest
settled together by average linkage (:func:`~workers.pipeline.grouping.settle`), each carrying
its best candidate groups as suggestions. The index records the decisions.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from workers.pipeline.dedupe.records import GroupMembers, PlacedItem
from workers.pipeline.grouping import GroupSums, Suggestion, rank_groups, settle
from workers.pipeline.language import model_cannot_read
from workers.pipeline.match_rules import MatchDecision, MatchKind
from workers.pipeline.vector_index import VectorIndex

#: Suggestions rank candidate groups by the average cosine to the group blended with this
#: weight of the closest member's cosine (staff decide, so chaining is no risk there).
SUGGEST_CLOSEST_WEIGHT = 0.5
#: Only rows of a batch this close are compared letter by letter for typos.
NEAR_COSINE = 0.7


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


EMPTY_HASH = sha256_hex("")


@dataclass(frozen=True)
class BatchRow:
    """One question ready to place: place-masked text, unit vector, hash, place and theme."""

    item_id: str
    masked: str
    vec: np.ndarray
    text_hash: str
    location: str | None = None
    theme: str | None = None


class BatchPlanner:
    """Decides new rows against the groups; the index supplies the state below."""

    dim: int
    join_threshold: float
    size_step: float
    near_threshold: float
    neighbours: int
    suggestions: int
    _vectors: VectorIndex
    _items: dict[str, PlacedItem]
    _by_hash: dict[str, str]
    _by_masked: dict[str, str]
    _groups: GroupMembers
    _sums: GroupSums

    def group_of(self, item_id: str) -> str:
        raise NotImplementedError

    def members(self, group_key: str) -> list[str]:
        raise NotImplementedError

    def _fresh_key(self, base: str) -> str:
        raise NotImplementedError

    def _text_match(self, row: BatchRow, hits: list[tuple[str, float]]) -> MatchDecision | None:
        """Exact (same hash) or near (same masked text, or a typo away) match, if any."""
        if row.text_hash == EMPTY_HASH:
            # Nothing to match on (only emoji, symbols or invisible characters): two such
            # questions are not "the same question".
            taken = row.item_id in self._groups.members
            key = self._fresh_key(row.item_id) if taken else row.item_id
            return MatchDecision(row.item_id, MatchKind.NEW, key, 0.0, None)
        first = self._by_hash.get(row.text_hash)
        if first is not None:
            return MatchDecision(row.item_id, MatchKind.EXACT, self.group_of(first), 1.0, first)
        same = self._by_masked.get(row.masked)
        if same is not None and row.masked:
            return MatchDecision(row.item_id, MatchKind.NEAR, self.group_of(same), 1.0, same)
        best: tuple[float, str] | None = None
        for other_id, _ in hits:
            other = self._items[other_id].masked
            if not row.masked or not other:
                continue
            ratio = fuzz.ratio(row.masked, other) / 100.0
            if ratio >= self.near_threshold and (best is None or ratio > best[0]):
                best = (ratio, other_id)
        if best is None:
            return None
        return MatchDecision(row.item_id, MatchKind.NEAR, self.group_of(best[1]), *best)

    def _near_in_batch(
        self, rows: Sequence[BatchRow], r: int, cosines: np.ndarray, open_rows: Sequence[int]
    ) -> int | None:
        """Position of an earlier open row of the batch that row ``r`` is a typo away from
        (``cosines`` is row ``r``'s cosine with every row of the batch)."""
        if not open_rows or not rows[r].masked:
            return None
        best: tuple[float, int] | None = None
        for o in open_rows:
            if cosines[o] < NEAR_COSINE:
                continue
            ratio = fuzz.ratio(rows[r].masked, rows[o].masked) / 100.0
            if ratio >= self.near_threshold and (best is None or ratio > best[0]):
                best = (ratio, o)
        return best[1] if best else None

    def _plan(self, rows: Sequence[BatchRow]) -> list[MatchDecision]:
        """Decisions for new rows, settled together; nothing is recorded."""
        decisions: list[MatchDecision | None] = [None] * len(rows)
        hits = [self._vectors.search(r.vec, self.neighbours) for r in rows]
        batch_vecs = np.array([r.vec for r in rows]).reshape(len(rows), self.dim)
        batch_cos = batch_vecs @ batch_vecs.T
        first_of: dict[str, int] = {}  # hash or masked text -> first open row with it
        copies: dict[int, tuple[int, MatchKind]] = {}
        open_rows: list[int] = []
        for r, row in enumerate(rows):
            decisions[r] = self._text_match(row, hits[r])
            if decisions[r] is not None:
                continue
            earlier = first_of.get("h:" + row.text_hash)
            kind = MatchKind.EXACT
            if earlier is None and row.masked:
                earlier, kind = first_of.get("m:" + row.masked), MatchKind.NEAR
            if earlier is None:
                earlier = self._near_in_batch(rows, r, batch_cos[r], open_rows)
            if earlier is not None:
                copies[r] = (earlier, kind)
                continue
            first_of.setdefault("h:" + row.text_hash, r)
            if row.masked:
                first_of.setdefault("m:" + row.masked, r)
            open_rows.append(r)
        # the vector of a Welsh (or Arabic ...) question says nothing (an English model)
        unread = [r for r in open_rows if model_cannot_read(rows[r].masked)]
        for r in unread:
            taken = rows[r].item_id in self._groups.members
            key = self._fresh_key(rows[r].item_id) if taken else rows[r].item_id
            decisions[r] = MatchDecision(rows[r].item_id, MatchKind.NEW, key, 0.0, None)
        open_rows = [r for r in open_rows if r not in unread]
        candidates: dict[str, None] = {}
        for r in open_rows:
            for other_id, _ in hits[r]:
                candidates.setdefault(self._items[other_id].group, None)
        keys = [g for g in candidates if g in self._sums.sums]
        fixed = np.array([self._sums.sums[g] for g in keys]).reshape(len(keys), self.dim)
        vecs = np.array([rows[r].vec for r in open_rows]).reshape(len(open_rows), self.dim)
        owner = settle(
            vecs, fixed, [self._sums.counts[g] for g in keys], self.join_threshold, self.size_step
        )
        # a new cluster is keyed by its first member; an existing group keeps its key
        group_key: dict[int, str] = {}
        founder: dict[int, int] = {}
        for pos, c in enumerate(owner):
            if c < len(keys):
                group_key[c] = keys[c]
            elif c not in group_key:
                item_id = rows[open_rows[pos]].item_id
                taken = item_id in self._groups.members
                group_key[c] = self._fresh_key(item_id) if taken else item_id
                founder[c] = pos
        size = Counter(owner)
        new_sums = {c: vecs[[p for p, o in enumerate(owner) if o == c]].sum(0) for c in founder}
        new_groups = [
            (group_key[c], rows[open_rows[founder[c]]].item_id, new_sums[c], size[c])
            for c in founder
        ]
        for pos, c in enumerate(owner):
            r, vec = open_rows[pos], vecs[pos]
            matched: str | None
            if c in founder:
                score = float(vec @ (new_sums[c] - vec)) / (size[c] - 1) if size[c] > 1 else 0.0
                is_founder = founder[c] == pos
                kind = MatchKind.NEW if is_founder else MatchKind.PARAPHRASE
                matched = None if is_founder else rows[open_rows[founder[c]]].item_id
            else:
                score = self._sums.score(vec, keys[c])
                kind, matched = MatchKind.PARAPHRASE, self.members(keys[c])[0]
            ranked = self._suggest(vec, hits[r], group_key[c], new_groups)
            decisions[r] = MatchDecision(
                rows[r].item_id, kind, group_key[c], score, matched, ranked
            )
        for r, (earlier, kind) in copies.items():
            first = decisions[earlier]
            assert first is not None
            decisions[r] = MatchDecision(
                rows[r].item_id, kind, first.group_key, 1.0, rows[earlier].item_id
            )
        return [d for d in decisions if d is not None]

    def _suggest(
        self,
        vec: np.ndarray,
        hits: list[tuple[str, float]],
        own: str,
        new_groups: Sequence[tuple[str, str, np.ndarray, int]],
    ) -> tuple[Suggestion, ...]:
        """Best candidate groups other than ``own``: the groups near the question, and the
        groups this batch is starting (key, founder id, member sum, size)."""
        closest: dict[str, float] = {}
        for other_id, cosine in hits:
            group = self._items[other_id].group
            closest[group] = max(closest.get(group, -1.0), cosine)
        ranked = rank_groups(vec, self._sums, closest, self._groups.members, own, len(closest))
        w = SUGGEST_CLOSEST_WEIGHT
        ranked = [
            Suggestion(s.group_key, s.member_id, (1 - w) * s.score + w * closest[s.group_key])
            for s in ranked
        ]
        for key, founder_id, total, size in new_groups:
            if key != own:
                ranked.append(Suggestion(key, founder_id, float(vec @ total) / size))
        ranked.sort(key=lambda s: -s.score)
        return tuple(ranked[: self.suggestions])
