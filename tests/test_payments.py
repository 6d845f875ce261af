"""Payments: schedules that add up, SEPA files valid against the pain.001 schema, payments
never twice, never beyond what is due, never to an invalid IBAN (even from two
administrators at once), refunds, and totals that reconcile (demo data and generated cases)."""

import hashlib
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.demo.operations import load_demo
from grantflow.documents.models import Document
from grantflow.ideas.models import Idea
from grantflow.payments import operations as ops
from grantflow.payments.models import Instalment, Payment, PaymentRun
from grantflow.payments.refunds import issue_refund_request
from grantflow.payments.schedule import check_plan, settle, split
from grantflow.reports.operations import report_of, start_report, submit_report
from grantflow.workflow import engine
from grantflow.workflow.models import AuditEntry
from tests.conftest import login
from tests.test_concurrency import crowd
from tests.world import snapshot

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
D = Decimal


# --- the arithmetic -------------------------------------------------------------------------


def test_split_rounds_down_and_the_last_takes_the_rest():
    assert split(D("1000.00"), [D(80), D(20)]) == [D("800.00"), D("200.00")]
    assert split(D("999.99"), [D(80), D(20)]) == [D("799.99"), D("200.00")]
    assert split(D("100.00"), [D("33.33"), D("33.33"), D("33.34")]) == [D("33.33"), D("33.33"), D("33.34")]
    assert split(D("0.05"), [D(50), D(50)]) == [D("0.02"), D("0.03")]


@pytest.mark.parametrize("rows, message", [
    ([{"percent": "80", "due": "agreement"}, {"percent": "10", "due": "report"}], "tieši 100 %; tagad tās kopā ir 90 %"),
    ([{"percent": "0", "due": "agreement"}, {"percent": "100", "due": "report"}], "lielākiem par 0"),
    ([{"percent": "50.001", "due": "agreement"}, {"percent": "49.999", "due": "report"}], "divām zīmēm"),
    ([{"percent": "NaN", "due": "agreement"}], "lielākiem par 0"),
    ([{"percent": "100", "due": "whenever"}], "Izvēlieties, kad"),
    ([], "vismaz vienu"),
])  # fmt: skip
def test_plans_that_do_not_add_up_are_refused(app, rows, message):
    with pytest.raises(Refused) as refused, app.test_request_context():
        check_plan(rows, ("decision", "agreement", "report"))
    assert message in str(refused.value)


@st.composite
def cases(draw):
    """A grant, a plan, payments made before the report, and what the report shows spent."""
    granted = D(draw(st.integers(1, 10_000_000))) / 100
    cuts = sorted(draw(st.lists(st.integers(1, 9_999), max_size=4, unique=True)))
    bounds = [0, *cuts, 10_000]
    percents = [D(b - a) / 100 for a, b in zip(bounds, bounds[1:], strict=False)]
    amounts = split(granted, percents)
    paid = [D(draw(st.integers(0, int(a * 100)))) / 100 for a in amounts]
    spent = D(draw(st.integers(0, int(granted * 150)))) / 100
    return granted, percents, amounts, paid, spent


@settings(max_examples=300, deadline=None)
@given(cases())
def test_totals_always_reconcile(case):
    """granted = paid + outstanding before the report; after it the grant becomes what was
    spent (at most the grant): final = paid + outstanding − refund; once all is paid and
    returned, spent + returned = paid. No instalment ends below what was paid on it."""
    granted, percents, amounts, paid, spent = case
    assert sum(amounts) == granted and all(a >= 0 for a in amounts)
    assert granted == sum(paid) + sum(a - p for a, p in zip(amounts, paid, strict=True))
    new, refund = settle(amounts, paid, granted, spent)
    final = min(spent, granted)
    outstanding = sum(n - p for n, p in zip(new, paid, strict=True))
    assert all(p <= n <= a for n, p, a in zip(new, paid, amounts, strict=True))
    assert final == sum(paid) + outstanding - refund
    assert refund == 0 or outstanding == 0  # never both owed and to be returned
    assert refund <= sum(paid)
    paid_in_the_end = sum(paid) + outstanding  # the rest paid, then the refund returned
    assert final + refund == paid_in_the_end


# --- on the database ------------------------------------------------------------------------


