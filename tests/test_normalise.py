"""Tests for workers.pipeline.normalise."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from workers.pipeline.normalise import (
    DEFAULT_EVENT_HASHTAGS,
    Normalised,
    load_event_hashtags,
    normalise,
)


def test_keeps_original_exactly() -> None:
    raw = "  Why\u200b is 101 so “slow”?\r\n"
    assert normalise(raw).original == raw


def test_result_is_frozen() -> None:
    n = normalise("hello")
    assert isinstance(n, Normalised)
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.clean = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ｆｕｌｌｗｉｄｔｈ text", "fullwidth text"),  # NFKC
        ("the ﬁrst time", "the first time"),  # ligature
        ("it’s ‘quoted’ and “double”", "it's 'quoted' and \"double\""),
        ("speeding – again — and again", "speeding - again - and again"),
        ("zero\u200bwidth\u200c and\u2060 joiner\ufeff", "zerowidth and joiner"),
        ("bell\x07 and\x00 nul", "bell and nul"),
        ("bidi \u202eoverride\u202c", "bidi override"),
        ("soft\u00adhyphen", "softhyphen"),
        ("non\u00a0breaking   space\t\ttabs", "non breaking space tabs"),
        ("  padded  ", "padded"),
        ("`backtick`", "'backtick'"),
        ("", ""),
    ],
)
def test_clean(raw: str, clean: str) -> None:
    assert normalise(raw).clean == clean


def test_clean_keeps_line_breaks_and_collapses_blank_runs() -> None:
    raw = "First line  \r\nsecond line\n\n\n\n  Next paragraph \n"
    assert normalise(raw).clean == "First line\nsecond line\n\nNext paragraph"


def test_clean_keeps_emoji_sequences_intact() -> None:
    family = "👨\u200d👩\u200d👧"
    assert family in normalise(f"us {family} again").clean


def test_clean_keeps_case_hashtags_mentions_and_links() -> None:
    raw = "#ASB near Ludlow @WMerciaPolice see https://www.police.uk/x"
    assert normalise(raw).clean == raw


@pytest.mark.parametrize(
    ("raw", "match_text"),
    [
        ("Why is 101 SO slow?!", "why is 101 so slow"),
        ("Don't they care?", "dont they care"),
        ("Café at Bishop’s Castle", "cafe at bishops castle"),
        ("see https://bit.ly/abc and www.example.com/page now", "see and now"),
        ("read shropshirestar.com.", "read"),
        ("email jane.doe@example.com today", "email today"),
        ("@WMerciaPolice what about burglary", "what about burglary"),
        ("Bitcoin 🚀🚀 to the moon 🌕", "bitcoin to the moon"),
        ("anti-social behaviour", "anti social behaviour"),
        ("under_scores and (brackets)", "under scores and brackets"),
    ],
)
def test_match_text(raw: str, match_text: str) -> None:
    assert normalise(raw).match_text == match_text


def test_event_hashtags_dropped_topic_hashtags_kept_as_words() -> None:
    n = normalise("#ASB on the estate #AskTheCommissioner #countylines #PCCLive")
    assert n.match_text == "asb on the estate countylines"


def test_camel_case_hashtag_split_into_words() -> None:
    assert normalise("#CountyLines #RuralCrime2024").match_text == "county lines rural crime 2024"
    assert normalise("#CountyLines").hash == normalise("county lines").hash


def test_event_hashtag_match_is_case_insensitive() -> None:
    assert normalise("#askthecommissioner #ASKTHEPCC hello").match_text == "hello"


def test_event_hashtags_can_be_overridden() -> None:
    n = normalise("#ShowQuestions #ASB at the show", event_hashtags=["#ShowQuestions"])
    assert n.match_text == "asb at the show"
    # the default event list no longer applies when overridden
    assert normalise("#PCCLive", event_hashtags=[]).match_text == "pcc live"


def test_default_event_hashtags_loaded_from_wordlist() -> None:
    assert "askthecommissioner" in DEFAULT_EVENT_HASHTAGS
    assert "asb" not in DEFAULT_EVENT_HASHTAGS


def test_load_event_hashtags_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "tags.txt"
    path.write_text("# a comment\n#\n#MeetingTag\nOtherTag\n\n", encoding="utf-8")
    assert load_event_hashtags(path) == frozenset({"meetingtag", "othertag"})


def test_hash_is_sha256_of_match_text() -> None:
    n = normalise("Why is 101 so slow?")
    assert n.hash == hashlib.sha256(n.match_text.encode()).hexdigest()
    assert len(n.hash) == 64


@pytest.mark.parametrize(
    "variant",
    [
        "why is 101 so slow",
        "WHY IS 101 SO SLOW???",
        "  Why   is 101\u200b so slow?  ",
        "Why is 101 so slow? #AskTheCommissioner",
        "@WMerciaPolice Why is 101 so slow? https://t.co/xyz",
        "Why is 101 so slow 😡",
    ],
)
def test_hash_identical_for_trivial_variants(variant: str) -> None:
    assert normalise(variant).hash == normalise("Why is 101 so slow?").hash


def test_hash_differs_for_different_questions() -> None:
    assert normalise("Why is 101 so slow?").hash != normalise("Why is 999 so slow?").hash


def test_hash_stable_across_calls() -> None:
    # A fixed value: the exact-duplicate key must not change between releases by accident.
    assert (
        normalise("Why is 101 so slow?").hash == hashlib.sha256(b"why is 101 so slow").hexdigest()
    )


def test_police_slang_matches_plain_words() -> None:
    assert normalise("Where are all the bobbies?").match_text == "where are all the police officers"
    assert normalise("The Old Bill never come round here").match_text.startswith("the police never")
    # only the match text changes: staff read what was written
    assert normalise("Where are all the bobbies?").clean == "Where are all the bobbies?"
    assert "police" not in normalise("copperplate handwriting").match_text
