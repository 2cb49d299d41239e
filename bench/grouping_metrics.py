"""What grouping costs staff: clicks to reach the right grouping, and suggestion accuracy.

* :func:`staff_clicks`: from a predicted grouping to the true one, one *move* per question
  outside its predicted group's majority ask, plus one *merge* per extra predicted group whose
  majority is the same ask; compared with grouping by hand (questions - asks).
* :func:`top3_accuracy`: for a question whose ask already had an earlier question, is a group
  holding such a question among its three candidates (its own group if it joined one, then its
  suggestions)?
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

from bench.metrics import adjusted_rand_index, clustering_pair_prf, v_measure


@dataclass(frozen=True)
class Clicks:
    """Staff clicks from a predicted grouping to the true one."""

    moves: int
    merges: int
    by_hand: int

    @property
    def total(self) -> int:
        """Moves plus merges."""
        return self.moves + self.merges

    @property
    def share(self) -> float:
        """Clicks as a share of grouping by hand (lower is better; 1.0 saves nothing)."""
        return self.total / self.by_hand if self.by_hand else 0.0


def staff_clicks(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> Clicks:
    """Moves + merges needed to turn ``pred`` into ``truth`` (see the module docstring)."""
    members: dict[Hashable, Counter[Hashable]] = {}
    for t, p in zip(truth, pred, strict=True):
        members.setdefault(p, Counter())[t] += 1
    moves = 0
    majority_of: Counter[Hashable] = Counter()
    for counts in members.values():
        ask, top = max(counts.items(), key=lambda kv: (kv[1], str(kv[0])))
        moves += sum(counts.values()) - top
        majority_of[ask] += 1
    merges = sum(n - 1 for n in majority_of.values())
    return Clicks(moves, merges, len(truth) - len(set(truth)))


def top3_accuracy(
    order: Sequence[str],
    ask: Mapping[str, Hashable],
    group: Mapping[str, str],
    joined: Mapping[str, bool],
    suggestions: Mapping[str, Sequence[str]],
    k: int = 3,
    only: Collection[str] | None = None,
) -> tuple[float, int]:
    """(share of hits, questions counted) as described in the module docstring.

    ``order`` is arrival order; ``group`` the final group of each placed question; ``joined``
    whether it joined an existing group; ``suggestions`` its candidate group keys, best first.
    ``only``: count these questions alone (the others still arrive before them).
    """
    seen_in: dict[Hashable, set[str]] = {}  # ask -> ids that arrived earlier
    hits = counted = 0
    for qid in order:
        a = ask[qid]
        earlier = seen_in.setdefault(a, set())
        if earlier and qid in group and (only is None or qid in only):
            candidates = ([group[qid]] if joined.get(qid) else []) + list(suggestions.get(qid, []))
            right = {group[e] for e in earlier if e in group}
            counted += 1
            hits += bool(right & set(candidates[:k]))
        if qid in group:
            earlier.add(qid)
    return (hits / counted if counted else 0.0), counted


def pair_recall_of(
    truth: Sequence[Hashable], pred: Sequence[Hashable], subset: Collection[int]
) -> tuple[float, int]:
    """(recall, pairs) over the true pairs with at least one member in ``subset`` (positions):
    how many of them share a predicted group."""
    together = pairs = 0
    for i in subset:
        for j in range(len(truth)):
            if j != i and truth[j] == truth[i] and (j not in subset or j > i):
                pairs += 1
                together += pred[j] == pred[i]
    return (together / pairs if pairs else 0.0), pairs


def grouping_figures(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> dict[str, float]:
    """Staff clicks with pair P/R/F1, V-measure and ARI beside them."""
    clicks = staff_clicks(truth, pred)
    pair = clustering_pair_prf(truth, pred)
    _, _, v = v_measure(truth, pred)
    sizes = sorted(Counter(pred).values(), reverse=True)
    return {
        "questions": len(truth),
        "asks": len(set(truth)),
        "groups": len(set(pred)),
        "largest_groups": sizes[:3],
        "moves": clicks.moves,
        "merges": clicks.merges,
        "clicks": clicks.total,
        "by_hand": clicks.by_hand,
        "clicks_share": clicks.share,
        "pair_precision": pair.precision,
        "pair_recall": pair.recall,
        "pair_f1": pair.f1,
        "v_measure": v,
        "ari": adjusted_rand_index(truth, pred),
    }
