"""Amendments to agreements: asked with a reason, approved (numbered document, grant, budget
lines, dates and the unpaid instalments changed, earlier values kept, audited) or refused;
an amendment that overspends the competition's budget refused with nothing changed; two
approvals of one request never both succeed. And the agreement's party details: the
community's account and signatory printed, a missing one refused by name."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grantflow.amendments import operations as ops
from grantflow.amendments.models import Amendment, Status
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.documents import operations as documents
from grantflow.documents.models import Document
from grantflow.funding.models import Decision
from grantflow.funding.operations import committed, decision_of
from grantflow.ideas.models import BudgetLine
from grantflow.ideas.operations import recompute_budget
from grantflow.payments.operations import schedule_of
from grantflow.payments.totals import totals_for
from grantflow.reports.operations import blank_report
from grantflow.workflow import engine
from grantflow.workflow.models import AuditEntry
from tests.conftest import login
from tests.test_concurrency import crowd
from tests.test_documents import confirm, pdf_text

D = Decimal


@pytest.fixture
def funded(factory):
    """Funded in full, 1500 € in two lines (Dēļi 1000 €, Krāsa 500 €): schedule 1200 € + 300 €."""
    idea = factory.reviewed(amount="1000.00")
    idea.budget_lines.append(BudgetLine(position=2, item="Krāsa", quantity=D("10"), unit_cost=D("50.00")))
    recompute_budget(idea)
    db.session.commit()
    admin = factory.admin()
    engine.fire(idea, "fund", admin, amount=D("1500.00"))
    db.session.commit()
    return idea, factory.member_of(idea.organisation), admin


def _ids(idea):
    return [line.id for line in idea.budget_lines]


def _ask(idea, applicant, boards, paint, days=0, reason="Dēļi kļuva lētāki, krāsas vajag vairāk."):
    first, second = _ids(idea)
    activity = idea.activities[0]
    dates = {activity.id: (activity.starts_on + timedelta(days=days), activity.starts_on + timedelta(days=days + 10))}
    return ops.request_amendment(idea, applicant, reason=reason, lines={first: D(boards), second: D(paint)}, dates=dates)


def test_approval_changes_grant_budget_dates_and_schedule_and_keeps_the_history(funded, factory):
    idea, applicant, admin = funded
    confirm(idea, factory)
    start = idea.activities[0].starts_on
    amendment = _ask(idea, applicant, "800.00", "600.00", days=14)  # lowered by 100 €, 200 € moved
    assert amendment.status == Status.REQUESTED and amendment.amount == D("1400.00")
    assert decision_of(idea).amount == D("1500.00")  # nothing changes before approval
    ops.approve(amendment, admin, answer="Pamatoti.", version=amendment.version)
    db.session.expire_all()
    assert amendment.status == Status.APPROVED and amendment.number == 1
    assert decision_of(idea).amount == D("1400.00")
    assert [line.total for line in idea.budget_lines] == [D("800.00"), D("600.00")]
    assert idea.budget_lines[1].quantity == D("10")  # 600 € divides into 10 × 60 €
    assert idea.activities[0].starts_on == start + timedelta(days=14)
    # The answers document follows the rows (it is read in their place where they are not loaded).
    assert idea.answers["activities"][0]["starts_on"] == (start + timedelta(days=14)).isoformat()
    assert [(r["quantity"], r["unit_cost"]) for r in idea.answers["budget_lines"]][1] == ("10.00", "60.00")
    assert [(r.planned, r.amount) for r in schedule_of(idea)] == [(D("1200.00"), D("1200.00")), (D("200.00"), D("200.00"))]
    assert amendment.before["amount"] == "1500.00"
    assert [r["amount"] for r in amendment.before["lines"]] == ["1000.00", "500.00"]
    assert [r.item for r in blank_report(idea).spending] == ["Dēļi", "Krāsa"]
    assert [r.planned for r in blank_report(idea).spending] == [D("800.00"), D("600.00")]  # reports: the amended budget
    text = pdf_text(amendment.document.pdf)
    assert "GROZĪJUMI Nr. 1" in text and "1.2. punktu" in text and "1400,00" in re.sub(r"\s", "", text)
    assert "četri simti" in text.replace("\n", " ")
    assert amendment.document.kind == "amendment" and documents.by_token(amendment.document.token) is not None
    kinds = db.session.scalars(select(AuditEntry.kind).where(AuditEntry.idea_id == idea.id)).all()
    assert {"amendment_requested", "amendment_approved", "document_issued"} <= set(kinds)
    second = _ask(idea, applicant, "700.00", "700.00")
    ops.approve(second, admin, answer="", version=second.version)
    assert second.number == 2 and second.before["amount"] == "1400.00"


def test_an_amendment_that_overspends_the_competition_budget_is_refused(funded):
    idea, applicant, admin = funded
    idea.competition.budget = D("1600.00")  # 100 € left
    db.session.commit()
    with pytest.raises(Refused, match="budžets"):
        _ask(idea, applicant, "1200.00", "500.00")  # +200 €
    db.session.rollback()
    assert db.session.scalars(select(Amendment)).all() == []
    amendment = _ask(idea, applicant, "1050.00", "500.00")  # +50 € fits now
    idea.competition.budget = D("1520.00")  # then the budget shrinks to 20 € left
    db.session.commit()
    version = idea.version
    with pytest.raises(Refused, match="budžets"):
        ops.approve(amendment, admin, answer="", version=amendment.version)
    db.session.expire_all()
    assert amendment.status == Status.REQUESTED and amendment.number is None
    assert decision_of(idea).amount == D("1500.00") and idea.version == version
    assert [r.amount for r in schedule_of(idea)] == [D("1200.00"), D("300.00")]


def test_raising_within_the_budget_raises_the_last_free_instalment(funded, factory):
    idea, applicant, admin = funded
    confirm(idea, factory)
    amendment = _ask(idea, applicant, "1000.00", "600.00")
    ops.approve(amendment, admin, answer="", version=amendment.version)
    assert decision_of(idea).amount == D("1600.00")
    assert [r.amount for r in schedule_of(idea)] == [D("1200.00"), D("400.00")]


def test_a_raised_grant_is_a_new_decision_with_its_own_letter_and_the_earlier_kept(client, funded, factory):
    idea, applicant, admin = funded
    confirm(idea, factory)
    first = decision_of(idea)
    first_id, first_number = first.id, first.number
    letter = documents.issue(idea, documents.DECISION, admin)
    committed_before = committed(idea.competition_id)
    amendment = _ask(idea, applicant, "1000.00", "700.00")  # +200 €
    ops.approve(amendment, admin, answer="Budžets to sedz.", version=amendment.version)
    db.session.expire_all()
    new = decision_of(idea)
    assert new.id != first_id and new.number != first_number and new.amount == D("1700.00")
    kept = db.session.get(Decision, first_id)
    assert kept.amount == D("1500.00") and kept.number == first_number  # the earlier decision as it was
    assert committed(idea.competition_id) == committed_before + D("200.00")  # counted once, not twice
    assert totals_for([idea.id])[idea.id].granted == D("1700.00")
    letters = db.session.scalars(select(Document).where(Document.idea_id == idea.id, Document.kind == documents.DECISION)
                                 .order_by(Document.version)).all()
    assert [d.number for d in letters] == [first_number, new.number] and letters[0].sha256 == letter.sha256
    text = " ".join(pdf_text(letters[1].pdf).split())
    assert f"LĒMUMS Nr. {new.number}" in text and f"lēmumu Nr. {first_number}" in text and "palielināšanu" in text
    assert "1700,00" in text.replace(" ", "") and documents.by_token(letters[1].token) is not None
    login(client, admin.email)
    page = " ".join(client.get(f"/ideas/{idea.id}").get_data(as_text=True).split())
    assert f"Tas aizstāj lēmumu {first_number}" in page and f"Lēmums Nr. {new.number}" in page
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.idea_id == idea.id, AuditEntry.kind == "grant_raised")).one()
    assert entry.data["decision"] == new.number and entry.data["replaces"] == first_number
    # Lowering or moving money is not a new decision.
    lowered = _ask(idea, applicant, "1000.00", "600.00")
    ops.approve(lowered, admin, answer="", version=lowered.version)
    db.session.expire_all()
    assert decision_of(idea).id == new.id and decision_of(idea).amount == D("1600.00")


def test_concurrent_raises_never_overspend_the_competition_budget(app, factory):
    """Two ideas of one competition ask for 300 € more each; 400 € remain. Two administrators
    approve at the same moment: one raise goes through, the other is refused, and the
    competition never commits more than its budget."""
    competition = factory.competition(budget="10000.00")
    ideas = [factory.funded(competition=competition) for _ in range(2)]
    competition.budget = committed(competition.id) + D("400.00")
    admins = [factory.admin(), factory.admin()]
    db.session.commit()
    for idea in ideas:
        confirm(idea, factory)
    amendments = []
    for idea in ideas:
        line = idea.budget_lines[0]
        activity = idea.activities[0]
        amendments.append(ops.request_amendment(idea, factory.member_of(idea.organisation), reason="Vajag vairāk dēļu.",
                                                lines={line.id: line.total + D("300.00")},
                                                dates={activity.id: (activity.starts_on, activity.ends_on)}))
    db.session.commit()
    targets = [(a.id, a.version) for a in amendments]
    emails = [a.email for a in admins]

    def approve(slot):
        def job(client):
            login(client, emails[slot])
            amendment_id, version = targets[slot]
            return client.post(f"/amendments/{amendment_id}/approve", data={"version": str(version), "answer": "Labi."}).status_code
        return job

    results, _ = crowd(app, [approve(0), approve(1)])
    assert results == [303, 303], results
    db.session.commit()  # a fresh read of what the requests did
    statuses = sorted(db.session.get(Amendment, a_id).status for a_id, _v in targets)
    assert statuses == [Status.APPROVED, Status.REQUESTED], statuses
    assert committed(competition.id) <= competition.budget
    assert db.session.scalar(select(func.count(Decision.id)).where(Decision.competition_id == competition.id)) == 3


def test_two_approvals_of_one_request_never_both_succeed(funded, factory):
    idea, applicant, admin = funded
    confirm(idea, factory)
    amendment = _ask(idea, applicant, "900.00", "500.00")
    seen = amendment.version
    ops.refuse(amendment, factory.admin(), answer="Nav pamatoti.", version=seen)
    with pytest.raises(Refused, match="cits"):
        ops.approve(amendment, admin, answer="", version=seen)
    db.session.expire_all()
    assert amendment.status == Status.REFUSED and decision_of(idea).amount == D("1500.00")


def test_bad_requests_are_refused(funded):
    idea, applicant, _admin = funded
    with pytest.raises(Refused, match="neko nemaina"):
        ops.request_amendment(idea, applicant, reason="x", lines=dict(zip(_ids(idea), [D("1000.00"), D("500.00")], strict=True)),
                              dates={a.id: (a.starts_on, a.ends_on) for a in idea.activities})
    with pytest.raises(Refused, match="pamatojumu"):
        _ask(idea, applicant, "900.00", "500.00", reason=" ")
    _ask(idea, applicant, "900.00", "500.00")
    with pytest.raises(Refused, match="jau gaida"):
        _ask(idea, applicant, "800.00", "500.00")


def test_agreement_needs_the_communitys_account_and_signatory(funded, factory):
    idea, _applicant, admin = funded
    confirm(idea, factory)
    idea.organisation.iban, idea.organisation.signatory_position = None, ""
    db.session.commit()
    with pytest.raises(Refused) as refused:
        documents.issue(idea, documents.AGREEMENT, admin)
    message = str(refused.value)
    assert "bankas konts (IBAN)" in message and "amats" in message and "vārds" not in message
    idea.organisation.iban, idea.organisation.signatory_position = "LV80BANK0000435195001", "valdes priekšsēdētāja"
    db.session.commit()
    text = pdf_text(documents.issue(idea, documents.AGREEMENT, admin).pdf).replace("\n", " ")
    assert "kuru pārstāv valdes priekšsēdētāja Anna Bērziņa" in text and "LV80 BANK 0000 4351 9500 1" in text
    assert "kontaktpersona" not in text


def test_pages_the_applicant_asks_and_the_administrator_approves(client, funded, factory):
    idea, applicant, admin = funded
    confirm(idea, factory)
    first, second = _ids(idea)
    activity = idea.activities[0]
    login(client, applicant.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert f"/amendments/ideas/{idea.id}/new" in page
    assert client.get(f"/amendments/ideas/{idea.id}/new").status_code == 200
    data = {f"line_{first}": "-5", f"line_{second}": "500", f"starts_{activity.id}": "", f"ends_{activity.id}": "", "reason": "Jā"}
    bad = client.post(f"/amendments/ideas/{idea.id}/new", data=data)
    assert bad.status_code == 422 and 'value="-5"' in bad.get_data(as_text=True)
    data[f"line_{first}"] = "900"
    assert client.post(f"/amendments/ideas/{idea.id}/new", data=data).status_code == 303
    amendment = db.session.scalars(select(Amendment)).one()
    assert client.post(f"/amendments/{amendment.id}/approve", data={"version": "1"}).status_code in (302, 403, 404)
    login(client, admin.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert f"/amendments/{amendment.id}/approve" in page
    assert client.post(f"/amendments/{amendment.id}/approve", data={"version": str(amendment.version), "answer": "Labi."}).status_code == 303
    db.session.expire_all()
    assert amendment.status == Status.APPROVED and decision_of(idea).amount == D("1400.00")
