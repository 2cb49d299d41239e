"""A Welsh question is read through its English gloss: mutations, phrases, coverage, pipeline."""

from __future__ import annotations

import pytest

from workers.pipeline.engine import Item, Pipeline
from workers.pipeline.language import model_cannot_read
from workers.pipeline.normalise import normalise
from workers.pipeline.welsh import (
    as_read,
    gloss,
    is_welsh,
    load_glossary,
    parse_glossary,
    read_welsh,
    unmutated,
)

SMALL = parse_glossary(
    "pam\twhy\n"
    "nad\tnot\n"
    "oes\tis there\n"
    "heddlu\tpolice\n"
    "plismon\tpoliceman\n"
    "ymddygiad gwrthgymdeithasol\tanti-social behaviour\n"
    "ymddygiad\tbehaviour\n"
    "yn\t\n"
    "yr\tthe\n"
    "tref\ttown\n"
    "tŷ\thouse\n"
    "mae\tis\n"
    "ceir\tcars\n"
    "cyflym\tfast\n"
    "gyda\twith\n"
)


@pytest.mark.parametrize(
    ("mutated", "original"),
    [
        ("mhlismon", "plismon"),  # nasal
        ("blismon", "plismon"),  # soft
        ("phlismon", "plismon"),  # aspirate
        ("nhref", "tref"),  # nasal
        ("dref", "tref"),  # soft
        ("wyddoch", "gwyddoch"),  # soft: g is lost
        ("heddlu", "eddlu"),  # h before a vowel
    ],
)
def test_each_mutation_is_undone(mutated: str, original: str) -> None:
    assert original in set(unmutated(mutated))


def test_phrases_first_mutations_clitics_and_unknown_words_kept() -> None:
    text = "Pam nad oes plismon yn Nhref-y-clawdd? Mae'r ymddygiad gwrthgymdeithasol"
    reading = gloss(text, SMALL)
    assert reading.gloss == (
        "why not is there policeman town y clawdd is the anti-social behaviour"
    )
    # y and clawdd are unknown: 10 of 12 words known
    assert reading.known == pytest.approx(10 / 12)


def test_accents_are_read_as_the_normalised_text_has_them() -> None:
    assert gloss("Mae'r tŷ", SMALL).gloss == "is the house"
    assert gloss("Mae'r ty", SMALL).gloss == "is the house"


def test_only_welsh_the_glossary_mostly_knows_is_read_as_its_gloss() -> None:
    english = "why are there no police in knighton"
    assert read_welsh(english, english, SMALL) == english
    welsh = "Pam nad oes heddlu yn y dref gyda'r nos?"
    match_text = "pam nad oes heddlu yn y dref gydar nos"
    assert read_welsh(match_text, welsh, SMALL) == "why not is there police y town with the nos"
    unknown = "Pam nad oes digon o swyddogion cymorth cymunedol yn Llanandras?"
    unknown_match = "pam nad oes digon o swyddogion cymorth cymunedol yn llanandras"
    assert read_welsh(unknown_match, unknown, SMALL) == unknown_match


def test_the_shipped_glossary_reads_a_welsh_question_as_english() -> None:
    glossary = load_glossary()
    assert len(glossary.entries) >= 2000
    assert all(key and key == key.casefold() for key in glossary.entries)
    text = "Pam nad oes mwy o heddlu ar y strydoedd yn y nos?"
    match_text = "pam nad oes mwy o heddlu ar y strydoedd yn y nos"
    reading = read_welsh(match_text, text)
    assert "police" in reading
    assert not model_cannot_read(reading)


@pytest.mark.parametrize(
    ("text", "welsh"),
    [
        # no function word of the short list, but Welsh words English does not have
        ("Beth sy'n cael ei wneud am ddwyn peiriannau fferm a beiciau cwad?", True),
        ("Goryrru drwy'r pentref bob dydd - oes rhywun am wneud rhywbeth?", True),
        ("Pam nad oes heddlu yn Nhrefyclo?", True),
        ("What is being done about the bins in Ludlow and Church Stretton?", False),
        ("Why does the PCC ignore Bryn Mawr and Pen y Bont?", False),
        ("Card from Gwen in Oswestry: do local officers speak Welsh?", False),
        # short: two such words, and the glossary knows most of the text
        ("Noswaith dda o Groesoswallt 👋", True),
        ("Moch yw'r heddlu i gyd", True),
        ("101 is a joke", False),
        ("Hello from Bryn Mawr, Pen y Bont and Llan", False),
    ],
)
def test_welsh_is_told_from_english_by_words_english_does_not_have(text: str, welsh: bool) -> None:
    n = normalise(text)
    assert is_welsh(n.match_text, n.clean) is welsh


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def test_a_welsh_question_finds_the_english_group_that_asks_the_same(pipeline: Pipeline) -> None:
    english = [
        ("e1", "Why are there no police patrols in our village at night any more?", "Clun"),
        ("e2", "We never see a police patrol after dark in the village, why not?", "Bucknell"),
        ("e3", "What is being done about thefts of farm machinery and quad bikes?", "Ledbury"),
    ]
    pipeline.analyse([Item(id=i, text=t, channel="web", location=loc) for i, t, loc in english])
    welsh = pipeline.analyse(
        [Item(id="w1", text="Pam nad oes patrolau heddlu yn y pentref yn y nos bellach?",
              channel="web", location="Trefyclo"),
         Item(id="w2", text="Beth sy'n cael ei wneud am ddwyn peiriannau fferm a beiciau cwad?",
              channel="web", location="Llanandras")]
    )  # fmt: skip
    patrols = pipeline.dedupe.group_of("e1")
    assert pipeline.dedupe.group_of("e2") == patrols
    own = [a.match.group_key for a in welsh]
    offered = [[s.group_key for s in d.suggestions][:3] for d in (a.match for a in welsh)]
    # the Welsh patrol question joins the patrols group or has it among its first three
    assert patrols == own[0] or patrols in offered[0]
    assert pipeline.dedupe.group_of("e3") in [own[1], *offered[1]]
    # and it is never put with the other ask
    assert own[0] != pipeline.dedupe.group_of("e3")
    assert own[1] != patrols
    assert all(a.theme is not None for a in welsh)


def test_as_read_gives_the_learned_stages_the_gloss_and_leaves_english_alone() -> None:
    welsh = normalise("Pam nad oes heddlu yn y dref?")
    read = as_read(welsh, SMALL)
    assert read.match_text == read_welsh(welsh.match_text, welsh.clean, SMALL)
    assert read.match_text != welsh.match_text
    assert (read.clean, read.hash) == (welsh.clean, welsh.hash)  # staff and dedupe keys unchanged
    english = normalise("Why are there no police in the town?")
    assert as_read(english, SMALL) is english


def test_the_moderation_head_reads_welsh_through_its_gloss(pipeline: Pipeline) -> None:
    # No Welsh word is on any list: only the learned head, reading the gloss, can see these.
    abusive, spam, question = pipeline.analyse(
        [Item(id="a", text="Mae'r prif gwnstabl yn gelwyddgi diog. Gobeithio bydd rhywun yn "
              "rhoi crasfa iddo fe.", channel="facebook"),
         Item(id="s", text="Prynwch bitcoin nawr, elw mawr bob dydd, cliciwch y ddolen",
              channel="facebook"),
         Item(id="q", text="Beth mae'r heddlu yn ei wneud am gyffuriau yng Nghroesoswallt?",
              channel="facebook")]
    )  # fmt: skip
    assert "abuse" in abusive.flag_codes
    assert "spam" in spam.flag_codes
    assert not question.blocked
