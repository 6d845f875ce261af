"""forms as data: form_versions (application and report forms), competitions pointing at
theirs, and every idea's and report's answers in one JSON document with the version they were
given under. The answers to questions without a meaning (community_need, goals,
less_active_reach, coop_*, sustainability; a report's changed and continues) move into the
document and their columns are dropped; answers with a meaning are copied into the document
and stay in their typed columns and rows as well. Downgrade puts the columns back, filled.

Revision ID: 0022_forms
Revises: 0016_exports
Create Date: 2026-11-24 18:10:00

"""
import copy
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

from grantflow.core.types import Money, UTCDateTime, utcnow

revision = "0022_forms"
down_revision = "0025_programme"
branch_labels = None
depends_on = None

FORMS = Path(__file__).resolve().parents[2] / "workflows" / "forms"
# The default forms as they were when this migration was written: the files are read (they
# are the definitions the existing answers were given under), falling back to no file.
DEFAULTS = {"application": "community_idea.yaml", "report": "community_report.yaml"}
IDEA_TEXTS = ("community_need", "goals", "less_active_reach", "coop_premises", "coop_inventory", "coop_upkeep", "sustainability")
REPORT_TEXTS = ("changed", "continues")
BATCH = 500

form_versions = sa.table(
    "form_versions",
    sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("number", sa.Integer),
    sa.column("kind", sa.String), sa.column("definition", sa.JSON), sa.column("source", sa.String),
    sa.column("created_at", UTCDateTime()), sa.column("frozen_at", UTCDateTime()),
)  # fmt: skip
ideas = sa.table(
    "ideas",
    sa.column("id", sa.Integer), sa.column("state", sa.String), sa.column("submitted_at", UTCDateTime()),
    sa.column("title", sa.String), sa.column("summary", sa.Text),
    *(sa.column(name, sa.Text) for name in IDEA_TEXTS),
    sa.column("target_groups", sa.JSON), sa.column("expected_participants", sa.Integer),
    sa.column("contact_name", sa.String), sa.column("contact_email", sa.String), sa.column("contact_phone", sa.String),
    sa.column("municipality_id", sa.Integer), sa.column("parish_id", sa.Integer), sa.column("place", sa.String),
    sa.column("publish_consent", sa.Boolean),
    sa.column("answers", sa.JSON), sa.column("form_version_id", sa.Integer),
)  # fmt: skip
activities = sa.table(
    "idea_activities", sa.column("idea_id", sa.Integer), sa.column("position", sa.Integer), sa.column("id", sa.Integer),
    sa.column("description", sa.Text), sa.column("starts_on", sa.Date), sa.column("ends_on", sa.Date),
)  # fmt: skip
partners = sa.table(
    "partners", sa.column("idea_id", sa.Integer), sa.column("position", sa.Integer), sa.column("id", sa.Integer),
    sa.column("name", sa.String), sa.column("kind", sa.String), sa.column("contribution", sa.Text),
)  # fmt: skip
budget_lines = sa.table(
    "budget_lines", sa.column("idea_id", sa.Integer), sa.column("position", sa.Integer), sa.column("id", sa.Integer),
    sa.column("item", sa.String), sa.column("quantity", sa.Numeric(10, 2)), sa.column("unit_cost", Money()),
    sa.column("own", sa.Boolean),
)  # fmt: skip
reports = sa.table(
    "reports",
    sa.column("id", sa.Integer), sa.column("idea_id", sa.Integer), sa.column("status", sa.String),
    sa.column("participants", sa.Integer), sa.column("organisations_count", sa.Integer),
    sa.column("organisations_names", sa.Text), sa.column("volunteers", sa.Integer),
    *(sa.column(name, sa.Text) for name in REPORT_TEXTS),
    sa.column("answers", sa.JSON), sa.column("form_version_id", sa.Integer),
)  # fmt: skip
report_activities = sa.table(
    "report_activities", sa.column("report_id", sa.Integer), sa.column("id", sa.Integer),
    sa.column("held_on", sa.Date), sa.column("description", sa.Text), sa.column("participants", sa.Integer),
)  # fmt: skip
report_reach = sa.table(
    "report_reach", sa.column("report_id", sa.Integer), sa.column("id", sa.Integer),
    sa.column("target_group", sa.String), sa.column("people", sa.Integer),
)  # fmt: skip
report_spending = sa.table(
    "report_spending", sa.column("report_id", sa.Integer), sa.column("id", sa.Integer),
    sa.column("budget_line_id", sa.Integer), sa.column("item", sa.String),
    sa.column("planned", Money()), sa.column("actual", Money()),
)  # fmt: skip


