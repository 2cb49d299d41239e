"""Evidence against a group as a whole: group centroids, batch settling and suggestions.

A question joins a group only when its *average* cosine to the group's members (the dot
product with the sum of their unit vectors, over their number) reaches a threshold that rises
with the size of the group. Joining on the single closest member let groups chain into
agenda-sized blobs (a blind set had groups of 22, 28 and 35 questions); average linkage does
not chain, and a large group needs stronger evidence because a stray member costs staff more
there.

A batch settles its own questions together (:func:`settle`): average-linkage agglomeration
over the batch's questions *and* the existing groups near them, where two existing groups
never merge (that is staff's call). A question that joins nothing starts its own group and
carries its best candidate groups (:func:`rank_groups`) as suggestions for staff.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Minimum average cosine between a question (or a batch cluster) and a group to join it.
#: Chosen on development data only (docs/benchmarks.md, "Grouping"): 0.55 for the models
#: trained on group1-5 to group1-17 (held-out runs on group4 and group5,
#: docs/embedding-choice.md); 0.60 for the model trained on group1-17 and group22-27, from
#: held-out runs on group28-31 (0.55, 0.60, 0.65: mean clicks 0.306, 0.264, 0.299).
DEFAULT_JOIN_THRESHOLD = 0.60
#: Extra average cosine required per doubling of the larger side's size.
DEFAULT_SIZE_STEP = 0.01
#: Candidate groups carried by a question that starts its own group.
DEFAULT_SUGGESTIONS = 3


@dataclass(frozen=True)
class Suggestion:
    """A candidate group for a question: its key, a member's id and the average cosine."""

    group_key: str
    member_id: str
    score: float

    def to_dict(self) -> dict[str, object]:
        """JSON-able form."""
        return {"group": self.group_key, "member": self.member_id, "score": self.score}


def required(threshold: float, size_step: float, size: int) -> float:
    """Average cosine needed to join a group of ``size`` (or merge with a cluster that big)."""
    return threshold + size_step * math.log2(max(size, 1))


class GroupSums:
    """Sum of the unit vectors and the number of members of every group."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.sums: dict[str, np.ndarray] = {}
        self.counts: dict[str, int] = {}

    def add(self, group: str, vec: np.ndarray) -> None:
        """Count ``vec`` in ``group``."""
        if group not in self.sums:
            self.sums[group] = np.zeros(self.dim, dtype=np.float64)
            self.counts[group] = 0
        self.sums[group] += vec
        self.counts[group] += 1

    def remove(self, group: str, vec: np.ndarray) -> None:
        """Stop counting ``vec`` in ``group``."""
        self.sums[group] -= vec
        self.counts[group] -= 1
        if self.counts[group] <= 0:
            del self.sums[group], self.counts[group]

    def score(self, vec: np.ndarray, group: str) -> float:
        """Average cosine of ``vec`` to the members of ``group``."""
        return float(vec @ self.sums[group]) / self.counts[group]


def settle(
    vecs: np.ndarray,
    fixed_sums: np.ndarray,
    fixed_counts: Sequence[int],
    threshold: float,
    size_step: float,
) -> list[int]:
    """Average-linkage clustering of a batch against fixed (existing) groups.

    ``vecs`` are the batch's unit vectors (b x d); ``fixed_sums``/``fixed_counts`` the member
    sums and sizes of the existing candidate groups (f x d). Returns, per batch question, the
    index of its cluster: ``< f`` is an existing group, ``>= f`` a new cluster (numbered by
    ``f +`` its first member's batch position). Two existing groups never merge; merges go in
    order of how far their average cosine clears :func:`required` for the larger side.
    """
    b, f_all = len(vecs), len(fixed_counts)
    if b == 0:
        return []
    counts_all = np.asarray(fixed_counts, dtype=np.float64)
    fixed_all = fixed_sums.reshape(f_all, vecs.shape[1])
    # A batch cluster's average cosine to a group is the mean of its members' averages, so a
    # group no single question reaches can never be joined: leave it out (lossless).
    if f_all:
        reach = (vecs @ fixed_all.T / counts_all).max(axis=0)
        kept = np.flatnonzero(reach >= threshold)
    else:
        kept = np.zeros(0, dtype=np.int64)
    owner = _settle(vecs, fixed_all[kept], counts_all[kept], threshold, size_step)
    f = len(kept)
    return [int(kept[o]) if o < f else f_all + (o - f) for o in owner]


def _settle(
    vecs: np.ndarray,
    fixed_sums: np.ndarray,
    fixed_counts: np.ndarray,
    threshold: float,
    size_step: float,
) -> list[int]:
    b, f = len(vecs), len(fixed_counts)
    sums = np.vstack([fixed_sums.reshape(f, vecs.shape[1]), vecs]).astype(np.float64)
    n = np.r_[np.asarray(fixed_counts, dtype=np.float64), np.ones(b)]
    m = f + b
    owner = list(range(f, m))  # batch question -> its cluster row
    gap = _gaps(sums, n, threshold, size_step)
    gap[:f, :f] = -np.inf
    np.fill_diagonal(gap, -np.inf)
    alive = np.ones(m, dtype=bool)
    while True:
        flat = int(np.argmax(gap))
        i, j = divmod(flat, m)
        if not gap[i, j] >= 0:
            break
        keep, gone = (i, j) if i < j else (j, i)  # an existing group (lower row) absorbs
        sums[keep] += sums[gone]
        n[keep] += n[gone]
        alive[gone] = False
        owner = [keep if o == gone else o for o in owner]
        row = _gaps(sums[keep : keep + 1], n[keep : keep + 1], threshold, size_step, sums, n)[0]
        row[~alive] = -np.inf
        row[keep] = -np.inf
        if keep < f:
            row[:f] = -np.inf
        gap[keep, :] = row
        gap[:, keep] = row
        gap[gone, :] = -np.inf
        gap[:, gone] = -np.inf
    return owner


def _gaps(
    a_sums: np.ndarray,
    a_n: np.ndarray,
    threshold: float,
    size_step: float,
    b_sums: np.ndarray | None = None,
    b_n: np.ndarray | None = None,
) -> np.ndarray:
    """Average cosine minus the required one, for every pair of clusters of a and b."""
    if b_sums is None or b_n is None:
        b_sums, b_n = a_sums, a_n
    avg = (a_sums @ b_sums.T) / np.outer(a_n, b_n)
    bigger = np.maximum.outer(a_n, b_n)
    return avg - (threshold + size_step * np.log2(np.maximum(bigger, 1.0)))


def rank_groups(
    vec: np.ndarray,
    sums: GroupSums,
    candidates: Iterable[str],
    members: Mapping[str, list[str]],
    exclude: str,
    limit: int,
) -> list[Suggestion]:
    """The ``limit`` candidate groups (not ``exclude``) with the best average cosine to ``vec``."""
    scored = [
        (sums.score(vec, g), g)
        for g in set(candidates)
        if g != exclude and g in sums.sums and members.get(g)
    ]
    scored.sort(reverse=True)
    return [Suggestion(g, members[g][0], s) for s, g in scored[:limit]]
