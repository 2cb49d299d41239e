"""Per-meeting grouping of questions that ask the same thing, with staff feedback.

A :class:`DedupeIndex` holds every question of one meeting that has been placed in a group.
Placing questions returns one :class:`MatchDecision` each:

* ``exact`` -- the same normalised text (same hash) as an earlier question;
* ``near`` -- a resubmission or typo: the place-masked texts are equal, or their rapidfuzz
  ``ratio`` with one of the nearest earlier questions is at least ``near_threshold``;
* ``paraphrase`` -- evidence against the *group as a whole*: the question's average cosine to
  the group's members reaches ``join_threshold`` (plus ``size_step`` per doubling of the
  group's size: a large group needs stronger evidence). A batch is settled together by
  average linkage, within the batch and against the groups near it
  (:mod:`workers.pipeline.grouping`); existing groups never merge on their own;
* ``new`` -- none of these: the question starts its own group, keyed by its own id, and
  carries its best candidate groups as ``suggestions`` for staff.

Joining on the single closest member chained groups together (a blind set had groups of 22-35
questions where the asks had 2-3); average linkage does not chain.

Candidates come from an HNSW :class:`~workers.pipeline.vector_index.VectorIndex` (the groups
of the nearest questions), so the cost of placing a question stays flat as a meeting grows.

Places: "the same question about a different place is still the same question", so the caller's
``location`` is masked out of the text before embedding and lexical comparison
(:func:`mask_location`); the place itself stays on the caller's record.

Staff decisions win. :meth:`DedupeIndex.pin` (move or merge an item into a group) and
:meth:`DedupeIndex.split` (take an item out into its own group) are never undone by the worker:
an item already placed is never re-homed, a split records a cannot-link between the new group
and the one it left, and a moved question counts towards its new group's centroid, so later
questions like it are drawn there.

One index serves one meeting and is not thread-safe; persist it with
:meth:`DedupeIndex.to_state` and reload it with :meth:`DedupeIndex.from_state`.

Modules: :mod:`.index` (:class:`DedupeIndex`), :mod:`.planner` (how a batch is settled
against the groups), :mod:`.records` (what the index remembers of each question and group).
"""

from workers.pipeline.dedupe.index import DedupeIndex
from workers.pipeline.dedupe.planner import BatchRow
from workers.pipeline.grouping import DEFAULT_JOIN_THRESHOLD, DEFAULT_SIZE_STEP, Suggestion
from workers.pipeline.match_rules import (
    DEFAULT_NEAR_THRESHOLD,
    MatchDecision,
    MatchKind,
    mask_location,
    match_pair,
    pair_features,
)

__all__ = [
    "DEFAULT_JOIN_THRESHOLD",
    "DEFAULT_NEAR_THRESHOLD",
    "DEFAULT_SIZE_STEP",
    "BatchRow",
    "DedupeIndex",
    "MatchDecision",
    "MatchKind",
    "Suggestion",
    "mask_location",
    "match_pair",
    "pair_features",
]
