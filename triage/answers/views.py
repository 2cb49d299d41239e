"""Staff pages for written answers: the work queue, write, approve, send again.

Reading is for everyone signed in (the chair included); writing, approving and re-sending are
for staff (admins pass), and the approver must not be the writer.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from domain.models import AnswerDelivery, Coverage, Meeting, QuestionGroup, Role, WrittenAnswer
from domain.queue import enqueue_send_answer
from domain.web.auth import roles_required, staff_required
from domain.web.context import runtime
from triage.answers.read import mask, work_queue
from triage.answers.workflow import AnswerError, approve, confirm, resend, save_answer

bp = Blueprint(
    "triage_answers", __name__, template_folder="../templates", url_prefix="/triage/meetings"
)
edit_required = roles_required(Role.STAFF)


def _meeting(meeting_id: int) -> Meeting:
    meeting = runtime().db.session().get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def _page(meeting_id: int, *, error: str = "", drafts: dict[int, str] | None = None) -> str:
    meeting = _meeting(meeting_id)
    entries = work_queue(runtime().db.session(), meeting_id)
    return render_template(
        "triage/answers.html",
        meeting=meeting,
        entries=entries,
        error=error,
        drafts=drafts or {},
        mask=mask,
        can_edit=current_user.role in (Role.STAFF, Role.ADMIN),
        mail_ready=bool(runtime().settings.smtp_host),
    )


@bp.get("/<int:meeting_id>/answers")
@staff_required
def queue(meeting_id: int) -> str:
    """Every group not covered on the night, its askers and channels, and its answer."""
    return _page(meeting_id)


def _back(meeting_id: int, group_id: int | None = None) -> Response:
    anchor = f"#g{group_id}" if group_id else ""
    return redirect(url_for("triage_answers.queue", meeting_id=meeting_id) + anchor)


@bp.post("/<int:meeting_id>/answers/<int:group_id>")
@edit_required
def write(meeting_id: int, group_id: int) -> Response | tuple[str, int]:
    """Save the answer to one group (until it is approved)."""
    body = request.form.get("answer", "")
    try:
        with runtime().db.transaction() as session:
            group = session.get(QuestionGroup, group_id)
            if group is None or group.meeting_id != meeting_id:
                abort(404)
            save_answer(session, group, body, current_user.id)
    except AnswerError as exc:
        return _page(meeting_id, error=str(exc), drafts={group_id: body}), 400
    flash("Answer saved. Another member of staff must approve it before it is sent.")
    return _back(meeting_id, group_id)


@bp.post("/<int:meeting_id>/answers/<int:group_id>/approve")
@edit_required
def approve_answer(meeting_id: int, group_id: int) -> Response | tuple[str, int]:
    """Approve the answer (not its writer) and send it to everyone who gave an email."""
    rt = runtime()
    try:
        with rt.db.transaction() as session:
            answer = session.query(WrittenAnswer).filter_by(group_id=group_id).one_or_none()
            if answer is None or answer.meeting_id != meeting_id:
                abort(404)
            group = session.get(QuestionGroup, group_id)
            if group is None or group.coverage != Coverage.NOT_COVERED:
                abort(404)
            deliveries = approve(session, answer, current_user.id)
            answer_id = answer.id
    except AnswerError as exc:
        return _page(meeting_id, error=str(exc)), 400
    if deliveries:
        # if Redis is down now, the periodic recovery job queues it later
        enqueue_send_answer(rt.redis, rt.prefix, answer_id)
    flash(f"Answer approved and published; {len(deliveries)} email(s) being sent.")
    return _back(meeting_id, group_id)


def _delivery(meeting_id: int, delivery_id: int, action: str) -> Response | tuple[str, int]:
    rt = runtime()
    try:
        with rt.db.transaction() as session:
            delivery = session.get(AnswerDelivery, delivery_id)
            if delivery is None or delivery.answer.meeting_id != meeting_id:
                abort(404)
            (resend if action == "resend" else confirm)(session, delivery, current_user.id)
            answer_id, group_id = delivery.answer_id, delivery.answer.group_id
    except AnswerError as exc:
        return _page(meeting_id, error=str(exc)), 400
    if action == "resend":
        enqueue_send_answer(rt.redis, rt.prefix, answer_id)
        flash("Sending the email again.")
    else:
        flash("Recorded as delivered.")
    return _back(meeting_id, group_id)


@bp.post("/<int:meeting_id>/deliveries/<int:delivery_id>/resend")
@edit_required
def resend_delivery(meeting_id: int, delivery_id: int) -> Response | tuple[str, int]:
    """Send a failed, refused or unconfirmed email again."""
    return _delivery(meeting_id, delivery_id, "resend")


@bp.post("/<int:meeting_id>/deliveries/<int:delivery_id>/confirm")
@edit_required
def confirm_delivery(meeting_id: int, delivery_id: int) -> Response | tuple[str, int]:
    """Record an unconfirmed email as delivered (found in the mail server's log)."""
    return _delivery(meeting_id, delivery_id, "confirm")
