"""The money after the grant, in a real Chromium: an administrator pays the advance with a
SEPA file, the report shows less spent than was paid, the refund request is issued and the
returned money recorded; the applicant sees the schedule."""

import hashlib
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from grantflow.core.extensions import db
from grantflow.documents.models import Document
from grantflow.ideas.models import Idea
from grantflow.reports.operations import start_report, submit_report
from tests.browser.conftest import log_in, log_out
from tests.factories import PASSWORD, Factory

SHOTS = Path("/tmp/payments-shots")


@pytest.fixture
def journey(live_server):
    """A funded idea (1 000 €, 80 % on the agreement, 20 % on the report) whose agreement has
    been issued, so the advance of 800 € is due."""
    with live_server.app.app_context():
        factory = Factory()
        competition = factory.competition(code="MAKS-2026")
        org = factory.organisation(name='biedrība "Zaļā Ķemere"')
        applicant = factory.applicant(org, email="kemere@example.lv", name="Ilga Ķemere")
        idea = factory.funded(competition=competition, org=org, amount="1000.00", title="Laipas pār Ķemeri")
        pdf = b"%PDF-1.4 vienosanas"
        db.session.add(Document(idea_id=idea.id, kind="agreement", number="V-1", filename="vienosanas.pdf", pdf=pdf,
                                size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest()))  # fmt: skip
        admin = factory.admin(email="kasiere@example.lv", name="Kasiere Administratore")
        db.session.commit()
        data = {"idea": idea.id, "competition": competition.id, "admin": admin.email, "applicant": applicant.email}
        db.session.remove()
    return data


def _shoot(page, name):
    SHOTS.mkdir(exist_ok=True)
    for width in (1366, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _report_with_less_spent(live_server, idea_id, applicant_email):
    """The applicant's report (filed as the report tests file it): 600 € of 1 000 € spent."""
    with live_server.app.app_context():
        from grantflow.accounts.operations import find_user

        idea = db.session.get(Idea, idea_id)
        applicant = find_user(applicant_email)
        report = start_report(idea, applicant)
        report.participants, report.changed, report.continues = 30, "Laipas ir uzbūvētas.", "Kopsim tās."
        report.activities[0].description, report.activities[0].held_on = "Talka", idea.activities[0].starts_on
        report.spending[0].actual = Decimal("600.00")
        submit_report(report, applicant)
        db.session.remove()


@pytest.mark.browser
def test_advance_paid_by_sepa_report_shows_less_spent_refund_recorded(page, journey, live_server):
    log_in(page, journey["admin"], PASSWORD)
    page.goto(f"/ideas/{journey['idea']}")
    panel = page.locator("#payments")
    expect(panel).to_contain_text("Maksājumu grafiks")
    expect(panel.locator("tbody tr").first).to_contain_text("800,00 €")
    panel.get_by_role("link", name="Konkursa maksājumi").click()

    due = page.locator("#due")
    expect(due).to_contain_text("800,00 €")
    _shoot(page, "competition")
    due.get_by_role("button", name="Sagatavot SEPA maksājumu failu").click()
    expect(page.get_by_role("status").first).to_contain_text("Maksājumu fails ir gatavs")
    expect(page.locator("#run-status")).to_have_text("Gaida banku")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Lejupielādēt SEPA failu")).click()
    xml = Path(download.value.path()).read_bytes()
    assert b"<InstdAmt Ccy=\"EUR\">800.00</InstdAmt>" in xml
    _shoot(page, "run")
    page.get_by_role("button", name="Atzīmēt maksājumus kā izmaksātus").click()
    expect(page.locator("#run-status")).to_have_text("Izmaksāts")

    _report_with_less_spent(live_server, journey["idea"], journey["applicant"])
    page.goto(f"/ideas/{journey['idea']}")
    page.get_by_role("button", name="Pieņemt atskaiti").first.click()
    refund = page.locator("#refund-status")
    expect(refund).to_contain_text("jāatmaksā 200,00 €")
    page.locator("#payments").get_by_role("button", name="Izsniegt atmaksas pieprasījumu").click()
    expect(page.get_by_role("status").first).to_contain_text("Izsniegts: atmaksa-")
    expect(page.locator("#refund-status").get_by_role("link", name=re.compile("Atmaksas pieprasījums"))).to_be_visible()
    _shoot(page, "idea-refund")
    page.locator("#payments").get_by_role("link", name="Reģistrēt atmaksāto naudu").click()
    page.get_by_label("Atmaksātā summa (€)").fill("250.00")
    page.get_by_role("button", name="Reģistrēt atmaksu").click()
    expect(page.locator(".field-error")).to_contain_text("atlikuši 200,00 €")
    expect(page.get_by_label("Atmaksātā summa (€)")).to_have_value("250.00")  # kept as typed
    page.get_by_label("Atmaksātā summa (€)").fill("200.00")
    page.get_by_label("Atsauce (ieraksts bankas konta izrakstā)").fill("Izraksts Nr. 7")
    page.get_by_role("button", name="Reģistrēt atmaksu").click()
    expect(page.locator("#refund-status")).to_contain_text("atmaksāta pilnībā")
    log_out(page)

    log_in(page, journey["applicant"], PASSWORD)
    page.goto(f"/ideas/{journey['idea']}")
    panel = page.locator("#payments")
    expect(panel).to_contain_text("Maksājumu grafiks")
    expect(panel).to_contain_text("Nav jāizmaksā: izlietots mazāk")
    expect(panel.get_by_role("link", name="Reģistrēt maksājumu")).to_have_count(0)
    _shoot(page, "applicant")
