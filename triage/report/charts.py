"""The report's charts, drawn on the server with matplotlib's Agg canvas, each with a text
alternative that says what the picture shows."""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from triage.report.figures import ReportFigures

CHANNEL_LABELS = {
    "web": "Web form",
    "email": "Email",
    "event": "Event cards",
    "api": "Partner systems",
    "twitter": "X",
    "facebook": "Facebook",
}
CHARTS = ("themes", "channels", "comment-rate")


@dataclass(frozen=True)
class Chart:
    """A PNG and its text alternative."""

    png: bytes
    alt: str


def _bars(labels: list[str], values: list[int], title: str, xlabel: str) -> bytes:
    fig = Figure(figsize=(7, 0.5 + 0.45 * max(len(labels), 1)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.barh(labels[::-1] or ["none"], values[::-1] or [0], color="#1d70b8")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for y, value in enumerate(values[::-1]):
        ax.annotate(str(value), (value, y), xytext=(3, 0), textcoords="offset points", va="center")
    fig.tight_layout()
    return _png(fig)


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _listing(pairs: dict[str, int]) -> str:
    return "; ".join(f"{label} {n}" for label, n in pairs.items()) or "none"


def themes_chart(f: ReportFigures) -> Chart:
    """Questions by theme (advance and live)."""
    labels, values = list(f.themes_raised), list(f.themes_raised.values())
    png = _bars(labels, values, "Questions by theme", "questions")
    alt = f"Bar chart of {f.total_questions} questions by theme: {_listing(f.themes_raised)}."
    return Chart(png, alt)


def channels_chart(f: ReportFigures) -> Chart:
    """Questions by the channel they came in on."""
    named = {CHANNEL_LABELS.get(k, k): v for k, v in f.questions_by_channel.items()}
    png = _bars(list(named), list(named.values()), "Questions by channel", "questions")
    return Chart(png, f"Bar chart of questions by channel: {_listing(named)}.")


def comment_rate_chart(f: ReportFigures) -> Chart:
    """Live comments per minute over the broadcast."""
    fig = Figure(figsize=(7, 3), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    minutes = list(range(len(f.comments_per_minute)))
    ax.plot(minutes, f.comments_per_minute, color="#1d70b8", drawstyle="steps-post")
    ax.fill_between(minutes, f.comments_per_minute, step="post", alpha=0.3, color="#1d70b8")
    ax.set_title("Live comments per minute")
    ax.set_xlabel("minutes from the start of the broadcast")
    ax.set_ylabel("comments")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    peak = max(f.comments_per_minute, default=0)
    busiest = f.comments_per_minute.index(peak) if peak else None
    alt = f"Line chart of {f.live_comments} live comments over {f.broadcast_minutes} minutes"
    alt += (
        f"; the busiest minute was minute {busiest} with {peak} comment(s)."
        if busiest is not None
        else "; there were no live comments."
    )
    return Chart(_png(fig), alt)


def chart(name: str, f: ReportFigures) -> Chart:
    """One of :data:`CHARTS` by name (the caller checks the name)."""
    builders = {
        "themes": themes_chart,
        "channels": channels_chart,
        "comment-rate": comment_rate_chart,
    }
    return builders[name](f)