def _agreement(idea):
    """The agreement as issued (the event the advance waits for), without rendering a PDF."""
    pdf = b"%PDF-1.4 agreement"
    db.session.add(Document(idea_id=idea.id, kind="agreement", number="A-1", filename="vienosanas.pdf", pdf=pdf,
                            size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest()))  # fmt: skip
    db.session.flush()


def _report(idea, applicant, admin, spent: dict[int, str]):
    report = start_report(idea, applicant)
    report.participants, report.changed, report.continues = 20, "Daudz kas.", "Turpināsim."
    report.activities[0].description, report.activities[0].held_on = "Talka", idea.activities[0].starts_on
    for i, value in spent.items():
        report.spending[i].actual = D(value)
    submit_report(report, applicant)
    engine.fire(idea, "accept_report", admin)
    db.session.commit()


@pytest.fixture
def funded(factory):
    """An idea funded in part (900 € of 1000 €): its schedule is 720 € + 180 €."""
    idea = factory.reviewed(amount="1000.00")
    admin = factory.admin()
    engine.fire(idea, "fund", admin, "Daļēji", amount=D("900.00"))
    db.session.commit()
    return idea, factory.member_of(idea.organisation), admin


def test_funding_plans_the_schedule_from_the_partial_amount(funded):
    idea, _applicant, _admin = funded
    rows = ops.schedule_of(idea)
    assert [(r.position, r.due_on, r.amount, r.paid) for r in rows] == [
        (1, "agreement", D("720.00"), D("0.00")), (2, "report", D("180.00"), D("0.00"))]
    assert ops.due(idea.competition_id) == []  # nothing is due before the agreement
    _agreement(idea)
    assert [d.instalment.id for d in ops.due(idea.competition_id)] == [rows[0].id]
    t = ops.totals_for([idea.id])[idea.id]
    assert (t.granted, t.paid, t.outstanding) == (D("900.00"), D("0.00"), D("900.00"))


def test_sepa_file_is_valid_pain001_and_pays_once(app, funded):
    idea, _applicant, admin = funded
    _agreement(idea)
    first = ops.schedule_of(idea)[0]
    run = ops.create_run(idea.competition, [first.id], ops.today(), admin)
    xml = run.xml
    xmlschema.XMLSchema(str(XSD)).validate(xml.decode())  # raises on any fault
    tree = xmlschema.XMLSchema(str(XSD)).to_dict(xml.decode())
    header = tree["CstmrCdtTrfInitn"]["GrpHdr"]
    assert header["NbOfTxs"] == "1" and D(str(header["CtrlSum"])) == D("720.00")
    payment = tree["CstmrCdtTrfInitn"]["PmtInf"][0]
    assert payment["DbtrAcct"]["Id"]["IBAN"] == app.config["PAYMENT_IBAN"]
    tx = payment["CdtTrfTxInf"][0]
    assert tx["CdtrAcct"]["Id"]["IBAN"] == idea.organisation.iban and D(str(tx["Amt"]["InstdAmt"]["$"])) == D("720.00")
    assert tx["RmtInf"]["Ustrd"] == [f"{idea.reference} 1. maksajums"]
    # Held by the run: not due again, not in a second file, not paid another way.
    assert ops.due(idea.competition_id) == []
    with pytest.raises(Refused, match="tagad nav jāveic, jau ir izmaksāts"):
        ops.create_run(idea.competition, [first.id], ops.today(), admin)
    with pytest.raises(Refused, match="gaida banku"):
        ops.record_payment(first, D("1.00"), ops.today(), "", admin)
    ops.mark_run_paid(run, ops.today(), admin)
    with pytest.raises(Refused, match="jau ir atzīmēta"):
        ops.mark_run_paid(run, ops.today(), admin)
    with pytest.raises(Refused, match="jau ir atzīmēta"):
        ops.cancel_run(run, admin)
    assert db.session.scalar(select(func.sum(Payment.amount)).where(Payment.idea_id == idea.id)) == D("720.00")
    t = ops.totals_for([idea.id])[idea.id]
    assert (t.paid, t.outstanding, t.granted) == (D("720.00"), D("180.00"), t.paid + t.outstanding)
    kinds = db.session.scalars(
        select(AuditEntry.kind).where(AuditEntry.idea_id == idea.id, AuditEntry.kind.like("payment%")).order_by(AuditEntry.id)
    ).all()
    assert kinds == ["payment_exported", "payment_made"]


