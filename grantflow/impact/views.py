"""The impact dashboard for administrators: the figures of the programme or a competition,
per municipality and per year, drawn as charts, each figure leading to the reports behind it."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.safety import small_int
from grantflow.ideas.forms import TARGET_GROUP_LABELS
from grantflow.ideas.models import TARGET_GROUPS
from grantflow.impact import charts, summaries
from grantflow.impact.forms import LANGUAGE_LABELS, SummaryForm
from grantflow.impact.models import ImpactSummary, SummaryStatus
from grantflow.impact.operations import Scope, contributing, impact

bp = Blueprint("impact", __name__, url_prefix="/admin/impact")

STATUS_LABELS = {
    SummaryStatus.QUEUED: _l("Waiting"), SummaryStatus.RUNNING: _l("Being built"),
    SummaryStatus.DONE: _l("Ready"), SummaryStatus.FAILED: _l("Failed"),
}  # fmt: skip


def _scope() -> Scope:
    """The filters of the query string; anything that is not a number is no filter."""
    return Scope(
        competition_id=small_int(request.args.get("competition")),
        municipality_id=small_int(request.args.get("municipality")),
        year=small_int(request.args.get("year"), maximum=9999),
    )


def _scope_args(scope: Scope) -> dict:
    return {
        key: value
        for key, value in (("competition", scope.competition_id), ("municipality", scope.municipality_id), ("year", scope.year))
        if value is not None
    }


def _summary_form(data, formdata=True) -> SummaryForm:
    form = SummaryForm() if formdata else SummaryForm(formdata=None, competition=str(data.scope.competition_id or ""),
                                                       language=str(get_locale()))  # fmt: skip
    form.competition.choices = [SelectChoice("", _("The whole programme"))] + [
        SelectChoice(str(c.id), c.title(str(get_locale()))) for c in data.competitions
    ]
    form.language.choices = [SelectChoice(code, LANGUAGE_LABELS.get(code, code)) for code in current_app.config["LANGUAGES"]]
    return form


def _dashboard(scope: Scope, form: SummaryForm | None = None, status: int = 200):
    data = impact(scope)
    return render_template(
        "impact/dashboard.html",
        data=data,
        groups=charts.target_groups(data),
        charts=charts.drawn(data, str(get_locale())),
        scope_args=_scope_args(scope),
        summary_form=form or _summary_form(data, formdata=False),
        summaries=summaries.recent(),
        status_labels=STATUS_LABELS,
        language_labels=LANGUAGE_LABELS,
    ), status


@bp.route("/")
@role_required(ADMINISTRATOR)
def dashboard():
    return _dashboard(_scope())


@bp.route("/summaries", methods=["POST"])
@role_required(ADMINISTRATOR)
def summary():
    """Ask for a PDF programme summary; the worker builds it, the dashboard shows its progress."""
    data = impact(Scope())
    form = _summary_form(data)
    if form.validate_on_submit():
        competition_id = small_int(form.competition.data) if form.competition.data else None
        try:
            if form.competition.data and competition_id is None:
                raise Refused(fields={"competition": _("Choose a competition from the list.")})
            summary_id = summaries.request_summary(competition_id, form.language.data, current_user)
        except Refused as refused:
            db.session.rollback()
            for name, message in refused.fields.items():
                form[name].errors = [message]
        else:
            summaries.enqueue(summary_id)
            flash(_("The summary is being built; refresh this page to download it when it is ready."), "success")
            return redirect(url_for("impact.dashboard") + "#summary-h", code=303)
    return _dashboard(Scope(), form, 422)


@bp.route("/summaries/<int:summary_id>.pdf")
@role_required(ADMINISTRATOR)
def summary_pdf(summary_id: int):
    found = db.session.get(ImpactSummary, summary_id) or abort(404)
    if found.status != SummaryStatus.DONE or found.content is None:
        abort(404)
    return Response(found.content, content_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{found.filename}"'})  # fmt: skip


@bp.route("/reports")
@role_required(ADMINISTRATOR)
def reports():
    """The funded ideas and accepted reports a figure adds up (the same filters), with the
    sums at the foot: the figure on the dashboard is exactly this total."""
    scope = _scope()
    group = request.args.get("group")
    group = group if group in TARGET_GROUPS else None
    rows = contributing(scope)
    data = impact(scope)
    return render_template(
        "impact/reports.html",
        rows=rows,
        data=data,
        group=group,
        group_label=TARGET_GROUP_LABELS.get(group) if group else None,
        scope_args=_scope_args(scope),
    )
