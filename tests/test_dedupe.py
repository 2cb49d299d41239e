"""Question matching: exact, near-exact and paraphrase, staff feedback, persistence, index cost."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from workers.pipeline.dedupe import (
    DedupeIndex,
    MatchDecision,
    MatchKind,
    mask_location,
    match_pair,
)
from workers.pipeline.embedding import Embedder, default_embedder
from workers.pipeline.normalise import normalise
from workers.pipeline.vector_index import VectorIndex

ADVANCE = [
    (
        "a1",
        "How long does it take to get through on 101? I waited 40 minutes last week",
        "Telford",
    ),
    ("a2", "What is being done about drug dealing in Castle Park?", "Ludlow"),
    ("a3", "Why is nobody patrolling Ludlow town centre at night?", "Ludlow"),
    ("a4", "How much did the new police headquarters cost?", "Worcester"),
    ("a5", "Speeding on the A49 is out of control, when will there be speed checks?", "Ludlow"),
]
THEMES = {"a1": "response", "a2": "drugs", "a3": "visibility", "a4": "numbers", "a5": "roads"}
LIVE_101 = "101 waits far too long, rang 3 times and gave up"


@pytest.fixture(scope="module")
def emb() -> Embedder:
    return default_embedder()


def make_index(emb: Embedder) -> DedupeIndex:
    index = DedupeIndex(embedder=emb)
    for item_id, text, place in ADVANCE:
        theme = THEMES[item_id]
        d = index.place(item_id, normalise(text).match_text, location=place, theme=theme)
        assert d.kind is MatchKind.NEW
    return index


def place(
    index: DedupeIndex,
    item_id: str,
    text: str,
    where: str | None = None,
    theme: str | None = None,
) -> MatchDecision:
    n = normalise(text)
    return index.place(item_id, n.match_text, location=where, text_hash=n.hash, theme=theme)


# --- place names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "location", "expected"),
    [
        ("why is nobody patrolling ludlow at night", "Ludlow", "why is nobody patrolling at night"),
        ("speeding in stourport on severn again", "Stourport-on-Severn", "speeding in again"),
        ("speeding in stourport again", "Stourport-on-Severn", "speeding in again"),
        ("ludlow road is a rat run", None, "ludlow road is a rat run"),
        ("resources go to telford not ludlow", "Ludlow", "resources go to telford not"),
        ("ludlowshire is not ludlow", "Ludlow", "ludlowshire is not"),
    ],
)
def test_mask_location(text: str, location: str | None, expected: str) -> None:
    assert mask_location(text, location) == expected


# --- decisions with the real model ----------------------------------------------------------


def test_exact_resubmission(emb: Embedder) -> None:
    index = make_index(emb)
    d = place(index, "x1", "Why is nobody patrolling LUDLOW town centre at night??", "Ludlow")
    assert (d.kind, d.group_key, d.matched_item_id, d.score) == (MatchKind.EXACT, "a3", "a3", 1.0)


def test_typo_resubmission_is_near(emb: Embedder) -> None:
    index = make_index(emb)
    d = place(index, "x1", "why is noboby patroling ludlow town center at night", "Ludlow")
    assert d.kind is MatchKind.NEAR
    assert d.group_key == "a3"
    assert 0.9 <= d.score < 1.0


def test_same_question_about_another_place_joins_but_keeps_its_place(emb: Embedder) -> None:
    index = make_index(emb)
    d = place(
        index, "x1", "Why is nobody patrolling Bromsgrove town centre at night?", "Bromsgrove"
    )
    assert (d.kind, d.group_key, d.score) == (MatchKind.NEAR, "a3", 1.0)
    rows = {row["id"]: row for row in index.to_state()["items"]}
    assert rows["x1"]["location"] == "Bromsgrove"
    assert rows["a3"]["location"] == "Ludlow"


@pytest.mark.parametrize(
    ("live", "theme", "advance_id"),
    [
        (LIVE_101 + " #PCCLive", "response", "a1"),
        (
            "dealers selling drugs in castle park every evening, what are the police doing?",
            "drugs",
            "a2",
        ),
        ("When will the police do speed enforcement on the A49?", None, "a5"),
    ],
)
def test_live_comment_matches_advance_question_on_the_same_point(
    emb: Embedder, live: str, theme: str | None, advance_id: str
) -> None:
    index = make_index(emb)
    d = place(index, "live1", live, "Worcester", theme)
    assert d.kind is MatchKind.PARAPHRASE
    assert d.group_key == advance_id
    assert d.matched_item_id == advance_id
    assert d.score >= index.join_threshold


def _unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_no_chaining_a_question_must_be_close_to_the_group_as_a_whole() -> None:
    """Close to one member (cos 0.8) but not to the group's average: a group of its own."""
    index = DedupeIndex(3, join_threshold=0.6, size_step=0.0)
    a, b = _unit(1, 0, 0), _unit(0.6, 0.8, 0)  # cos(a, b) = 0.6: b joins a
    assert index.place("a", "a", a).kind is MatchKind.NEW
    assert index.place("b", "b", b).group_key == "a"
    c = _unit(0, 1, 0.35)  # cos(b, c) ~0.76, cos(a, c) = 0: average ~0.38
    d = index.place("c", "c", c)
    assert (d.kind, d.group_key) == (MatchKind.NEW, "c")
    assert d.suggestions and d.suggestions[0].group_key == "a"
    # ranked by the average (~0.38) blended with the closest member (~0.76)
    assert 0.5 < d.suggestions[0].score < 0.6


