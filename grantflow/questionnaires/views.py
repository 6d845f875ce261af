"""The form editor: administrators see the form versions, copy one as a new version, and
edit an unfrozen version's questions (texts, order, adding and removing) in the interface."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.i18n import pick
from grantflow.core.web import flash_refused
from grantflow.questionnaires import operations as ops
from grantflow.questionnaires.definition import REQUIRED_MEANINGS
from grantflow.questionnaires.forms import NewQuestionForm
from grantflow.questionnaires.models import FormVersion

bp = Blueprint("questionnaires", __name__)


def _version(version_id: int) -> FormVersion:
    version = db.session.get(FormVersion, version_id)
    if version is None:
        abort(404)
    return version


@bp.route("/admin/forms")
@role_required(ADMINISTRATOR)
def index():
    """Every stored version; a form file whose current text is not stored yet is listed too
    (it is stored when the first idea or report uses it: a GET writes nothing)."""
    versions = db.session.scalars(select(FormVersion).order_by(FormVersion.name, FormVersion.number)).all()
    stored = {(v.name, repr(v.definition)) for v in versions}
    defaults = {name: ops.loaded_default_form(kind) for kind, name in ops.DEFAULT_FORMS.items()}
    files = [
        (name, form) for name, form in defaults.items()
        if form is not None and (form.name, repr(form.as_json())) not in stored
    ]  # fmt: skip
    return render_template(
        "questionnaires/index.html", versions=versions, files=files, action=ActionForm(formdata=None),
        broken_forms=ops.broken_forms(),
    )  # fmt: skip


@bp.route("/admin/forms/<int:version_id>/copy", methods=["POST"])
@role_required(ADMINISTRATOR)
def copy(version_id: int):
    version = _version(version_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    new = ops.copy_version(version, current_user)
    db.session.commit()
    flash(_("Copied as version %(number)d; it can be edited until the first submission under it.", number=new.number), "success")
    return redirect(url_for("questionnaires.edit", version_id=new.id), code=303)


def _render(version, new_question, status=200):
    form = version.form
    return render_template(
        "questionnaires/edit.html",
        version=version,
        form_def=form,
        new_question=new_question,
        action=ActionForm(formdata=None),
        needed={m for group in REQUIRED_MEANINGS.get(form.kind, ()) for m in group},
    ), status


@bp.route("/admin/forms/<int:version_id>")
@role_required(ADMINISTRATOR)
def edit(version_id: int):
    version = _version(version_id)
    new_question = NewQuestionForm(formdata=None)
    new_question.section.choices = [SelectChoice(s.key, pick(s.title)) for s in version.form.sections]
    return _render(version, new_question)


@bp.route("/admin/forms/<int:version_id>", methods=["POST"])
@role_required(ADMINISTRATOR)
def change(version_id: int):
    """One form, several buttons: save the texts, move a question, remove one, add one. A
    frozen version refuses every change with the way out (copy as a new version)."""
    version = _version(version_id)
    new_question = NewQuestionForm()
    new_question.section.choices = [SelectChoice(s.key, pick(s.title)) for s in version.form.sections]
    if not ActionForm().validate_on_submit():
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return _render(version, new_question, 400)
    action = request.form.get("action", "texts")
    try:
        if action == "texts":
            texts = {}
            for question in version.form.questions:
                if f"label_lv-{question.key}" in request.form:
                    texts[question.key] = {
                        "label": {lang: request.form.get(f"label_{lang}-{question.key}", "") for lang in ("lv", "en")},
                        "help": {lang: request.form.get(f"help_{lang}-{question.key}", "") for lang in ("lv", "en")},
                    }
            ops.change_texts(version, texts, current_user)
        elif action.startswith(("up:", "down:")):
            direction, _sep, key = action.partition(":")
            ops.move_question(version, key, -1 if direction == "up" else 1, current_user)
        elif action.startswith("remove:"):
            ops.remove_question(version, action.removeprefix("remove:"), current_user)
        elif action == "add":
            if not new_question.validate():
                return _render(version, new_question, 200)
            ops.add_question(
                version, new_question.section.data, new_question.key.data, new_question.kind.data,
                {"lv": new_question.label_lv.data, "en": new_question.label_en.data},
                {"lv": new_question.required_lv.data, "en": new_question.required_en.data}, current_user,
            )  # fmt: skip
        else:
            abort(400)
    except Refused as refused:
        db.session.rollback()
        flash_refused(refused)
        return redirect(url_for("questionnaires.edit", version_id=version_id), code=303)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("questionnaires.edit", version_id=version_id), code=303)
