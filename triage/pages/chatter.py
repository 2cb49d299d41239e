"""Staff pages for comments and noise: the list, and one button to promote an item."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from domain.models import Meeting, QuestionKind
from domain.web.auth import staff_required
from domain.web.context import runtime
from triage.chatter import PromotionError, load_chatter, promote
from triage.suggestions import pull_neighbours

bp = Blueprint(
    "triage_chatter",
    __name__,
    template_folder="../templates",
    url_prefix="/triage/meetings/<int:meeting_id>",
)


@bp.errorhandler(PromotionError)
def _bad_promotion(exc: PromotionError) -> tuple[str, int]:
    return str(exc), 400


@bp.get("/comments")
@staff_required
def comments(meeting_id: int) -> str:
    """Comments and noise the pipeline kept out of grouping."""
    session = runtime().db.session()
    mtg = session.get(Meeting, meeting_id)
    if mtg is None:
        abort(404)
    chatter = load_chatter(session, meeting_id)
    return render_template(
        "triage/comments.html",
        meeting=mtg,
        comments=chatter[QuestionKind.COMMENT],
        noise=chatter[QuestionKind.NOISE],
    )


@bp.post("/questions/<int:question_id>/promote")
@staff_required
def promote_view(meeting_id: int, question_id: int) -> Response:
    """Promote a comment to a question (one action)."""
    promote(runtime(), meeting_id, question_id, current_user.id)
    flash("Promoted to a question: it is on the board in a group of its own.")
    return redirect(url_for("triage_chatter.comments", meeting_id=meeting_id))


@bp.post("/questions/<int:question_id>/promote/<int:group_id>")
@staff_required
def promote_into_view(meeting_id: int, question_id: int, group_id: int) -> Response:
    """Promote a comment into the suggested group it raises (one action)."""
    rt = runtime()
    promote(rt, meeting_id, question_id, current_user.id, into=group_id)
    with rt.db.transaction() as session:
        # as accepting a suggestion does: comments and questions like it get this group first
        pull_neighbours(session, meeting_id, question_id, group_id)
    flash("Promoted to a question and added to the suggested group.")
    return redirect(url_for("triage_chatter.comments", meeting_id=meeting_id))