def test_a_cancelled_run_makes_its_payments_due_again(funded):
    idea, _applicant, admin = funded
    _agreement(idea)
    first = ops.schedule_of(idea)[0]
    run = ops.create_run(idea.competition, [first.id], ops.today(), admin)
    ops.cancel_run(run, admin)
    assert [d.instalment.id for d in ops.due(idea.competition_id)] == [first.id]
    assert db.session.get(Instalment, first.id).paid == 0


def test_bad_payments_are_refused_and_change_nothing(funded, factory):
    idea, _applicant, admin = funded
    first, last = ops.schedule_of(idea)
    before = snapshot()
    with pytest.raises(Refused, match="vēl nav jāizmaksā"):
        ops.record_payment(first, D("100.00"), ops.today(), "", admin)
    _agreement(idea)
    db.session.commit()
    before = snapshot()
    with pytest.raises(Refused) as refused:
        ops.record_payment(first, D("720.01"), ops.today(), "", admin)
    assert "vēl jāizmaksā 720,00 €" in refused.value.fields["amount"]
    with pytest.raises(Refused):
        ops.record_payment(first, D("10.00"), ops.today() + timedelta(days=1), "", admin)
    with pytest.raises(Refused, match="vēl nav jāizmaksā"):
        ops.record_payment(last, D("1.00"), ops.today(), "", admin)
    idea.organisation.iban = "LV80BANK0000435195002"  # a wrong check digit
    db.session.commit()
    with pytest.raises(Refused, match="nav derīgs"):
        ops.record_payment(first, D("1.00"), ops.today(), "", admin)
    with pytest.raises(Refused, match="nav derīgs"):
        ops.create_run(idea.competition, [first.id], ops.today(), admin)
    [blocked] = ops.due(idea.competition_id)
    assert "nav derīgs" in blocked.blocked
    idea.organisation.iban = "LV80BANK0000435195001"
    db.session.commit()
    before = snapshot()
    with pytest.raises(Refused, match="pagātnē"):
        ops.create_run(idea.competition, [first.id], ops.today() - timedelta(days=1), admin)
    assert snapshot() == before
    ops.record_payment(first, D("700.00"), ops.today(), "kase 12", admin)
    with pytest.raises(Refused) as refused:
        ops.record_payment(first, D("20.01"), ops.today(), "", admin)
    assert "20,00 €" in refused.value.fields["amount"]
    ops.record_payment(first, D("20.00"), ops.today(), "", admin)
    assert db.session.get(Instalment, first.id).paid == D("720.00")


def test_the_plan_is_editable_until_the_first_payment(funded):
    idea, _applicant, admin = funded
    competition = idea.competition
    ops.change_plan(competition, [{"percent": "50", "due": "decision"}, {"percent": "30", "due": "agreement"},
                                  {"percent": "20", "due": "report"}], admin)  # fmt: skip
    assert [r.amount for r in ops.schedule_of(idea)] == [D("450.00"), D("270.00"), D("180.00")]
    with pytest.raises(Refused, match="tieši 100"):
        ops.change_plan(competition, [{"percent": "50", "due": "decision"}], admin)
    assert len(ops.schedule_of(idea)) == 3
    first = ops.schedule_of(idea)[0]
    ops.record_payment(first, D("1.00"), ops.today(), "", admin)
    with pytest.raises(Refused, match="vairs nevar mainīt"):
        ops.change_plan(competition, [{"percent": "100", "due": "decision"}], admin)


