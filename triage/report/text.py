"""The report's figures in the words of the OPCC's report to the panel."""

from __future__ import annotations

from domain.models import Meeting
from triage.report.charts import CHANNEL_LABELS
from triage.report.figures import ReportFigures


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def summary_paragraphs(meeting: Meeting, f: ReportFigures) -> list[str]:
    """Numbered paragraphs: questions, live comments, themes, written answers, time to answer."""
    channels = ", ".join(
        f"{v} by {CHANNEL_LABELS.get(k, k).lower()}" for k, v in f.advance_by_channel.items()
    )
    events = ", ".join(f"{v} at the {k}" for k, v in f.advance_by_event.items())
    out = [
        f"Number of questions: {_n(f.advance_total, 'question was', 'questions were')} submitted "
        f"in advance ({channels or 'none'})."
        + (f" Cards were collected {events}." if events else ""),
        f"In addition {_n(f.live_comments, 'comment was', 'comments were')} made during the live "
        f"stream, constituting {_n(f.live_questions, 'question', 'questions')}, bringing the "
        f"total number of questions to {f.total_questions}.",
        f"Questions were grouped into {_n(f.groups_total, 'question', 'questions')} for the "
        f"meeting: {f.asked_on_night} put on the night, {f.answered_within} answered within "
        f"another item and {f.not_covered} not covered.",
        "Themes raised: "
        + (", ".join(f"{k} ({v})" for k, v in f.themes_raised.items()) or "none")
        + ". Themes addressed during the meeting: "
        + (", ".join(f.themes_addressed) or "none")
        + ".",
        f"Everyone whose question was not covered was promised a written answer: "
        f"{f.answered_afterwards} of {f.not_covered} answered afterwards, {f.outstanding} "
        f"outstanding; {_n(f.emails_sent, 'email', 'emails')} and "
        f"{_n(f.replies_sent, 'reply on social media', 'replies on social media')} delivered"
        + (f", {f.not_delivered} not (yet) delivered" if f.not_delivered else "")
        + ".",
    ]
    if f.median_days_to_answer is not None:
        out.append(
            f"Time to answer: a median of {f.median_days_to_answer} days after the meeting "
            f"(longest {f.longest_days_to_answer} days)."
        )
    return out
