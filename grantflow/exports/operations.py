"""Exports on the task queue: an administrator asks for one (a row, committed, then enqueued);
a worker claims it with one conditional UPDATE, builds the file in the requester's language and
stores it in the row; the sweep takes up exports whose enqueue was lost or whose worker died
(running past EXPORT_LEASE_SECONDS), so none is lost and two workers never build one at once."""

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from grantflow.accounts.models import User
from grantflow.competitions.models import Competition
from grantflow.core import queue, spreadsheet
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.exports import personal, tables
from grantflow.exports.models import Export, ExportStatus
from grantflow.review import ranking as agg

log = logging.getLogger(__name__)
BUILD_TASK = "exports.build"
SWEEP_TASK = "exports.sweep"
RETENTION_TASK = "exports.retention"
UNFINISHED = (ExportStatus.QUEUED, ExportStatus.RUNNING)
RANKING = "ranking"  # a competition's ranking, asked for on its ranking page, with that page's filters


def request_export(kind: str, fmt: str, filters: dict, actor: User) -> int:
    """Record an export and commit it; the caller then enqueues it (`enqueue_build`)."""
    if kind not in tables.KINDS or fmt not in tables.FORMATS:
        raise Refused(_("Choose what to export and the file format."))
    export = Export(kind=kind, format=fmt, filters={k: v for k, v in filters.items() if v},
                    requested_by_id=actor.id, status=ExportStatus.QUEUED)  # fmt: skip
    db.session.add(export)
    db.session.flush()
    export_id = export.id  # read before the commit: after it, this request touches the database no more
    db.session.commit()
    return export_id


def request_ranking(competition: Competition, fmt: str, args, actor: User) -> int:
    """Record an export of `competition`'s ranking as the ranking page shows it with `args`
    (municipality, target group, state, order; nonsense is dropped as the page drops it) and
    commit it; the caller then enqueues it."""
    if fmt not in tables.FORMATS:
        raise Refused(_("Choose the file format."))
    wanted = {k: str(v) for k, v in agg.Filters.from_args(args, competition).as_args().items()}
    if "municipality" in wanted:
        wanted["municipality"] = int(wanted["municipality"])  # as the other exports keep it
    export = Export(kind=RANKING, format=fmt, filters={"competition": competition.id, **wanted},
                    requested_by_id=actor.id, status=ExportStatus.QUEUED)  # fmt: skip
    db.session.add(export)
    db.session.flush()
    export_id = export.id
    db.session.commit()
    return export_id


def _ranking_table(filters: dict) -> tuple[str, list, list]:
    competition = db.session.get(Competition, filters["competition"])
    if competition is None:
        raise LookupError(f"competition {filters['competition']} no longer exists")
    args = {k: str(v) for k, v in filters.items() if k != "competition"}
    result = agg.ranking(competition, agg.Filters.from_args(args, competition), page=None)
    header, rows = agg.export_table(competition, result)
    return competition.code, header, rows


def enqueue_build(export_id: int) -> None:
    queue.enqueue(BUILD_TASK, export_id)


def recent(limit: int = 20) -> list[Export]:
    return db.session.scalars(select(Export).order_by(Export.id.desc()).limit(limit)).all()


def _lease_expired():
    return utcnow() - timedelta(seconds=int(current_app.config["EXPORT_LEASE_SECONDS"]))


def claim(export_id: int) -> bool:
    """Take the export for this worker: queued, or running past its lease (a dead worker's).
    One UPDATE with the condition in its WHERE clause, so only one worker wins."""
    claimed = db.session.execute(
        update(Export)
        .where(Export.id == export_id, or_(Export.status == ExportStatus.QUEUED,
                                           and_(Export.status == ExportStatus.RUNNING, Export.started_at < _lease_expired())))
        .values(status=ExportStatus.RUNNING, started_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # fmt: skip
    db.session.commit()
    return claimed == 1


def render(export: Export) -> tuple[bytes, int, str]:
    """The file's bytes, its number of rows and its name, in the requester's language."""
    locale = export.requested_by.locale if export.requested_by else "lv"
    with force_locale(locale):
        if export.kind == RANKING:
            label, header, rows = _ranking_table(export.filters)
            name_part = f"ranking-{_safe(label)}"
        else:
            label, build = tables.KINDS[export.kind]
            header, rows = build(tables.Filters.of(export.filters))
            name_part = export.kind
        header = [str(h) for h in header]
        rows = list(rows)
        stamp = export.created_at.strftime("%Y%m%d-%H%M")
        name = f"{name_part}-{stamp}.{export.format}"
        if export.format == "xlsx":
            data = spreadsheet.xlsx_bytes(str(label), header, rows)
        else:
            data = spreadsheet.csv_bytes(header, rows)
    return data, len(rows), name


def _safe(name: str) -> str:
    return "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch in "-_")) or "competition"


@queue.task(BUILD_TASK)
def build(export_id: int) -> None:
    if not claim(export_id):
        return
    export = db.session.get(Export, export_id)
    try:
        data, count, name = render(export)
    except Exception as error:  # recorded on the row for the page; the worker goes on
        db.session.rollback()
        log.exception("export %s failed", export_id)
        export = db.session.get(Export, export_id)
        export.status, export.error, export.finished_at = ExportStatus.FAILED, f"{type(error).__name__}: {error}", utcnow()
        db.session.commit()
        return
    export.content, export.size, export.rows, export.filename = data, len(data), count, name
    export.status, export.finished_at = ExportStatus.DONE, utcnow()
    db.session.commit()


def lost() -> list[int]:
    """Exports a worker should have taken: queued for over a minute (the enqueue was lost) or
    running past the lease (the worker died)."""
    return list(
        db.session.scalars(
            select(Export.id).where(or_(
                and_(Export.status == ExportStatus.QUEUED, Export.created_at < utcnow() - timedelta(minutes=1)),
                and_(Export.status == ExportStatus.RUNNING, Export.started_at < _lease_expired()),
            )).order_by(Export.id)
        )
    )  # fmt: skip


@queue.periodic(SWEEP_TASK, minute="*")
def sweep() -> None:
    for export_id in lost():
        build(export_id)


@queue.periodic(RETENTION_TASK, minute="23", hour="2")
def apply_retention() -> None:
    personal.retention()