def test_less_spent_gives_a_refund_request_tracked_until_returned(funded):
    idea, applicant, admin = funded
    _agreement(idea)
    first, last = ops.schedule_of(idea)
    ops.record_payment(first, D("720.00"), ops.today(), "", admin)
    _report(idea, applicant, admin, {0: "600.00"})
    db.session.expire_all()
    first, last = ops.schedule_of(idea)
    assert (first.amount, last.amount, last.planned) == (D("720.00"), D("0.00"), D("180.00"))
    refund = ops.refund_of(idea)
    assert refund.amount == D("120.00")
    t = ops.totals_for([idea.id])[idea.id]
    assert (t.final, t.paid, t.outstanding, t.to_return) == (D("600.00"), D("720.00"), D("0.00"), D("120.00"))
    document = issue_refund_request(idea, refund, admin)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(document.pdf)).pages)
    assert "ATMAKSAS PIEPRASĪJUMS" in text and "120,00 €" in text and "simts divdesmit eiro, 00 centi" in text.replace("\n", " ")
    assert "LV87 HABA 0551 0123 4567 8" in text
    before = snapshot()
    with pytest.raises(Refused) as refused:
        ops.record_return(refund, D("120.01"), ops.today(), "", admin)
    assert "atlikuši 120,00 €" in refused.value.fields["amount"]
    assert snapshot() == before
    ops.record_return(refund, D("100.00"), ops.today(), "izraksts 1", admin)
    ops.record_return(refund, D("20.00"), ops.today(), "izraksts 2", admin)
    refund = ops.refund_of(idea)
    assert refund.settled
    t = ops.totals_for([idea.id])[idea.id]
    assert t.final + t.returned == t.paid and t.to_return == 0


def test_a_pending_payment_file_holds_the_report(funded):
    idea, applicant, admin = funded
    _agreement(idea)
    run = ops.create_run(idea.competition, [ops.schedule_of(idea)[0].id], ops.today(), admin)
    with pytest.raises(Exception, match="gaida banku"):
        _report(idea, applicant, admin, {})
    db.session.rollback()
    ops.mark_run_paid(db.session.get(PaymentRun, run.id), ops.today(), admin)


def test_concurrent_payment_runs_never_pay_one_instalment_twice(app, factory):
    """Two administrators make a payment file of the same due payments at the same moment,
    then both mark it paid, and two more pay the same instalment another way at once: each
    instalment is in one file, paid once, never beyond its amount."""
    ideas = [factory.funded() for _ in range(3)]
    for idea in ideas:
        _agreement(idea)
    admins = [factory.admin(), factory.admin()]
    db.session.commit()
    competition_ids = {i.competition_id for i in ideas}
    instalments = [ops.schedule_of(i)[0] for i in ideas]
    by_competition, today = {}, ops.today().isoformat()
    for row in instalments:
        by_competition.setdefault(row.competition_id, []).append(str(row.id))
    emails = [a.email for a in admins]

    def make_file(slot):
        def job(client):
            login(client, emails[slot])
            return [client.post(f"/payments/competitions/{cid}/runs", data={"instalment": ids, "execution_date": today}).status_code
                    for cid, ids in sorted(by_competition.items())]  # fmt: skip
        return job

    results, _ = crowd(app, [make_file(0), make_file(1)])
    print("runs:", results)
    assert all(isinstance(r, list) for r in results), results
    db.session.commit()  # a fresh read of what the requests did
    runs = db.session.scalars(select(PaymentRun).where(PaymentRun.competition_id.in_(competition_ids))).all()
    assert len(runs) == len(competition_ids)  # one file per competition, whoever made it
    assert sorted(s for r in results for s in r) == [303] * len(competition_ids) + [422] * len(competition_ids)

    run_ids = [run.id for run in runs]

    def mark_paid(slot):
        def job(client):
            login(client, emails[slot])
            return [client.post(f"/payments/runs/{run_id}/paid", data={"paid_on": today}).status_code for run_id in run_ids]
        return job

    results, _ = crowd(app, [mark_paid(0), mark_paid(1)])
    assert all(isinstance(r, list) for r in results), results
    db.session.commit()  # a fresh read of what the requests did
    for row in instalments:
        assert db.session.scalar(select(func.count(Payment.id)).where(Payment.instalment_id == row.id)) == 1
        assert db.session.get(Instalment, row.id).paid == db.session.get(Instalment, row.id).amount
    # The last instalments, paid another way by two at once: one succeeds, one is refused.
    for idea in ideas:
        report_due = ops.schedule_of(idea)[1]
        report_due.due_on = "decision"
    db.session.commit()
    lasts = [(row.id, str(row.amount)) for row in (ops.schedule_of(i)[1] for i in ideas)]

    def pay_other(slot):
        def job(client):
            login(client, emails[slot])
            return [client.post(f"/payments/instalments/{row_id}/record",
                                data={"amount": amount, "paid_on": today, "reference": f"kase {slot}"}).status_code
                    for row_id, amount in lasts]  # fmt: skip
        return job

    results, _ = crowd(app, [pay_other(0), pay_other(1)])
    print("other:", results)
    assert all(isinstance(r, list) for r in results), results
    assert all(sorted(pair) == [303, 422] for pair in zip(*results, strict=True)), results
    db.session.commit()  # a fresh read of what the requests did
    for row_id, _amount in lasts:
        assert db.session.scalar(select(func.count(Payment.id)).where(Payment.instalment_id == row_id)) == 1
        fresh = db.session.get(Instalment, row_id)
        assert fresh.paid == fresh.amount


