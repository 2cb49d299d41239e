"""Blind-set scoring: chatter (a label since moderation35) is scored apart from the flags."""

from __future__ import annotations

from bench.score_blind import analyse_file, score_moderation

ROWS = [
    {"id": "1", "text": "Why are there no PCSOs in Ludlow any more?", "channel": "form",
     "label": "ok"},
    {"id": "2", "text": "When will the council fix the potholes on Corve Street?",
     "channel": "form", "label": "out_of_scope"},
    {"id": "3", "text": "👏👏👏", "channel": "facebook", "label": "chatter"},
    {"id": "4", "text": "Evening all from Bewdley, sound is fine now", "channel": "facebook",
     "label": "chatter"},
]  # fmt: skip


def test_chatter_is_scored_by_being_kept_off_the_list_and_left_out_of_the_flags() -> None:
    result = score_moderation(ROWS, analyse_file(ROWS))
    assert result["truth"] == {"ok": 1, "out_of_scope": 1, "chatter": 2}
    scope = result["per_flag"]["out_of_scope"]
    assert (scope["tp"], scope["fp"], scope["fn"]) == (1, 0, 0)
    assert result["chatter_set_aside"] == {"items": 2, "recall": 1.0}
    assert sum(result["confusion_label_to_first_flag"]["ok"].values()) == 1


def test_a_set_without_chatter_reports_no_chatter_figure() -> None:
    rows = ROWS[:2]
    assert "chatter_set_aside" not in score_moderation(rows, analyse_file(rows))
