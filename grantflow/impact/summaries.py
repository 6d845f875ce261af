"""The PDF programme summary on the task queue: an administrator asks for one (the whole
programme or one competition, in Latvian or English; a row, committed, then enqueued); a
worker claims it with one conditional UPDATE, draws the same charts as the dashboard
(`charts.drawn`), renders the PDF with WeasyPrint and stores it in the row; the sweep takes up
summaries whose enqueue was lost or whose worker died, as the exports' sweep does."""

import logging
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from grantflow.competitions.models import Competition
from grantflow.core import queue
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import format_day, format_money, format_number
from grantflow.core.types import utcnow
from grantflow.documents.pdf import html_to_pdf
from grantflow.impact import charts
from grantflow.impact.models import ImpactSummary, SummaryStatus
from grantflow.impact.operations import Scope, impact

log = logging.getLogger(__name__)
BUILD_TASK = "impact.summary"
SWEEP_TASK = "impact.summary_sweep"


def request_summary(competition_id: int | None, locale: str, actor) -> int:
    """Record a summary to build and commit it; the caller then enqueues it (`enqueue`)."""
    if locale not in current_app.config["LANGUAGES"]:
        raise Refused(fields={"language": _("Choose the summary's language.")})
    if competition_id is not None and db.session.get(Competition, competition_id) is None:
        raise Refused(fields={"competition": _("Choose a competition from the list.")})
    summary = ImpactSummary(competition_id=competition_id, locale=locale, requested_by_id=actor.id, status=SummaryStatus.QUEUED)
    db.session.add(summary)
    db.session.flush()
    summary_id = summary.id
    db.session.commit()
    return summary_id


def enqueue(summary_id: int) -> None:
    queue.enqueue(BUILD_TASK, summary_id)


def recent(limit: int = 10) -> list[ImpactSummary]:
    return db.session.scalars(select(ImpactSummary).order_by(ImpactSummary.id.desc()).limit(limit)).all()


def _lease_expired():
    return utcnow() - timedelta(seconds=int(current_app.config["EXPORT_LEASE_SECONDS"]))


def claim(summary_id: int) -> bool:
    """Take the summary for this worker: queued, or running past its lease. One UPDATE with
    the condition in its WHERE clause, so only one worker wins."""
    claimed = db.session.execute(
        update(ImpactSummary)
        .where(ImpactSummary.id == summary_id,
               or_(ImpactSummary.status == SummaryStatus.QUEUED,
                   and_(ImpactSummary.status == SummaryStatus.RUNNING, ImpactSummary.started_at < _lease_expired())))
        .values(status=SummaryStatus.RUNNING, started_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # fmt: skip
    db.session.commit()
    return claimed == 1


def html(competition_id: int | None, locale: str) -> str:
    """The summary's HTML in `locale`: the figures, the charts of the dashboard, the tables
    per municipality, year and competition."""
    with force_locale(locale):
        data = impact(Scope(competition_id=competition_id))
        competition = db.session.get(Competition, competition_id) if competition_id is not None else None
        return render_template(
            "impact/summary_pdf.html",
            language=locale,
            data=data,
            competition=competition,
            groups=charts.target_groups(data),
            charts=charts.drawn(data, locale),
            money=lambda value: format_money(value, locale),
            number=lambda value: format_number(value, locale),
            today=format_day(utcnow(), locale),
            programme_name=_programme_name(locale),
        )


def _programme_name(locale: str) -> str:
    name = current_app.config["PROGRAMME_NAME"]
    return (name.get(locale) or name.get("lv") or "") if isinstance(name, dict) else name


def render(summary: ImpactSummary) -> tuple[bytes, str]:
    pdf = html_to_pdf(html(summary.competition_id, summary.locale))
    scope = summary.competition.code if summary.competition else "programme"
    return pdf, f"impact-{scope}-{summary.locale}-{summary.created_at:%Y%m%d-%H%M}.pdf"


@queue.task(BUILD_TASK)
def build(summary_id: int) -> None:
    if not claim(summary_id):
        return
    summary = db.session.get(ImpactSummary, summary_id)
    try:
        data, name = render(summary)
    except Exception as error:  # recorded on the row for the page; the worker goes on
        db.session.rollback()
        log.exception("impact summary %s failed", summary_id)
        summary = db.session.get(ImpactSummary, summary_id)
        summary.status, summary.error, summary.finished_at = SummaryStatus.FAILED, f"{type(error).__name__}: {error}", utcnow()
        db.session.commit()
        return
    # The render read in one long transaction; end it before writing, so on SQLite a write made
    # meanwhile by another process (a login) cannot make this one's upgrade to a writer fail.
    db.session.rollback()
    db.session.execute(
        update(ImpactSummary).where(ImpactSummary.id == summary_id)
        .values(content=data, size=len(data), filename=name, status=SummaryStatus.DONE, finished_at=utcnow())
    )  # fmt: skip
    db.session.commit()


def lost() -> list[int]:
    """Summaries a worker should have taken: queued for over a minute or running past the lease."""
    return list(db.session.scalars(
        select(ImpactSummary.id).where(or_(
            and_(ImpactSummary.status == SummaryStatus.QUEUED, ImpactSummary.created_at < utcnow() - timedelta(minutes=1)),
            and_(ImpactSummary.status == SummaryStatus.RUNNING, ImpactSummary.started_at < _lease_expired()),
        )).order_by(ImpactSummary.id)
    ))  # fmt: skip


@queue.periodic(SWEEP_TASK, minute="*")
def sweep() -> None:
    for summary_id in lost():
        build(summary_id)