def test_every_demo_idea_reconciles(app):
    """granted = paid + outstanding while open; after the report final = paid + outstanding −
    refund; and for every closed idea: spent + returned = paid, nothing outstanding."""
    load_demo()
    ideas = db.session.scalars(select(Idea).where(Idea.id.in_(select(Instalment.idea_id)))).all()
    totals = ops.totals_for([i.id for i in ideas])
    closed = refunds = 0
    for idea in ideas:
        t = totals[idea.id]
        rows = ops.schedule_of(idea)
        assert sum(r.planned for r in rows) == t.granted, idea.reference
        assert t.final == t.paid + t.outstanding - t.refund, idea.reference
        if idea.state_def.final:
            closed += 1
            report_spent = min(db.session.scalar(select(func.sum(Instalment.amount)).where(Instalment.idea_id == idea.id)) - t.refund, t.granted)
            assert t.final == report_spent
            assert t.final + t.returned == t.paid and t.outstanding == 0 and t.to_return == 0, idea.reference
        elif getattr(report_of(idea), "status", None) != "accepted":
            assert t.granted == t.paid + t.outstanding and t.final == t.granted, idea.reference
        refunds += t.refund > 0
    print(f"demo: {len(ideas)} funded ideas, {closed} closed, {refunds} with a refund")
    assert closed >= 32 and refunds >= 1
    programme = ops.competition_totals()
    assert sum(c.paid for c in programme.values()) == sum(t.paid for t in totals.values())


def test_pages_as_the_administrator_and_the_applicant_see_them(client, funded, factory):
    idea, applicant, admin = funded
    _agreement(idea)
    idea.organisation.iban = ""
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/payments/competitions/{idea.competition_id}").get_data(as_text=True)
    assert "Organizācijai nav IBAN." in page and 'name="instalment"' not in page
    idea.organisation.iban = "LV80BANK0000435195001"
    db.session.commit()
    page = client.get(f"/payments/competitions/{idea.competition_id}").get_data(as_text=True)
    assert 'name="instalment"' in page and "720,00 €" in page
    first = ops.schedule_of(idea)[0]
    response = client.post(f"/payments/competitions/{idea.competition_id}/runs", data={"instalment": str(first.id), "execution_date": ops.today().isoformat()})
    assert response.status_code == 303
    run_url = response.headers["Location"]
    xml = client.get(run_url + "/pain001.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b"CstmrCdtTrfInitn" in xml.data
    response = client.post(run_url + "/paid", data={"paid_on": "2999-01-01"})
    assert response.status_code == 422 and "nākotnē" in response.get_data(as_text=True)
    assert client.post(run_url + "/paid", data={"paid_on": ops.today().isoformat()}).status_code == 303
    response = client.get(f"/payments/instalments/{ops.schedule_of(idea)[1].id}/record")
    assert response.status_code == 200
    bad = client.post(f"/payments/instalments/{first.id}/record", data={"amount": "5", "paid_on": ops.today().isoformat()})
    assert bad.status_code == 422 and "value=\"5\"" in bad.get_data(as_text=True)
    plan = client.post(f"/payments/competitions/{idea.competition_id}/plan", data={"action": "save", "rows-0-percent": "100", "rows-0-due": "decision"})
    assert plan.status_code == 422 and "vairs nevar mainīt" in plan.get_data(as_text=True)
    client.post("/logout")
    login(client, applicant.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    section = page[page.index('id="payments"'):]
    assert "Maksājumu grafiks" in section and "720,00 €" in section and "Ierakstīt maksājumu" not in section
    assert client.get(f"/payments/competitions/{idea.competition_id}").status_code == 403
