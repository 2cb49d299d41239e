"""Theme assignment: seed taxonomy, classification, discovery, staff feedback, persistence.

These use the real embedder (MiniLM int8, offline) and run in a couple of seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workers.pipeline.embedding import default_embedder
from workers.pipeline.themes import (
    Theme,
    ThemeClassifier,
    distinctive_label,
    load_seed_taxonomy,
    themes_from_records,
)

ROOT = Path(__file__).resolve().parents[1]

FIREARMS = [  # no taxonomy theme is about licensing
    "Why does renewing a shotgun certificate take over a year?",
    "The firearms licensing backlog is ridiculous, when will it be cleared?",
    "how long for a firearms licence renewal now, mine expired waiting",
]


class _Memo:
    """The real embedder, remembering vectors by text (each test re-embeds the taxonomy)."""

    def __init__(self, inner):
        self.inner, self.dim, self.name = inner, inner.dim, inner.name
        self.memo: dict[str, np.ndarray] = {}

    def embed(self, texts):
        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            self.memo.update(zip(todo, self.inner.embed(todo), strict=True))
        return np.stack([self.memo[t] for t in texts]) if texts else self.inner.embed([])


@pytest.fixture(scope="module")
def embedder():
    return _Memo(default_embedder())


@pytest.fixture(scope="module")
def taxonomy() -> list[Theme]:
    return load_seed_taxonomy()


@pytest.fixture
def clf(taxonomy, embedder) -> ThemeClassifier:
    return ThemeClassifier(taxonomy, embedder)


def test_seed_taxonomy_loads_with_the_recurring_themes(taxonomy):
    slugs = {t.slug for t in taxonomy}
    assert {
        "asb", "drugs", "rural", "roads", "burglary", "visibility", "response", "followup",
        "social_media", "encampments", "fraud", "violence", "shoplifting", "numbers",
    } <= slugs  # fmt: skip
    assert len(slugs) == len(taxonomy)
    for theme in taxonomy:
        assert theme.label and theme.description
        assert len(theme.examples) >= 4, theme.slug


def test_taxonomy_records_are_validated():
    with pytest.raises(ValueError, match="reserved"):
        Theme(slug="new:1", label="x")
    with pytest.raises(ValueError, match="duplicate"):
        themes_from_records([{"slug": "a", "label": "A"}, {"slug": "a", "label": "B"}])


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Drug dealers are selling outside the school gates every afternoon.", "drugs"),
        ("Cars come through the village at 60 in a 30 limit.", "roads"),
        ("I was on hold to 101 for an hour last night.", "response"),
        ("Caravans have pulled onto the football pitch again.", "encampments"),
        ("my shed got broken into and all the tools taken", "burglary"),
        ("Sheep were stolen from our top field near Clun.", "rural"),
        ("Someone phoned my gran pretending to be her bank.", "fraud"),
        ("Shoplifters are in the corner shop every day threatening staff.", "shoplifting"),
        ("How do I get the pothole on my road fixed?", "council"),
        ("never see a bobby on the beat round here any more", "visibility"),
    ],
)
def test_clear_questions_land_in_their_theme(clf, text, slug):
    (got,) = clf.classify([text])
    assert got.slug == slug
    assert not got.discovered
    assert got.label == clf.label(slug)


def test_unrelated_topic_is_discovered_grouped_and_labelled(clf):
    texts = [*FIREARMS, "Drug dealers are selling outside the school gates."]
    got = clf.classify(texts, ids=["m1", "m2", "m3", "d1"])
    assert all(a.discovered for a in got[:3])
    assert len({a.slug for a in got[:3]}) == 1
    assert got[0].slug.startswith("new:")
    assert {"firearms", "licensing"} & set(got[0].label.lower().replace(",", "").split())
    assert got[3].slug == "drugs"
    # re-running with the same ids is stable and adds nothing
    again = clf.classify(texts[:3], ids=["m1", "m2", "m3"])
    assert [a.slug for a in again] == [a.slug for a in got[:3]]
    info = {t.slug: t for t in clf.themes()}[got[0].slug]
    assert info.discovered and info.examples == 3


def test_learn_moves_similar_questions_and_pins_the_one_moved(clf, embedder):
    q = "Noisy dogs barking all night next door, who sorts that out?"
    vec = embedder.embed([q])
    (before,) = clf.assign(vec, [q], ["q1"])
    assert not before.discovered and before.slug != "council"
    clf.learn("council", vec[0], text=q, question_id="q1")
    (after,) = clf.assign(vec, [q], ["q1"])
    assert (after.slug, after.pinned) == ("council", True)
    assert clf.pinned("q1") == "council"
    (para,) = clf.classify(["The dog next door barks all night and keeps the street awake."])
    assert para.slug == "council"


def test_a_single_unsure_question_never_founds_a_theme(clf):
    got = clf.classify(FIREARMS[:2], ids=["m1", "m2"])
    assert not any(a.discovered for a in got)
    assert not any(t.discovered for t in clf.themes())


def test_staff_assignment_is_never_changed_by_the_classifier(clf, embedder):
    q = "Drug dealers are selling outside the school gates every afternoon."
    vec = embedder.embed([q])
    clf.learn("council", vec[0], question_id="x1")
    (got,) = clf.assign(vec, [q], ["x1"])
    assert (got.slug, got.pinned) == ("council", True)
    (other,) = clf.assign(vec, [q], ["x2"])  # same text, no staff decision
    assert other.pinned is False


def test_learn_rejects_unknown_theme_and_wrong_size(clf):
    with pytest.raises(KeyError):
        clf.learn("nope", np.ones(clf.dim, np.float32))
    with pytest.raises(ValueError):
        clf.learn("asb", np.ones(3, np.float32))


def test_labels_learning_and_discoveries_survive_a_state_round_trip(clf, embedder):
    got = clf.classify(FIREARMS, ids=["m1", "m2", "m3"])
    new_slug = got[0].slug
    clf.rename(new_slug, "Firearms licensing")
    clf.rename("asb", "ASB and nuisance")
    q = "Noisy dogs barking all night next door, who sorts that out?"
    clf.learn("asb", embedder.embed([q])[0], text=q, question_id="q1")

    state = json.loads(json.dumps(clf.to_state()))  # must be JSON-safe
    back = ThemeClassifier.from_state(state, embedder)

    assert back.label(new_slug) == "Firearms licensing"
    assert back.label("asb") == "ASB and nuisance"
    assert back.pinned("q1") == "asb"
    again = back.classify([*FIREARMS, q], ids=["m1", "m2", "m3", "q1"])
    assert [a.slug for a in again] == [new_slug] * 3 + ["asb"]
    assert again[0].label == "Firearms licensing"
    assert again[3].pinned
    fresh = "Firearms licence renewals are taking far too long, what is the delay?"
    assert back.classify([fresh])[0].slug == clf.classify([fresh])[0].slug == new_slug
    # a staff label survives the automatic relabelling that new members trigger
    assert back.classify([fresh])[0].label == "Firearms licensing"


def test_state_from_another_embedder_size_is_refused(clf):
    state = clf.to_state()
    state["dim"] = 3
    with pytest.raises(ValueError):
        ThemeClassifier.from_state(state, clf.embedder)


def test_keywords_match_word_starts_and_whole_words(embedder):
    themes = [
        Theme("camps", "Camps", "tents", ("tents on the field",), ("camp$",)),
        Theme("burg", "Burglary", "break ins", ("house broken into",), ("burgl",)),
    ]
    clf = ThemeClassifier(themes, embedder, keyword_bonus=5.0, threshold=4.0)
    got = clf.classify(["we were burgled", "a camp on the rec", "the campaign was good"])
    assert [a.slug for a in got[:2]] == ["burg", "camps"]
    assert min(a.score for a in got[:2]) >= clf.threshold
    assert got[2].score < clf.threshold  # "campaign" is not "camp": no keyword bonus


def test_distinctive_label_prefers_the_cluster_words():
    texts = ["mental health calls take hours", "mental health crisis in custody"]
    df = {"calls": 50, "hours": 40, "mental": 1, "health": 1, "crisis": 3, "custody": 10}
    assert distinctive_label(texts, df, docs=100).lower().startswith("mental health")


def test_eval_v_measure_matches_known_values():
    from bench.eval.themes import v_measure

    assert v_measure(list("aabb"), list("xxyy")) == pytest.approx((1.0, 1.0, 1.0))
    hom, com, _ = v_measure(list("aabb"), list("xyzw"))
    assert hom == pytest.approx(1.0) and com == pytest.approx(0.5)
    assert v_measure(list("aabb"), list("xxxx"))[0] == pytest.approx(0.0)


def test_a_discovered_theme_keeps_a_bounded_sample_of_its_members() -> None:
    from workers.pipeline.themes.discovery import MEMBER_SAMPLE, ThemeDiscovery

    rng = np.random.default_rng(3)
    discovery = ThemeDiscovery({}, dim=8)
    slug = discovery.new_candidate()
    total = MEMBER_SAMPLE + 50
    for n in range(total):
        discovery.add_member(slug, rng.normal(size=8), f"horse riders on verges {n}", f"q{n}")
    model = discovery.models[slug]
    assert len(model.members) == len(model.member_texts) == MEMBER_SAMPLE
    assert "q0" not in model.members and f"q{total - 1}" in model.members  # latest kept
    assert all(discovery.member_of[f"q{n}"] == slug for n in range(total))  # none forgotten


def test_one_question_is_not_enough_to_name_a_theme():
    df = {"lorem": 1, "ipsum": 1, "payload": 1}
    assert distinctive_label(["lorem ipsum test payload"], df, docs=100) == ""
    # a word from only one of the questions never makes the label
    texts = ["lorries speeding through clun payload", "lorries speeding past the school"]
    label = distinctive_label(texts, {"lorries": 1, "speeding": 2, "payload": 1}, docs=100)
    assert "lorries" in label.lower() and "payload" not in label.lower()
