"""Question / comment / noise and the learned moderation head, through the real pipeline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from domain.models import QuestionKind
from workers.pipeline.dedupe import MatchKind
from workers.pipeline.engine import Analysis, Item, Pipeline
from workers.pipeline.language import model_cannot_read
from workers.pipeline.linear_head import HEADS_DIR, HeadIntegrityError, load_head
from workers.pipeline.moderation.head import looks_welsh

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def _one(pipeline: Pipeline, text: str, channel: str = "facebook") -> Analysis:
    return pipeline.analyse([Item(id=f"{channel}:{text}", text=text, channel=channel)])[0]


@pytest.mark.parametrize("channel", ["web", "facebook", "twitter", "email"])
def test_a_welsh_question_passes_untouched(pipeline: Pipeline, channel: str) -> None:
    text = "Pam nad oes heddlu yn Nhrefyclo?"
    a = _one(pipeline, text, channel)
    assert a.flags == ()
    assert a.kind is QuestionKind.QUESTION and a.forwarded
    assert a.normalised.clean == text and a.redacted == text


def test_chatter_is_kept_out_of_grouping(pipeline: Pipeline) -> None:
    greeting = _one(pipeline, "Evening all from Ludlow 👋")
    emoji = _one(pipeline, "👏👏👏")
    remark = _one(pipeline, "The speeding on the A49 through our village is terrible")
    asks = _one(pipeline, "What is being done about the speeding on the A49?")
    assert (greeting.kind, emoji.kind, remark.kind) == (
        QuestionKind.NOISE, QuestionKind.NOISE, QuestionKind.COMMENT,
    )  # fmt: skip
    assert not (greeting.forwarded or emoji.forwarded or remark.forwarded)
    assert asks.kind is QuestionKind.QUESTION and asks.forwarded


def test_a_comment_never_founds_a_group_but_joins_one_it_is_close_to(
    pipeline: Pipeline,
) -> None:
    p = Pipeline(embedder=pipeline.embedder)
    [alone] = p.analyse([Item(id="c", text="Sheep stolen near Clun again this week", channel="x")])
    assert alone.kind is QuestionKind.COMMENT and "c" not in p.dedupe
    comment, question = p.analyse(
        [
            Item(id="c2", text="Sheep stolen near Clun again this week", channel="facebook"),
            Item(id="q", text="Sheep stolen near Clun again this week?", channel="web"),
        ]
    )
    # the question founds the group (the earlier comment is not in it); the comment that
    # says the same joins it as one of its questions
    assert question.kind is QuestionKind.QUESTION and question.match.kind is MatchKind.NEW
    assert comment.kind is QuestionKind.QUESTION
    assert comment.match.group_key == question.match.group_key == "q"
    assert "c" not in p.dedupe


def test_the_form_channels_are_questions_unless_there_is_nothing_to_read(
    pipeline: Pipeline,
) -> None:
    assert _one(pipeline, "Speeding on the A49 is terrible", "web").kind is QuestionKind.QUESTION
    assert _one(pipeline, "Speeding on the A49 is terrible", "event").kind is QuestionKind.QUESTION
    assert _one(pipeline, "🙂🙂", "web").kind is QuestionKind.NOISE


def test_asks_without_a_question_mark_and_in_other_scripts(pipeline: Pipeline) -> None:
    for text in (
        "I would like to know why the station in Ross closed",
        "Knife crime in Redditch, what's the plan",
        "هل يمكن الإبلاغ عن جرائم الكراهية باللغة العربية؟",
    ):
        assert _one(pipeline, text).kind is QuestionKind.QUESTION, text


def test_an_advert_on_facebook_is_noise_and_flagged(pipeline: Pipeline) -> None:
    a = _one(pipeline, "Earn £500 a day working from home!!! DM me for details 💰")
    assert a.kind is QuestionKind.NOISE and "spam" in a.flag_codes


def test_learned_moderation_catches_what_has_no_keyword(pipeline: Pipeline) -> None:
    scam = _one(pipeline, "Grow your page with 10k real followers, ask me how", "web")
    assert "spam" in scam.flag_codes
    council = _one(pipeline, "Our surgery won't give appointments for weeks", "web")
    assert council.flag_codes == ["out_of_scope"]
    assert "learned model" in council.flags[0].reason
    clean = _one(pipeline, "Great answer from the Chief, thank you", "facebook")
    assert clean.flags == ()


def test_slogans_and_test_posts(pipeline: Pipeline) -> None:
    assert "abuse" in _one(pipeline, "ACAB", "twitter").flag_codes
    assert "abuse" in _one(pipeline, "bent coppers the lot of them").flag_codes
    assert "spam" in _one(pipeline, "test please ignore", "web").flag_codes
    assert _one(pipeline, "Is there a roadside test for drug driving?", "web").flags == ()


def test_welsh_cyngor_is_advice_as_often_as_council(pipeline: Pipeline) -> None:
    text = "Oes modd cael cymorth drwy'r Gymraeg gan y Llinell Cyngor i Ddioddefwyr?"
    assert _one(pipeline, text, "email").flags == ()


def test_welsh_is_recognised() -> None:
    assert looks_welsh("pam nad oes heddlu yn nhrefyclo")
    assert not looks_welsh("why are there no police in knighton")


def test_the_model_reads_latin_script_english_only() -> None:
    assert model_cannot_read("pam nad oes heddlu yn nhrefyclo")
    assert model_cannot_read("هل يمكن الابلاغ عن جرايم الكراهية")
    assert not model_cannot_read("why are there no police in knighton 👮")
    assert not model_cannot_read("")


def test_a_tampered_head_is_refused(tmp_path: Path) -> None:
    shutil.copytree(HEADS_DIR, tmp_path / "heads")
    path = tmp_path / "heads" / "kind.json"
    path.write_text(path.read_text().replace('"link": "softmax"', '"link": "sigmoid"'))
    with pytest.raises(HeadIntegrityError, match=r"kind\.json"):
        load_head("kind", tmp_path / "heads")
    assert load_head("kind").link == "softmax"


def test_cluster_writes_kind_and_reads_channel_and_author(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": "Hello from Ludlow 👋", "channel": "facebook", "author": "fb:1"},
        {"id": "b", "text": "Why is there no PCSO in Clun?", "channel": "facebook"},
        {"id": "c", "text": "Clun needs a PCSO", "channel": "web"},
        *({"id": f"d{n}", "text": "Clun needs more police", "channel": "twitter",
           "author": f"x:{n}"} for n in range(5)),
        *({"id": f"e{n}", "text": "Wem needs more police", "channel": "twitter",
           "author": "x:same"} for n in range(5)),
    ]  # fmt: skip
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    out = tmp_path / "out.jsonl"
    subprocess.run(
        [sys.executable, "-m", "openfloor", "cluster", "--input", str(source),
         "--output", str(out)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    result = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert [result[k]["kind"] for k in "abc"] == ["noise", "question", "question"]
    assert result["a"]["dup_group"] == "a"  # not grouped
    # five accounts posting one text is a campaign, one account five times is not
    assert "spam" in result["d4"]["flags"] and "spam" not in result["e4"]["flags"]


def test_emoji_from_many_senders_is_not_a_campaign(pipeline: Pipeline) -> None:
    p = Pipeline(embedder=pipeline.embedder)
    items = [Item(id=str(n), text="👍", channel="facebook", author=f"fb:{n}") for n in range(8)]
    assert all(a.flags == () for a in p.analyse(items))


def test_words_that_only_look_like_slurs_and_hateful_generalisations(pipeline: Pipeline) -> None:
    assert _one(pipeline, "Are there spaces left on the speedwatch course?", "web").flags == ()
    hate = _one(pipeline, "Foreigners flooding in, deport the lot", "facebook")
    assert any("hateful generalisation" in f.reason for f in hate.flags)
    reported = _one(
        pipeline, "They shouted deport the foreigners at my neighbour, is it a hate crime?"
    )
    assert not any("hateful" in f.reason for f in reported.flags)
