"""The programme's impact figures, added up from accepted final reports."""

from sqlalchemy import func, select

from grantflow.apply.models import Idea
from grantflow.extensions import db
from grantflow.reports.models import Report


def impact_figures() -> dict:
    """People reached, organisations involved, initiatives reported, volunteers: one query."""
    row = db.session.execute(
        select(
            func.count(Report.id),
            func.coalesce(func.sum(Report.participants), 0),
            func.coalesce(func.sum(Report.organisations_count), 0),
            func.coalesce(func.sum(Report.volunteers), 0),
            func.coalesce(func.max(func.cast(Idea.is_demo, db.Integer)), 0),
        )
        .join(Idea, Idea.id == Report.idea_id)
        .where(Report.status == "accepted")
    ).one()
    return {
        "initiatives": row[0],
        "people": int(row[1]),
        "organisations": int(row[2]),
        "volunteers": int(row[3]),
        "demo": bool(row[4]),
    }
