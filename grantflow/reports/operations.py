"""Final reports: the guards and effects of accepting or returning one."""

from sqlalchemy import select

from flask_babel import lazy_gettext as _l

from grantflow.extensions import db
from grantflow.reports.models import Report
from grantflow.workflow.registry import effect, guard


def report_of(idea) -> Report | None:
    return db.session.scalars(select(Report).where(Report.idea_id == idea.id)).first()


@guard("report_submitted", _l("The final report has not been submitted."))
def report_submitted(idea, ctx) -> bool:
    report = report_of(idea)
    return report is not None and report.status == "submitted"


@effect("return_report")
def return_report(idea, ctx) -> None:
    report = report_of(idea)
    report.status = "returned"
    report.return_comment = ctx.comment


@effect("accept_report")
def accept_report(idea, ctx) -> None:
    report = report_of(idea)
    report.status = "accepted"
    report.accepted_at = ctx.now
