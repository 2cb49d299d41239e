"""The learned moderation head: its features, its file, and what the shipped head catches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from workers.pipeline.engine import Analysis, Item, Pipeline
from workers.pipeline.flags import ABUSE, OUT_OF_SCOPE, SPAM, Flag
from workers.pipeline.linear_head import HEADS_DIR, HeadIntegrityError
from workers.pipeline.moderation import moderate
from workers.pipeline.moderation.features import char_grams, gram_blocks, word_grams
from workers.pipeline.moderation.head import (
    GramWeights,
    ModerationHead,
    learned_flags,
    load_moderation_head,
)
from workers.pipeline.normalise import normalise

CODES = (ABUSE, SPAM, OUT_OF_SCOPE)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def _one(pipeline: Pipeline, text: str, channel: str = "facebook") -> Analysis:
    return pipeline.analyse([Item(id=f"{channel}:{text}", text=text, channel=channel)])[0]


def _learned(a: Analysis, code: str) -> bool:
    return any(f.code == code and "learned model" in f.reason for f in a.flags)


# --- features ---------------------------------------------------------------------------------


def test_char_grams_keep_disguises_and_emoji() -> None:
    grams = char_grams(normalise("P1gs 🐷 A.C.A.B"))
    assert {" p1", "p1g", "1gs ", " 🐷 ", "a.c.", ".a.b"} <= grams
    assert " pi" not in grams  # the disguise is a gram of its own, not read as "pigs"


def test_word_grams_have_pairs_and_shape_marks() -> None:
    assert {"dm", "dm me", "me", "<short>"} <= word_grams(normalise("DM me"))
    assert "<caps>" in word_grams(normalise("U R ALL USELESS"))
    assert "<noword>" in word_grams(normalise("🔥🔥🔥"))
    assert "<link>" in word_grams(normalise("see www.example.com now"))
    assert "<short>" not in word_grams(normalise("Why are there no police in Knighton tonight?"))


def test_each_gram_block_has_unit_length() -> None:
    for grams, value in gram_blocks(normalise("Speeding on the A483 near Welshpool")):
        assert grams and abs(value * value * len(grams) - 1.0) < 1e-9


# --- the head file ----------------------------------------------------------------------------


def test_the_shipped_head_loads_with_its_thresholds() -> None:
    head = load_moderation_head()
    assert head.classes == CODES
    assert set(head.thresholds) == set(CODES)
    assert all(0.2 <= t < 1.0 for t in head.thresholds.values())
    assert head.vector_coef.shape == (3, 384)
    assert len(head.char_weights.index) > 1000 and len(head.word_weights.index) > 500
    data = json.loads((HEADS_DIR / "moderation.json").read_text(encoding="utf-8"))
    assert set(data["precision_target"]) == set(CODES)
    assert all(target >= 0.9 for target in data["precision_target"].values())
    assert "bench/data/train/moderation4.jsonl" in data["trained_on"]


@pytest.mark.parametrize("change", ["threshold", "weight", "unrecorded"])
def test_a_tampered_or_unrecorded_head_is_refused(tmp_path: Path, change: str) -> None:
    heads = tmp_path / "heads"
    shutil.copytree(HEADS_DIR, heads)
    path = heads / "moderation.json"
    if change == "threshold":
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines = [
            '"thresholds": {"abuse":0.01,"spam":0.01,"out_of_scope":0.01},\n'
            if ln.startswith('"thresholds"')
            else ln
            for ln in lines
        ]
        path.write_text("".join(lines), encoding="utf-8")
    elif change == "weight":
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('"char_grams": {', '"char_grams": {"acab":[9,0,0],', 1))
    else:
        sums = heads / "sha256sums.txt"
        kept = [ln for ln in sums.read_text().splitlines() if "moderation.json" not in ln]
        sums.write_text("\n".join(kept) + "\n")
    if change != "unrecorded":
        assert path.read_bytes() != (HEADS_DIR / "moderation.json").read_bytes()
    with pytest.raises(HeadIntegrityError, match=r"moderation\.json"):
        load_moderation_head(heads)
    assert load_moderation_head().classes == CODES


def test_the_file_format_round_trips() -> None:
    head = load_moderation_head()
    again = ModerationHead.from_json(json.loads(head.to_json()))
    norms = [normalise(t) for t in ("ACAB", "Why is Brecon station shut?", "test pls ignore")]
    vectors = np.random.default_rng(0).normal(size=(3, 384)) / 20
    assert np.allclose(head.scores(norms, vectors), again.scores(norms, vectors), atol=1e-3)


def _toy_head(weight: float) -> ModerationHead:
    """A head that knows one character gram, ``zq``, pointing at abuse."""
    return ModerationHead(
        classes=CODES,
        intercept=np.full(3, -4.0),
        vector_coef=np.zeros((3, 4)),
        char_weights=GramWeights({"zq": 0}, np.asarray([[weight, 0.0, 0.0]])),
        word_weights=GramWeights({}, np.zeros((0, 3))),
        scales=(1.0, 1.0, 1.0),
        thresholds={c: 0.5 for c in CODES},
    )


def test_learned_flags_add_what_the_rules_missed_and_skip_welsh() -> None:
    texts = ["zq", "zq", "pam nad oes heddlu yn nhrefyclo zq", "hello there"]
    norms = [normalise(t) for t in texts]
    flags: list[list[Flag]] = [[], [Flag(ABUSE, "rule")], [], []]
    learned_flags(norms, np.zeros((4, 4)), flags, _toy_head(50.0))
    assert [[f.code for f in fs] for fs in flags] == [[ABUSE], [ABUSE], [], []]
    assert "learned model" in flags[0][0].reason and flags[1][0].reason == "rule"
    quiet: list[list[Flag]] = [[]]
    learned_flags(norms[:1], np.zeros((1, 4)), quiet, _toy_head(0.0))
    assert quiet == [[]]


# --- what the shipped head does in the pipeline -----------------------------------------------
# None of these sentences is a line of the training data; each is first checked to be beyond
# the keyword rules, so the flag can only come from the learned head.

CAUGHT = [
    (ABUSE, "The chief constable is a pompous little twerp"),
    (ABUSE, "What a pair of useless chumps on that stage"),
    (SPAM, "Genuine investment manager, doubled my pension in a month, contact her on Telegram"),
    (SPAM, "just testing this goes through, please ignore"),
    (OUT_OF_SCOPE, "Why did my gas bill triple this winter?"),
    (OUT_OF_SCOPE, "Our village hall needs a new boiler, can the PCC's office fund it?"),
]


def test_the_shipped_head_catches_what_has_no_keyword(pipeline: Pipeline) -> None:
    """A learned head is right most of the time, not every time: of these six, all beyond
    the rules, it must catch five (the head of 2026-12-02 scores the Telegram advert 0.41,
    under spam's 0.44)."""
    missed = []
    for code, text in CAUGHT:
        assert code not in {f.code for f in moderate(normalise(text))}, f"rules catch {text!r}"
        if not _learned(_one(pipeline, text), code):
            missed.append(text)
    assert len(missed) <= 1, missed


PASSES = [
    "Pam nad oes heddlu yn Nhrefyclo?",
    "Mae pobl yn gwerthu cyffuriau ger yr ysgol, beth mae'r heddlu yn ei wneud?",
    "Response times in the valleys are a disgrace and the commissioner should be ashamed. "
    "What will change?",
    "How much cannabis counts as possession with intent to supply?",
    "My daughter was sexually assaulted at a party. Why has nobody been charged?",
    "Is it legal to carry a lock knife for fishing?",
    "Cars do 60 past the primary school every morning. Will police do speed checks?",
    "Someone messaged my son offering easy money to carry packages. Is that county lines?",
    "Thank you to the officers who found my dad when he went missing",
]


@pytest.mark.parametrize("text", PASSES)
def test_hard_legitimate_questions_pass(pipeline: Pipeline, text: str) -> None:
    a = _one(pipeline, text, "web")
    assert not a.blocked, a.flags
