"""Messages on an idea: the thread on the idea page (a panel), staff writing a question or a
note, the applicant answering a question, and the answers' files."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from grantflow.core import drafts
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.ideas import operations as ideas_ops
from grantflow.ideas import panels
from grantflow.ideas.views import idea_for, send_file_download
from grantflow.messages import operations as ops
from grantflow.messages.forms import KINDS, MessageForm, answer_form, change_label, change_value, field_labels
from grantflow.messages.models import Message, MessageFile, can_write, is_staff

bp = Blueprint("messages", __name__)


@panels.panel("messages", order=150)
def messages_panel(idea, user, roles) -> panels.Panel | None:
    """The thread as `user` may see it; staff also get the way to write."""
    thread = ops.thread(idea, user, roles)
    writer = can_write(idea, user, roles)
    if not thread and not writer:
        return None
    return panels.Panel(
        "messages/_panel.html",
        {
            "idea": idea,
            "thread": thread,
            "can_write": writer,
            "staff": is_staff(roles),
            "user": user,
            "roles": roles,
            "field_labels": lambda m: field_labels(idea, m.open_fields or []),
            "change_label": change_label,
            "change_value": change_value,
        },
    )


def _apply_refusal(form, refused: Refused) -> None:
    for name, message in refused.fields.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = list(field.errors or []) + [message]
        else:
            flash(message, "error")
    for message in refused.messages:
        flash(message, "error")


@bp.route("/ideas/<int:idea_id>/messages/new", methods=["GET", "POST"])
@login_required
def new(idea_id: int):
    idea = idea_for(idea_id, current_user)
    if not can_write(idea, current_user):
        abort(404 if not is_staff(idea.roles_of(current_user)) else 403)
    form = MessageForm()
    form.offer(idea)
    if drafts.is_autosave():
        return drafts.keep(form)
    drafts.restore(form)
    if form.validate_on_submit():
        try:
            drafts.forget()
            message = ops.write(
                idea, current_user, form.kind.data, form.body.data, form.to_evaluators.data, form.open_fields.data or []
            )
        except Refused as refused:
            db.session.rollback()
            _apply_refusal(form, refused)
        else:
            flash(_("The question has been sent to the applicant.") if message.is_open else _("The note has been saved."), "success")
            return redirect(url_for("ideas.show", idea_id=idea.id) + "#messages", code=303)
    return render_template("messages/new.html", idea=idea, form=form, kinds=KINDS)


def _message_for(message_id: int) -> Message:
    message = db.session.get(Message, message_id)
    if message is None or not message.can_see(current_user):
        abort(404)
    return message


@bp.route("/messages/<int:message_id>/answer", methods=["GET", "POST"])
@login_required
def answer(message_id: int):
    question = _message_for(message_id)
    idea = question.idea
    if not question.can_answer(current_user):
        if question.is_open or question.kind != "question":
            abort(403)
        flash(_("This question has already been answered."), "info")
        return redirect(url_for("ideas.show", idea_id=idea.id) + "#messages", code=303)
    form = answer_form(question)
    if drafts.is_autosave():
        return drafts.keep(form)
    drafts.restore(form)
    if form.validate_on_submit():
        values = {name: field.data for name, field in form._fields.items() if name not in ("body", "files", "csrf_token")}
        uploads = [(f.filename or "", f.read(ideas_ops.MAX_ATTACHMENT_BYTES + 1)) for f in request.files.getlist("files") if f]
        try:
            drafts.forget()
            ops.answer(question, current_user, form.body.data, values, uploads)
        except Refused as refused:
            _apply_refusal(form, refused)
        except Conflict:
            db.session.rollback()
            flash(_("The idea changed after you opened this page; nothing was saved. Please look again."), "error")
        else:
            flash(_("Thank you: your answer has been sent."), "success")
            return redirect(url_for("ideas.show", idea_id=idea.id) + "#messages", code=303)
        question = _message_for(message_id)
        idea = question.idea
    return render_template("messages/answer.html", idea=idea, question=question, form=form)


@bp.route("/messages/files/<int:file_id>")
@login_required
def download(file_id: int):
    file = db.session.get(MessageFile, file_id)
    if file is None or not file.can_view(current_user):
        abort(404)
    return send_file_download(file.data, file.content_type, file.filename)
