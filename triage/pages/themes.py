"""The theme list: staff name discovered themes ("New theme: …") and rename any theme."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from domain.models import Question, Theme
from domain.web.auth import staff_required
from domain.web.context import runtime
from triage.decisions import DecisionError, rename_theme

bp = Blueprint("triage_themes", __name__, template_folder="../templates", url_prefix="/triage")


def _page(errors: dict[int, str] | None = None, status: int = 200) -> tuple[str, int]:
    session = runtime().db.session
    counts = dict(
        session.execute(select(Question.theme_id, func.count()).group_by(Question.theme_id)).all()
    )
    themes = session.scalars(
        select(Theme).where(Theme.active).order_by(Theme.discovered.desc(), Theme.label)
    ).all()
    return render_template(
        "triage/themes.html", themes=themes, counts=counts, errors=errors or {}
    ), status


@bp.get("/themes")
@staff_required
def themes() -> tuple[str, int]:
    """Every active theme with how many questions it holds; discovered ones first."""
    return _page()


@bp.post("/themes/<int:theme_id>")
@staff_required
def rename(theme_id: int) -> Response | tuple[str, int]:
    """Give a theme the name staff prefer (names are unique)."""
    try:
        rename_theme(runtime(), theme_id, request.form.get("label", ""), current_user.id)
    except DecisionError as exc:
        return _page({theme_id: str(exc).capitalize()}, 400)
    flash("Theme renamed.")
    return redirect(url_for(".themes") + f"#theme-{theme_id}")