def test_a_large_group_needs_stronger_evidence() -> None:
    lenient = DedupeIndex(2, join_threshold=0.5, size_step=0.0)
    strict = DedupeIndex(2, join_threshold=0.5, size_step=0.1)
    for index in (lenient, strict):
        for n in range(8):
            index.place(f"m{n}", f"m{n}", _unit(1, 0))
    probe = _unit(1, 1.1)  # cosine ~0.67 with every member; 0.5 + 0.1 * log2(8) = 0.8
    assert lenient.place("p", "p", probe).group_key == "m0"
    assert strict.place("p", "p", probe).kind is MatchKind.NEW


def test_a_batch_settles_together_whatever_its_order() -> None:
    vecs = {"x": _unit(1, 0.1, 0), "y": _unit(1, -0.1, 0), "z": _unit(0, 0, 1)}
    groups = []
    for order in (["x", "y", "z"], ["z", "y", "x"]):
        index = DedupeIndex(3, join_threshold=0.6)
        index.place_batch([(k, k, vecs[k], None, None) for k in order])
        groups.append(sorted(sorted(m) for m in index.groups().values()))
    assert groups[0] == groups[1] == [["x", "y"], ["z"]]


def test_new_question_carries_three_scored_suggestions(emb: Embedder) -> None:
    index = make_index(emb)
    index.join_threshold = 0.95  # nothing joins
    d = place(index, "x1", LIVE_101)
    assert d.kind is MatchKind.NEW
    assert len(d.suggestions) == 3
    assert d.suggestions[0].group_key == "a1"
    scores = [s.score for s in d.suggestions]
    assert scores == sorted(scores, reverse=True)
    assert index.decision_of("x1").suggestions == d.suggestions


def test_unrelated_question_starts_a_new_group(emb: Embedder) -> None:
    index = make_index(emb)
    d = place(index, "x1", "Why has the council closed the public toilets in the market square?")
    assert (d.kind, d.group_key, d.matched_item_id) == (MatchKind.NEW, "x1", None)
    assert d.score < index.join_threshold