def _money(value) -> str:
    return f"{value:f}" if value is not None else "0.00"


def _iso(value):
    return value.isoformat() if value is not None else None


def _children(connection, table, key, ids, order):
    found: dict[int, list] = {i: [] for i in ids}
    for row in connection.execute(sa.select(table).where(table.c[key].in_(ids)).order_by(*order)).mappings():
        found[row[key]].append(row)
    return found


def _idea_answers(idea, acts, parts, lines) -> dict:
    answers = {
        "title": idea["title"] or "",
        "summary": idea["summary"] or "",
        **{name: idea[name] or "" for name in IDEA_TEXTS},
        "target_groups": list(idea["target_groups"] or []),
        "expected_participants": idea["expected_participants"],
        "contact_name": idea["contact_name"] or "",
        "contact_email": idea["contact_email"] or "",
        "contact_phone": idea["contact_phone"] or "",
        "municipality": {"municipality": idea["municipality_id"], "parish": idea["parish_id"]},
        "place": idea["place"] or "",
        "publish_consent": bool(idea["publish_consent"]),
        "activities": [
            {"description": a["description"] or "", "starts_on": _iso(a["starts_on"]), "ends_on": _iso(a["ends_on"])}
            for a in acts
        ],
        "partners": [{"name": p["name"] or "", "kind": p["kind"] or None, "contribution": p["contribution"] or ""} for p in parts],
        "budget_lines": [
            {"item": l["item"] or "", "quantity": f"{l['quantity']:f}", "unit_cost": _money(l["unit_cost"]), "own": bool(l["own"])}
            for l in lines
        ],
    }
    return answers


def _report_answers(report, acts, reach, spending) -> dict:
    return {
        "participants": report["participants"],
        "volunteers": report["volunteers"],
        "organisations_count": report["organisations_count"],
        "organisations_names": report["organisations_names"] or "",
        **{name: report[name] or "" for name in REPORT_TEXTS},
        "activities": [
            {"held_on": _iso(a["held_on"]), "description": a["description"] or "", "participants": a["participants"]}
            for a in acts
        ],
        "reach": [{"target_group": r["target_group"], "people": r["people"]} for r in reach],
        "spending": [
            {"item": s["item"] or "", "planned": _money(s["planned"]), "actual": _money(s["actual"]),
             "budget_line_id": s["budget_line_id"]}
            for s in spending
        ],
    }  # fmt: skip


def _version(connection, kind: str, frozen: bool) -> int:
    definition = yaml.safe_load((FORMS / DEFAULTS[kind]).read_text(encoding="utf-8"))
    now = utcnow()
    return connection.execute(
        form_versions.insert()
        .values(
            name=definition["name"], number=1, kind=kind, definition=copy.deepcopy(definition),
            source=f"workflows/forms/{DEFAULTS[kind]}", created_at=now, frozen_at=now if frozen else None,
        )
        .returning(form_versions.c.id)
    ).scalar_one()  # fmt: skip


