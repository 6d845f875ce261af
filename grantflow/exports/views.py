"""Administrators' exports (/admin/exports), a person's own data (/profile/data) and erasure
of a person (/admin/people/<id>/erase)."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR, User
from grantflow.competitions.models import Competition
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.safety import small_int
from grantflow.core.web import flash_refused
from grantflow.exports import operations as ops
from grantflow.exports import personal, tables
from grantflow.exports.forms import ExportForm
from grantflow.exports.models import Export, ExportStatus
from grantflow.ideas.forms import TARGET_GROUP_LABELS
from grantflow.territory.models import Municipality

bp = Blueprint("exports", __name__)

STATUS_LABELS = {
    ExportStatus.QUEUED: _l("Waiting"), ExportStatus.RUNNING: _l("Being built"),
    ExportStatus.DONE: _l("Ready"), ExportStatus.FAILED: _l("Failed"),
}  # fmt: skip
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}  # fmt: skip


def _form(formdata=True) -> ExportForm:
    form = ExportForm() if formdata else ExportForm(formdata=None)
    form.kind.choices = [SelectChoice(k, str(label)) for k, (label, _build) in tables.KINDS.items()]
    form.format.choices = [SelectChoice(k, label) for k, label in tables.FORMATS.items()]
    form.competition.choices = [SelectChoice("", _("All competitions"))] + [
        SelectChoice(str(c.id), f"{c.code} · {c.title_lv}")
        for c in db.session.scalars(select(Competition).order_by(Competition.id.desc()))
    ]
    form.tag.choices = [SelectChoice("", _("Any state"))] + [SelectChoice(k, str(v)) for k, v in tables.TAG_LABELS.items()]
    form.municipality.choices = [SelectChoice("", _("All municipalities"))] + [
        SelectChoice(str(m.id), m.name) for m in db.session.scalars(select(Municipality).order_by(Municipality.name))
    ]
    return form


def _kind_labels() -> dict:
    return {**{k: label for k, (label, _build) in tables.KINDS.items()}, ops.RANKING: _l("Ranking")}


def _page(form, status: int = 200):
    exports = ops.recent()
    return render_template(
        "exports/index.html", form=form, exports=exports, kind_labels=_kind_labels(), tag_labels=tables.TAG_LABELS,
        target_groups=TARGET_GROUP_LABELS,
        status_labels=STATUS_LABELS, formats=tables.FORMATS,
        names={c.id: c.code for c in db.session.scalars(select(Competition))},
        municipalities={m.id: m.name for m in db.session.scalars(select(Municipality))},
    ), status  # fmt: skip


@bp.route("/admin/exports", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def index():
    form = _form()
    if not form.is_submitted():
        return _page(_form(formdata=False))
    if not form.validate():
        return _page(form, 422)
    filters = {"competition": small_int(form.competition.data), "tag": form.tag.data or None,
               "municipality": small_int(form.municipality.data)}  # fmt: skip
    try:
        export_id = ops.request_export(form.kind.data, form.format.data, filters, current_user)
    except Refused as refused:
        db.session.rollback()
        flash_refused(refused)
        return _page(form, 422)
    ops.enqueue_build(export_id)
    flash(_("The export is being built; refresh this page to download it when it is ready."), "success")
    return redirect(url_for("exports.index"), code=303)


@bp.route("/admin/exports/ranking/<int:competition_id>", methods=["POST"])
@role_required(ADMINISTRATOR)
def ranking(competition_id: int):
    """The ranking page's CSV and XLSX buttons: the file is built on the queue like every
    export, and this page shows its progress and the download."""
    competition = db.session.get(Competition, competition_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        export_id = ops.request_ranking(competition, request.form.get("format", ""), request.form,
                                        current_user._get_current_object())  # fmt: skip
    except Refused as refused:
        db.session.rollback()
        flash_refused(refused)
        return redirect(url_for("review.ranking", competition_id=competition_id), code=303)
    ops.enqueue_build(export_id)
    flash(_("The export is being built; refresh this page to download it when it is ready."), "success")
    return redirect(url_for("exports.index"), code=303)


@bp.route("/admin/exports/<int:export_id>")
@role_required(ADMINISTRATOR)
def download(export_id: int):
    export = db.session.get(Export, export_id) or abort(404)
    if export.status != ExportStatus.DONE or export.content is None:
        abort(404)
    return Response(export.content, content_type=CONTENT_TYPES[export.format],
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"'})  # fmt: skip


# --- a person's own data ---------------------------------------------------------------------------
@bp.route("/profile/data")
@login_required
def my_data():
    user = current_user._get_current_object()
    return Response(personal.data_zip(user), content_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="grantflow-{user.id}.zip"'})  # fmt: skip


# --- erasure --------------------------------------------------------------------------------------
@bp.route("/admin/people/<int:user_id>/erase", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def erase(user_id: int):
    person = db.session.get(User, user_id) or abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        name = person.name
        try:
            personal.erase(person, current_user._get_current_object())
        except Refused as refused:
            db.session.rollback()
            flash_refused(refused)
        else:
            flash(_("The personal data of %(name)s is erased; their records are kept under the pseudonym %(pseudonym)s.",
                    name=name, pseudonym=person.name), "success")  # fmt: skip
            return redirect(url_for("people.show", user_id=person.id), code=303)
    elif form.is_submitted():
        abort(400)
    return render_template("exports/erase.html", person=person, form=form, counts=personal.consequences(person),
                           pseudonym=personal.pseudonym(person.id))  # fmt: skip