def test_slang_paraphrase(emb: Embedder) -> None:
    # slang becomes plain words in the match text: joined, or at least the first suggestion
    index = DedupeIndex(embedder=emb)
    place(index, "a1", "why do I never see an officer in Ludlow?", "Ludlow", theme="visibility")
    decision = place(index, "l1", "where are all the bobbies?", "Ludlow", theme="visibility")
    assert "a1" in (decision.group_key, decision.suggestions[0].group_key)


def test_decide_does_not_record(emb: Embedder) -> None:
    index = make_index(emb)
    d = index.decide("x1", normalise("What is being done about drug dealing?").match_text)
    assert "x1" not in index
    assert len(index) == len(ADVANCE)
    assert d.kind in (MatchKind.PARAPHRASE, MatchKind.NEW)


def test_place_many_matches_sequential_placement(emb: Embedder) -> None:
    batch = DedupeIndex(embedder=emb)
    rows = [(i, normalise(t).match_text, p) for i, t, p in ADVANCE]
    typo = normalise("why is noboby patroling ludlow town center at night").match_text
    rows.append(("x1", typo, "Ludlow"))
    decisions = batch.place_many(rows)
    assert [d.kind for d in decisions] == [MatchKind.NEW] * len(ADVANCE) + [MatchKind.NEAR]
    assert decisions[-1].group_key == "a3"


# --- staff decisions win --------------------------------------------------------------------


def test_placed_item_is_never_rehomed(emb: Embedder) -> None:
    index = make_index(emb)
    first = place(index, "x1", LIVE_101, theme="response")
    again = place(index, "x1", "How much did the new police headquarters cost?")
    assert again == first
    assert index.members("a4") == ["a4"]


def test_pin_moves_item_and_later_matches_follow_it(emb: Embedder) -> None:
    index = make_index(emb)
    # staff decide the patrol question belongs with the drug-dealing point
    index.pin("a3", "a2")
    assert index.group_of("a3") == "a2"
    assert index.members("a2") == ["a2", "a3"]
    assert index.members("a3") == []
    d = place(index, "x1", "why is noboby patroling ludlow town center at night", "Ludlow")
    assert (d.kind, d.matched_item_id, d.group_key) == (MatchKind.NEAR, "a3", "a2")
    assert place(
        index, "x2", "Why is nobody patrolling Ludlow town centre at night?"
    ).group_key == ("a2")
    with pytest.raises(KeyError):
        index.pin("a3", "no-such-group")


def test_split_is_kept_and_cannot_link_recorded(emb: Embedder) -> None:
    index = make_index(emb)
    live = place(index, "l1", LIVE_101, "Worcester", "response")
    assert live.group_key == "a1"
    new_key = index.split("l1")
    assert new_key == "l1"
    assert index.group_of("l1") == "l1"
    assert not index.can_link("a1", "l1")
    assert index.members("a1") == ["a1"]
    # a later worker run never puts it back
    assert place(index, "l1", LIVE_101, theme="response").group_key == "l1"
    # a resubmission of the split question follows it, not the group it left
    d = place(index, "l2", "101 waits far to long, rang 3 times and gave up!", "Malvern")
    assert (d.kind, d.group_key) == (MatchKind.NEAR, "l1")
    # a new paraphrase of the advance question still goes to the advance group
    d = place(index, "l3", "How long does it take to get through on 101? I waited 45 minutes")
    assert d.group_key == "a1"


def test_split_of_a_group_founder_gets_a_fresh_key(emb: Embedder) -> None:
    index = make_index(emb)
    place(index, "l1", LIVE_101, theme="response")
    key = index.split("a1")
    assert key == "a1#2"
    assert index.members("a1") == ["l1"]
    assert index.members("a1#2") == ["a1"]
    assert not index.can_link("a1", "a1#2")
    resubmitted = "How long does it take to get through on 101? I waited 40 minutes last week!"
    assert place(index, "x1", resubmitted).group_key == "a1#2"  # follows the founder