def upgrade():
    op.create_table(
        "form_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("frozen_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_form_versions_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_versions")),
        sa.UniqueConstraint("name", "number", name=op.f("uq_form_versions_name")),
    )
    with op.batch_alter_table("competitions") as batch_op:
        batch_op.add_column(sa.Column("application_form_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("report_form_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_competitions_application_form_id_form_versions"), "form_versions", ["application_form_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_competitions_report_form_id_form_versions"), "form_versions", ["report_form_id"], ["id"]
        )
    for table in ("ideas", "reports"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("answers", sa.JSON(), nullable=True))
            batch_op.add_column(sa.Column("form_version_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_form_version_id_form_versions"), "form_versions", ["form_version_id"], ["id"]
            )

    connection = op.get_bind()
    any_submitted = connection.scalar(sa.select(sa.func.count()).select_from(ideas).where(ideas.c.submitted_at.is_not(None)))
    any_report = connection.scalar(sa.select(sa.func.count()).select_from(reports).where(reports.c.status != "draft"))
    has_ideas = connection.scalar(sa.select(sa.func.count()).select_from(ideas))
    has_reports = connection.scalar(sa.select(sa.func.count()).select_from(reports))
    if has_ideas:
        application = _version(connection, "application", bool(any_submitted))
        ids = connection.scalars(sa.select(ideas.c.id).order_by(ideas.c.id)).all()
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            acts = _children(connection, activities, "idea_id", chunk, (activities.c.position, activities.c.id))
            parts = _children(connection, partners, "idea_id", chunk, (partners.c.position, partners.c.id))
            lines = _children(connection, budget_lines, "idea_id", chunk, (budget_lines.c.position, budget_lines.c.id))
            for idea in connection.execute(sa.select(ideas).where(ideas.c.id.in_(chunk))).mappings():
                i = idea["id"]
                connection.execute(
                    ideas.update()
                    .where(ideas.c.id == i)
                    .values(answers=_idea_answers(idea, acts[i], parts[i], lines[i]), form_version_id=application)
                )
    if has_reports:
        report_form = _version(connection, "report", bool(any_report))
        ids = connection.scalars(sa.select(reports.c.id).order_by(reports.c.id)).all()
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            acts = _children(connection, report_activities, "report_id", chunk, (report_activities.c.id,))
            reach = _children(connection, report_reach, "report_id", chunk, (report_reach.c.id,))
            spending = _children(connection, report_spending, "report_id", chunk, (report_spending.c.id,))
            for report in connection.execute(sa.select(reports).where(reports.c.id.in_(chunk))).mappings():
                r = report["id"]
                connection.execute(
                    reports.update()
                    .where(reports.c.id == r)
                    .values(answers=_report_answers(report, acts[r], reach[r], spending[r]), form_version_id=report_form)
                )

    with op.batch_alter_table("ideas") as batch_op:
        for name in IDEA_TEXTS:
            batch_op.drop_column(name)
    with op.batch_alter_table("reports") as batch_op:
        for name in REPORT_TEXTS:
            batch_op.drop_column(name)


def downgrade():
    with op.batch_alter_table("ideas") as batch_op:
        for name in IDEA_TEXTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("reports") as batch_op:
        for name in REPORT_TEXTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
    connection = op.get_bind()
    for table, names in ((ideas, IDEA_TEXTS), (reports, REPORT_TEXTS)):
        for row in connection.execute(sa.select(table.c.id, table.c.answers).where(table.c.answers.is_not(None))).mappings():
            answers = row["answers"] or {}
            values = {name: str(answers.get(name) or "") for name in names}
            if any(values.values()):
                connection.execute(table.update().where(table.c.id == row["id"]).values(**values))
    for table in ("reports", "ideas"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_form_version_id_form_versions"), type_="foreignkey")
            batch_op.drop_column("form_version_id")
            batch_op.drop_column("answers")
    with op.batch_alter_table("competitions") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_competitions_report_form_id_form_versions"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_competitions_application_form_id_form_versions"), type_="foreignkey")
        batch_op.drop_column("report_form_id")
        batch_op.drop_column("application_form_id")
    op.drop_table("form_versions")
