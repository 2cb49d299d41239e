"""One theme per duplicate group: the vote, and the pipeline applying it."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from bench.eval.theme_sets import ADDED, taxonomy
from workers.pipeline.embedding import default_embedder
from workers.pipeline.engine import Item, Pipeline
from workers.pipeline.themes import ThemeClassifier, load_seed_taxonomy, shipped_theme_head
from workers.pipeline.themes.groups import group_theme

ROOT = Path(__file__).resolve().parents[1]


def test_the_most_common_theme_wins_and_a_tie_goes_to_the_earlier_member() -> None:
    assert group_theme(["roads", "asb", "asb"]) == "asb"
    assert group_theme(["roads", "asb"]) == "roads"
    assert group_theme(["asb", "roads"]) == "asb"
    assert group_theme([None, "drugs", None]) == "drugs"
    assert group_theme([None]) is None
    assert group_theme([]) is None


def test_staff_themes_outvote_the_classifier() -> None:
    assert group_theme(["roads", "roads", "roads"], staff=["nuisance_vehicles"]) == (
        "nuisance_vehicles"
    )
    assert group_theme(["roads"], staff=["asb", "drugs", "drugs"]) == "drugs"


@pytest.fixture(scope="module")
def embedder():
    return default_embedder()


def test_members_of_every_group_share_one_theme(embedder) -> None:
    rows = [
        json.loads(line)
        for line in (ROOT / "bench/data/policing_questions.jsonl").read_text().splitlines()[:150]
    ]
    pipeline = Pipeline(embedder=embedder)
    items = [Item(id=r["id"], text=r["text"], location=r["location"]) for r in rows]
    out = pipeline.analyse(items[:100]) + pipeline.analyse(items[100:])
    by_group: dict[str, set[str]] = defaultdict(set)
    for a in out:
        if a.forwarded and a.theme is not None:
            by_group[a.match.group_key].add(a.theme.slug)
            assert pipeline.dedupe.theme_of(a.id) == a.theme.slug
    assert sum(1 for g in by_group if len(pipeline.dedupe.members(g)) > 1) >= 10
    assert all(len(slugs) == 1 for slugs in by_group.values()), by_group


def test_a_question_joining_a_group_takes_the_staff_theme_of_its_members(embedder) -> None:
    pipeline = Pipeline(embedder=embedder)
    first = Item(id="1", text="Cars race through the village at night far above the limit.")
    (a,) = pipeline.analyse([first])
    assert a.theme is not None and a.theme.slug == "roads"
    pipeline.learn_theme("1", "asb", a.vector, first.text)
    again = Item(id="2", text="cars racing through the village at night way over the limit")
    (b,) = pipeline.analyse([again])
    assert b.match.group_key == a.match.group_key
    assert b.theme is not None and b.theme.slug == "asb"
    assert not b.theme.pinned and not b.theme.discovered


def test_newcomers_of_one_batch_do_not_outvote_the_theme_an_earlier_member_was_given(
    embedder,
) -> None:
    pipeline = Pipeline(embedder=embedder)
    first = Item(id="1", text="Cars race through the village at night far above the limit.")
    (a,) = pipeline.analyse([first])
    assert a.theme is not None and a.theme.slug == "roads"
    pipeline.dedupe.set_theme("1", "rural")  # as if an earlier vote had given it this theme
    b, c = pipeline.analyse([
        Item(id="2", text="cars racing through the village at night way over the limit"),
        Item(id="3", text="Cars race through our village at night, far above the limit!"),
    ])  # fmt: skip
    assert b.match.group_key == c.match.group_key == a.match.group_key
    assert [x.theme.slug for x in (b, c) if x.theme is not None] == ["rural", "rural"]
    assert pipeline.dedupe.theme_of("1") == "rural"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Someone is setting gin traps for the otters along the brook.", "wildlife"),
        ("Is anyone ever prosecuted for fly-tipping in the lanes?", "fly_tipping"),
        ("Lads on off-road bikes tear round the recreation ground at night.", "asb"),
        ("Officers wait hours in A&E with people in a mental health crisis.", "mental_health"),
        ("How many of the new recruits leave the force within two years?", "workforce"),
        ("My sister's husband checks her phone and won't let her see friends.", "domestic_abuse"),
        ("My neighbour gets abuse because he is gay. Is that a hate crime?", "hate_crime"),
        ("Could the school liaison officer come back to our secondary school?", "young_people"),
        ("An officer was rude to me at the station. Where do I make a complaint?", "trust"),
    ],
)
def test_questions_land_in_the_added_themes(embedder, text: str, slug: str) -> None:
    clf = ThemeClassifier(load_seed_taxonomy(), embedder, head=shipped_theme_head(embedder))
    (got,) = clf.classify([text])
    assert got.slug == slug


def test_a_dropped_added_theme_folds_back_into_the_theme_it_came_from() -> None:
    full = {t.slug: t for t in load_seed_taxonomy()}
    folded = {t.slug: t for t in taxonomy(frozenset({"wildlife"}))}
    assert set(full) - set(folded) == set(ADDED) - {"wildlife"}
    assert folded["wildlife"] == full["wildlife"]
    assert set(full["fly_tipping"].examples) <= set(folded["rural"].examples)
    assert set(full["domestic_abuse"].keywords) <= set(folded["violence"].keywords)
    assert not set(full["wildlife"].examples) & set(folded["rural"].examples)


def test_the_leave_one_set_out_replay_gives_the_pipelines_themes(embedder, tmp_path) -> None:
    from bench.eval.blind import load, run
    from bench.eval.theme_sets import Setting, capture, predict

    lines = (ROOT / "bench/data/policing_questions.jsonl").read_text().splitlines()[:300]
    path = tmp_path / "part.jsonl"
    path.write_text("\n".join(lines) + "\n")
    captured = capture(path, "dup_group", Pipeline(embedder=embedder))
    replayed = predict(captured, Setting(frozenset(ADDED)), embedder)
    out = run(load(path, "dup_group"), Pipeline(embedder=embedder))
    assert replayed == [str(o["theme"]) for o in out]
    # the replay of the earlier setting (no vote) differs where a group outvoted a member
    assert predict(captured, Setting(frozenset(ADDED), vote=False), embedder) != replayed


def test_the_shipped_head_is_used_by_the_pipeline_only_with_its_own_model(embedder) -> None:
    head = shipped_theme_head(embedder)
    assert head is not None and head.embedder == embedder.name
    assert set(head.classes) == {t.slug for t in load_seed_taxonomy()}
    assert Pipeline(embedder=embedder).classifier.head is head

    class Other:
        name, dim = "another-model", embedder.dim

        def embed(self, texts):
            return embedder.embed(texts)

    assert shipped_theme_head(Other()) is None


def test_a_theme_staff_added_wins_its_questions_against_the_head(embedder) -> None:
    from workers.pipeline.themes import Theme

    licensing = Theme(
        "licensing",
        "Firearms licensing",
        "Shotgun and firearms certificates: applications, renewals and delays.",
        ("How long does a shotgun certificate renewal take?",),
    )
    head = shipped_theme_head(embedder)
    assert head is not None and "licensing" not in head.classes
    clf = ThemeClassifier([*load_seed_taxonomy(), licensing], embedder, head=head)
    q = "My firearms certificate ran out while I waited eight months for the renewal."
    (got,) = clf.classify([q])
    assert got.slug == "licensing"
    assert ThemeClassifier(load_seed_taxonomy(), embedder, head=head).classify([q])[0].score < (
        got.score
    )


def test_a_staff_decision_outweighs_the_head_for_close_questions(embedder) -> None:
    clf = ThemeClassifier(load_seed_taxonomy(), embedder, head=shipped_theme_head(embedder))
    q = "Noisy dogs barking all night next door, who sorts that out?"
    (before,) = clf.classify([q])
    assert before.slug != "council"
    clf.learn("council", embedder.embed([q])[0], text=q, question_id="q1")
    (para,) = clf.classify(["The dog next door barks all night and keeps the street awake."])
    assert para.slug == "council"
