"""The impact dashboard for administrators: the figures of the programme or a competition,
per municipality and per year, drawn as charts, each figure leading to the reports behind it."""

from flask import Blueprint, render_template, request
from flask_babel import get_locale

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR
from grantflow.core.safety import small_int
from grantflow.ideas.forms import TARGET_GROUP_LABELS
from grantflow.ideas.models import TARGET_GROUPS
from grantflow.impact import charts
from grantflow.impact.operations import Scope, contributing, impact

bp = Blueprint("impact", __name__, url_prefix="/admin/impact")


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


@bp.route("/")
@role_required(ADMINISTRATOR)
def dashboard():
    scope = _scope()
    data = impact(scope)
    return render_template(
        "impact/dashboard.html",
        data=data,
        groups=charts.target_groups(data),
        charts=charts.drawn(data, str(get_locale())),
        scope_args=_scope_args(scope),
    )


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
