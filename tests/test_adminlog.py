"""The administration log (issue #11, part 2): every change to competitions, criteria, the
workflow chosen, accounts and organisations, with who, when, before and after; append-only in
the database on both kinds; recorded from the web and from `flask` commands; a filterable page."""

from datetime import timedelta

import pytest
from flask_login import login_user
from sqlalchemy import select, text

from grantflow.adminlog.models import AdminLogEntry
from grantflow.adminlog.operations import KINDS, record
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.organisations.operations import create_organisation, update_organisation
from tests.conftest import login
from tests.test_competitions import FORM


def entries(kind=None):
    stmt = select(AdminLogEntry).order_by(AdminLogEntry.id)
    return db.session.scalars(stmt.where(AdminLogEntry.kind == kind) if kind else stmt).all()


def test_competition_and_criteria_changes_are_logged_with_before_and_after(client, factory):
    admin = factory.admin(name="Anna Admine")
    db.session.commit()
    login(client, admin.email)
    assert client.post("/competitions/new", data=FORM).status_code == 303
    created = entries("competition_created")[0]
    assert created.actor_id == admin.id and created.source == "web" and created.object_label == "DK-2027"
    assert created.after["budget"] == "20000.00" and created.after["workflow"] == "community_ideas"
    competition_id = created.object_id
    # Saving the form unchanged leaves no row; a change keeps only what changed.
    assert client.post(f"/competitions/{competition_id}/edit", data=FORM).status_code == 303
    assert entries("competition_changed") == []
    changed = {**FORM, "budget": "25000", "workflow": "resource_centre"}
    assert client.post(f"/competitions/{competition_id}/edit", data=changed).status_code == 303
    (entry,) = entries("competition_changed")
    assert entry.before == {"budget": "20000.00", "workflow": "community_ideas"}
    assert entry.after == {"budget": "25000.00", "workflow": "resource_centre"}
    # A refused change (the budget below what is committed, a taken code) leaves no row either.
    before = len(entries())
    factory.competition(code="DK-TAKEN")
    db.session.commit()
    assert client.post(f"/competitions/{competition_id}/edit", data={**changed, "code": "DK-TAKEN"}).status_code == 422
    assert len(entries()) == before
    # Criteria.
    criteria = f"/competitions/{competition_id}/criteria"
    data = {"name_lv": "Inovācija", "name_en": "Innovation", "max_points": "10", "weight": "1.5"}
    assert client.post(criteria, data=data).status_code == 303
    added = entries("criterion_added")[0]
    assert added.after["weight"] == "1.50" and added.object_label == "DK-2027: Inovācija"
    assert client.post(f"/competitions/{competition_id}/criteria/{added.object_id}/edit",
                       data={**data, "weight": "2"}).status_code == 303  # fmt: skip
    assert entries("criterion_changed")[0].before == {"weight": "1.50"}
    page = client.get("/admin/log").get_data(as_text=True)
    assert "Konkurss mainīts" in page and "Anna Admine" in page and "resource_centre" in page


def test_organisation_changes_are_logged(app, factory):
    org = factory.organisation(name="Biedrība Vecā")
    member = factory.member_of(org)
    db.session.commit()
    with app.test_request_context("/orgs/1/edit", method="POST"):
        login_user(member)
        update_organisation(org, {"name": "Biedrība Jaunā", "phone": org.phone})
    (entry,) = entries("organisation_changed")
    assert entry.before == {"name": "Biedrība Vecā"} and entry.after == {"name": "Biedrība Jaunā"}
    assert entry.actor_id == member.id and entry.source == "web"
    created = create_organisation({"name": "Jauna biedrība", "legal_form": "association"}, member)
    assert entries("organisation_created")[0].object_id == created.id


def test_flask_user_create_is_logged_as_a_command(app):
    result = app.test_cli_runner().invoke(
        args=["user", "create", "jauns.admins@example.lv", "--name", "Jauns", "--role", "administrator",
              "--password", "rudens-lapas-2026"])  # fmt: skip
    assert result.exit_code == 0, result.output
    (entry,) = entries("account_created")
    assert entry.actor_id is None and entry.source == "cli"
    assert entry.after == {"email": "jauns.admins@example.lv", "name": "Jauns", "roles": ["administrator"], "municipalities": []}


def test_the_log_is_append_only_in_the_database(factory):
    admin = factory.admin()
    record("account_deactivated", "account", admin.id, admin.email, before={"active": True}, after={"active": False}, actor=admin)
    db.session.commit()
    entry = entries()[0]
    entry.after = {"active": True}
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE admin_log SET kind = 'x'"))
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("DELETE FROM admin_log"))
    db.session.rollback()
    assert len(entries()) == 1


def test_an_undeclared_kind_is_a_programming_error(factory):
    with pytest.raises(LookupError):
        record("no_such_kind", "account", 1)
    assert "roles_changed" in KINDS and "competition_changed" in KINDS and "organisation_changed" in KINDS


def test_the_log_page_filters_by_kind_person_object_and_riga_day(client, factory):
    admin, other = factory.admin(name="Pirmā Admine"), factory.admin(name="Otrs Admins")
    evaluator = factory.evaluator(name="Vērtētāja Vera")
    record("roles_changed", "account", evaluator.id, evaluator.email, before={"roles": ["evaluator"]},
           after={"roles": ["administrator"]}, actor=admin)  # fmt: skip
    old = record("account_deactivated", "account", other.id, other.email, before={"active": True},
                 after={"active": False}, actor=other)  # fmt: skip
    old.created_at = utcnow() - timedelta(days=40)
    db.session.commit()
    login(client, admin.email)
    page = client.get("/admin/log?kind=roles_changed").get_data(as_text=True)
    assert evaluator.email in page and other.email not in page
    page = client.get(f"/admin/log?person={other.id}").get_data(as_text=True)
    assert other.email in page and evaluator.email not in page
    page = client.get(f"/admin/log?object=account&object_id={evaluator.id}").get_data(as_text=True)
    assert evaluator.email in page and other.email not in page
    today = utcnow().date().isoformat()
    page = client.get(f"/admin/log?since={today}").get_data(as_text=True)
    assert evaluator.email in page and other.email not in page
    for nasty in ("?since=0000-00-00", "?until=9999-12-31", "?since=²", "?person=99999999999999999999", "?page=-1",
                  "?kind=%00", "?object_id=1e309"):  # fmt: skip
        assert client.get("/admin/log" + nasty).status_code == 200