def test_staff_merge_lifts_cannot_link(emb: Embedder) -> None:
    index = make_index(emb)
    place(index, "l1", LIVE_101, theme="response")
    index.split("l1")
    index.merge("l1", "a1")
    assert index.can_link("a1", "l1")
    assert index.group_of("l1") == "a1"


# --- persistence ----------------------------------------------------------------------------


def test_state_round_trip(emb: Embedder) -> None:
    index = make_index(emb)
    place(index, "l1", LIVE_101, "Worcester", "response")
    place(index, "l2", "Why is nobody patrolling Bromsgrove town centre at night?", "Bromsgrove")
    index.split("l1")
    index.pin("a4", "a2")
    state = index.to_state()
    assert isinstance(state["vectors"], bytes)
    wire = json.dumps({**state, "vectors": base64.b64encode(state["vectors"]).decode()})
    loaded = json.loads(wire)
    loaded["vectors"] = base64.b64decode(loaded["vectors"])
    restored = DedupeIndex.from_state(loaded, embedder=emb)
    assert restored.groups() == index.groups()
    assert not restored.can_link("a1", "l1")
    for item_id in ("a1", "l1", "l2", "a4"):
        assert restored.decision_of(item_id) == index.decision_of(item_id)
    for i, text in enumerate(
        [
            "dealers selling drugs in castle park every evening, what are the police doing?",
            "How much did the new police headquarters cost?",
            "101 waits far to long, rang 3 times and gave up!",
            "Will there be more speed cameras on the A49?",
        ]
    ):
        theme = "response" if i == 2 else None
        assert place(restored, f"n{i}", text, theme=theme) == place(
            index, f"n{i}", text, theme=theme
        )
    with pytest.raises(ValueError):
        DedupeIndex.from_state({**state, "version": 99})
    empty = DedupeIndex.from_state(DedupeIndex(embedder=emb).to_state(), embedder=emb)
    assert len(empty) == 0 and empty.groups() == {}
    assert place(empty, "z", "Where are the police?").kind is MatchKind.NEW


def test_match_pair_without_the_index() -> None:
    assert match_pair("a b c", "a b c", 0.1) == (MatchKind.NEAR, 1.0)
    kind, score = match_pair("why no police at night", "police budget question", 0.8)
    assert (kind, score) == (MatchKind.PARAPHRASE, 0.8)
    assert match_pair("a", "b", 0.5, paraphrase_threshold=0.4)[0] is MatchKind.PARAPHRASE
    assert match_pair("why no police at night", "police budget question", 0.2)[0] is MatchKind.NEW


def test_place_without_embedding_or_embedder_is_an_error() -> None:
    with pytest.raises(ValueError):
        DedupeIndex().place("x", "some text")


# --- the vector index -----------------------------------------------------------------------


def unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_vector_index_basics() -> None:
    vecs = unit_vectors(50, 8)
    index = VectorIndex(8)
    assert index.search(vecs[0], 3) == []
    index.add_many([f"k{i}" for i in range(50)], vecs)
    assert len(index) == 50 and "k7" in index and "nope" not in index
    hits = index.search(vecs[7], 3)
    assert hits[0][0] == "k7" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    brute = np.argsort(-(vecs @ vecs[7]))[:3]
    assert [k for k, _ in hits] == [f"k{i}" for i in brute]
    np.testing.assert_allclose(index.get("k3"), vecs[3], atol=1e-6)
    with pytest.raises(KeyError):
        index.add("k1", vecs[1])
    with pytest.raises(ValueError):
        index.add("bad", np.ones(5))


