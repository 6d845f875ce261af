"""Pages for visitors (no login): competitions, funded ideas, impact figures, the sitemap and
the Atom feed of open competitions."""

from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_locale
from flask_login import current_user

from grantflow.accounts.models import ADMINISTRATOR
from grantflow.competitions.forms import DOCUMENT_KINDS
from grantflow.core.safety import small_int
from grantflow.core.types import utcnow
from grantflow.core.web import alternates, public_page
from grantflow.ideas.forms import TARGET_GROUP_LABELS
from grantflow.impact import charts
from grantflow.impact.operations import impact
from grantflow.organisations.models import LEGAL_FORM_LABELS
from grantflow.public import operations as ops

bp = Blueprint("public", __name__)


def _time_left(closes, now) -> dict:
    seconds = max(0, int((closes - now).total_seconds()))
    return {"seconds": seconds, "days": seconds // 86400, "hours": seconds % 86400 // 3600,
            "minutes": seconds % 3600 // 60}


@bp.route("/calls/")
@public_page
def competitions():
    now = utcnow()
    open_, past = ops.public_competitions(now)
    return render_template("public/competitions.html", open_competitions=open_, past=past,
                           demo_data=any(c.is_demo for c in open_ + past))


@bp.route("/calls/<int:competition_id>")
@public_page
def competition(competition_id: int):
    now = utcnow()
    competition = ops.public_competition(competition_id, now) or abort(404)
    total_weight = sum((c.weight * c.max_points for c in competition.criteria), 0)
    return render_template(
        "public/competition.html",
        competition=competition,
        is_open=competition.is_open(now),
        left=_time_left(competition.closes_at, now),
        legal_forms=list(LEGAL_FORM_LABELS.values())[:-1],
        municipalities=ops.municipalities(),
        total_weight=total_weight,
        document_kinds=DOCUMENT_KINDS,
        demo_data=competition.is_demo,
    )


@bp.route("/calls/<int:competition_id>/documents/<int:doc_id>")
def document(competition_id: int, doc_id: int):
    """A competition's rules or template, as uploaded (its type checked by content then)."""
    preview = current_user.is_authenticated and current_user.has_role(ADMINISTRATOR)
    found = ops.public_document(competition_id, doc_id, utcnow(), preview=preview) or abort(404)
    return Response(found.data, content_type=found.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
        "X-Content-Type-Options": "nosniff",
        "ETag": f'"{found.sha256}"',
    })  # fmt: skip


def _filters() -> ops.Filters:
    return ops.Filters(
        competition_id=small_int(request.args.get("competition")),
        year=small_int(request.args.get("year"), maximum=9999),
        municipality_id=small_int(request.args.get("municipality")),
    )


@bp.route("/results/")
@public_page
def results():
    filters = _filters()
    rows = ops.grants(filters)
    return render_template(
        "public/results.html",
        groups=ops.by_municipality(rows),
        count=len(rows),
        total=sum((r.amount for r in rows), 0),
        filters=filters,
        choices=ops.filter_choices(),
        demo_data=any(r.idea.is_demo for r in rows),
    )


@bp.route("/results/<int:idea_id>")
@public_page
def idea(idea_id: int):
    grant = ops.grant(idea_id) or abort(404)
    return render_template("public/idea.html", grant=grant, idea=grant.idea, demo_data=grant.idea.is_demo,
                           target_group_labels=TARGET_GROUP_LABELS)


@bp.route("/impact")
@public_page
def impact_page():
    data = impact()
    return render_template("public/impact.html", data=data, groups=charts.target_groups(data),
                           charts=charts.drawn(data, str(get_locale()), which=("reach", "money")), demo_data=data.demo)


@bp.route("/sitemap.xml")
def sitemap():
    now = utcnow()
    open_, past = ops.public_competitions(now)
    pages = [alternates(endpoint) for endpoint in ("pages.index", "public.competitions", "public.results",
                                                   "public.impact_page", "opendata.index")]
    pages += [alternates("public.competition", {"competition_id": c.id}) for c in open_ + past]
    pages += [alternates("public.idea", {"idea_id": g.idea.id}) for g in ops.grants()]
    body = render_template("public/sitemap.xml", pages=pages)
    return body, 200, {"Content-Type": "application/xml; charset=utf-8"}


@bp.route("/feed.atom")
def feed():
    now = utcnow()
    open_, _past = ops.public_competitions(now)
    updated = max((c.created_at for c in open_), default=now)
    body = render_template("public/feed.atom.xml", competitions=open_, updated=updated, now=now)
    return body, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}