def test_vector_index_bytes_round_trip_and_determinism() -> None:
    vecs = unit_vectors(3000, 16, seed=1)
    queries = unit_vectors(20, 16, seed=2)
    a, b = VectorIndex(16, exact_below=0), VectorIndex(16, exact_below=0)
    for index in (a, b):
        index.add_many([str(i) for i in range(len(vecs))], vecs)
    c = VectorIndex.from_bytes(a.to_bytes())
    assert len(c) == 3000 and c.keys() == a.keys()
    tuned = VectorIndex(16, expansion_search=17, expansion_add=33)
    tuned.add_many(["a", "b"], vecs[:2])
    back = VectorIndex.from_bytes(tuned.to_bytes())
    assert (back.expansion_search, back.expansion_add) == (17, 33)
    assert (back._index.expansion_search, back._index.expansion_add) == (17, 33)
    for q in queries:
        assert a.search(q, 5) == b.search(q, 5) == c.search(q, 5)
    c.add("new", queries[0])
    assert c.search(queries[0], 1)[0][0] == "new"
    assert VectorIndex.from_bytes(VectorIndex(4).to_bytes()).search(np.ones(4), 2) == []
    with pytest.raises(ValueError):
        VectorIndex.from_bytes(b"garbage-garbage")


def test_vector_index_search_cost_stays_flat_as_it_grows() -> None:
    """Distances computed per search grow ~logarithmically, not with the number of items."""
    dim = 16
    vecs = unit_vectors(12_000, dim, seed=3)
    queries = unit_vectors(50, dim, seed=4)
    index = VectorIndex(dim, exact_below=0, expansion_add=64)
    cost = {}
    for size in (750, 12_000):
        index.add_many([str(i) for i in range(len(index), size)], vecs[len(index) : size])
        per_query = []
        for q in queries:
            index.search(q, 10)
            per_query.append(index.last_search_cost)
        cost[size] = float(np.mean(per_query))
    assert cost[12_000] < 3 * cost[750]  # 16x the items, far less than 16x the work (~2.1x)
    assert cost[12_000] < 12_000 / 10


def test_small_index_searches_exactly() -> None:
    index = VectorIndex(8)  # default exact_below=2048
    vecs = unit_vectors(300, 8, seed=5)
    index.add_many([str(i) for i in range(300)], vecs)
    q = unit_vectors(1, 8, seed=6)[0]
    got = [k for k, _ in index.search(q, 10)]
    assert got == [str(i) for i in np.argsort(-(vecs @ q))[:10]]
    assert index.last_search_cost == 300


def test_a_welsh_question_never_joins_on_its_vector() -> None:
    # Four Welsh questions on four asks, with vectors as close as the English model makes
    # them: each starts its own group; an exact copy still joins its first.
    index = DedupeIndex(2, join_threshold=0.5, size_step=0.0)
    welsh = [
        "mae lladron yn dwyn defaid o'r bryniau, beth mae'r heddlu yn ei wneud",
        "pryd fydd yr heddlu yn gwneud rhywbeth am geir yn gyrru yn rhy gyflym",
        "oes modd cysylltu a heddlu gorllewin mercia yn gymraeg",
        "pam nad oes heddlu yn nhrefyclo",
    ]
    rows = [(f"w{n}", text, np.array([1.0, 0.0]), None, None) for n, text in enumerate(welsh)]
    rows.append(("copy", welsh[0], np.array([1.0, 0.0]), None, None))
    rows.append(("en", "why are sheep being stolen near clun", np.array([0.0, 1.0]), None, None))
    rows.append(("en2", "what is done about sheep rustling", np.array([0.0, 1.0]), None, None))
    decisions = {d.item_id: d for d in index.place_batch(rows)}
    assert len({decisions[f"w{n}"].group_key for n in range(4)}) == 4
    assert all(decisions[f"w{n}"].kind == MatchKind.NEW for n in range(4))
    assert decisions["copy"].group_key == decisions["w0"].group_key
    assert decisions["en2"].group_key == decisions["en"].group_key  # English still joins
    # and later, one at a time
    later = index.place("w9", "beth mae'r heddlu yn ei wneud am gyffuriau", np.array([1.0, 0.0]))
    assert later.kind == MatchKind.NEW
