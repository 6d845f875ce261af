"""After the grant, in one journey in a real Chromium (issue #13's Proof): an administrator
issues the agreement and pays the advance with a SEPA file, the applicant asks for an
amendment (lowering the grant), the administrator approves it, the applicant's report shows
less spent than was paid (against the amended budget), and the refund is requested and
recorded as returned; the applicant then sees the schedule. Its own e-mail addresses: the live
server's database is shared by the journeys."""

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from grantflow.accounts.models import MUNICIPALITY
from grantflow.core.extensions import db
from grantflow.documents.models import Document
from grantflow.funding import operations as funding
from tests.browser.conftest import log_in, log_out
from tests.browser.test_accessibility import violations
from tests.factories import PASSWORD, Factory

SHOTS = Path("/tmp/after-the-grant")


@pytest.fixture
def journey(live_server):
    """A funded idea (1 000 €, one budget line; paid 80 % on the agreement, 20 % on the report)
    whose municipality has confirmed its part, so the agreement can be issued."""
    with live_server.app.app_context():
        factory = Factory()
        competition = factory.competition(code="PEC-2026")
        org = factory.organisation(name='biedrība "Ūdru Laipas"')
        applicant = factory.applicant(org, email="pec-granta@example.lv", name="Ilze Laipniece")
        idea = factory.funded(competition=competition, org=org, amount="1000.00", title="Laipas pār Ūdru")
        rep = factory.user(MUNICIPALITY, municipality=idea.municipality, email="pec-granta-pasvaldiba@example.lv")
        funding.answer_cooperation(
            idea, rep, confirmed=True, comment="", authority_name="Rēzeknes novada pašvaldība", registration_number="90009112679",
            address="Atbrīvošanas aleja 95A, Rēzekne, LV-4601", signatory_name="Aivars Pašvaldnieks",
            signatory_position="domes priekšsēdētājs", sustainability_years=5,
        )  # fmt: skip
        admin = factory.admin(email="pec-granta-admin@example.lv", name="Grāmatvede Administratore")
        db.session.commit()
        data = {"idea": idea.id, "line": idea.budget_lines[0].id, "admin": admin.email, "applicant": applicant.email}
        db.session.remove()
    return data


def _shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} is wider than {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def _keep_pdf(download, name):
    """The downloaded PDF kept, with its first page as a PNG to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.pdf"
    path.write_bytes(Path(download.path()).read_bytes())
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(SHOTS / name)], check=False)
    return path.read_bytes()


def _amendment_token(live_server, idea_id):
    with live_server.app.app_context():
        token = db.session.scalars(select(Document.token).where(Document.idea_id == idea_id, Document.kind == "amendment")).one()
        db.session.remove()
    return token


@pytest.mark.browser
def test_advance_paid_amendment_approved_report_shows_less_spent_refund_recorded(page, journey, live_server):
    idea_url = f"/ideas/{journey['idea']}"

    # The administrator issues the agreement and pays the advance (80 % of 1 000 €) by SEPA file.
    log_in(page, journey["admin"], PASSWORD)
    page.goto(idea_url)
    page.locator("#documents").get_by_role("button", name="Sagatavot vienošanos par sadarbību").click()
    expect(page.get_by_role("status").first).to_contain_text("Izsniegts: vienosanas-")
    payments = page.locator("#payments")
    expect(payments.locator("tbody tr").first).to_contain_text("800,00 €")
    payments.get_by_role("link", name="Konkursa maksājumi").click()
    due = page.locator("#due")
    expect(due).to_contain_text("800,00 €")
    due.get_by_role("button", name="Sagatavot SEPA maksājumu datni").click()
    expect(page.get_by_role("status").first).to_contain_text("Maksājumu datne ir gatava")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Lejupielādēt SEPA datni")).click()
    assert b'<InstdAmt Ccy="EUR">800.00</InstdAmt>' in Path(download.value.path()).read_bytes()
    page.get_by_role("button", name="Atzīmēt maksājumus kā izmaksātus").click()
    expect(page.locator("#run-status")).to_have_text("Izmaksāts")
    _shoot(page, "1-advance-paid")
    log_out(page)

    # The applicant asks for an amendment: the grant lowered to 900 €, with a reason.
    log_in(page, journey["applicant"], PASSWORD)
    page.goto(idea_url)
    page.locator("#amendments").get_by_role("link", name="Lūgt grozījumus").click()
    reason = page.get_by_label("Kāpēc izmaiņas vajadzīgas")
    page.locator(f"#line_{journey['line']}").fill("-1")
    reason.fill("Dēļi izmaksāja mazāk, nekā plānots.")
    page.get_by_role("button", name="Nosūtīt lūgumu").click()
    expect(page.locator(".field-error").first).to_contain_text("nevar būt negatīva")  # bad input: said beside the field
    expect(reason).to_have_value("Dēļi izmaksāja mazāk, nekā plānots.")  # nothing lost
    assert violations(page) == []
    page.locator(f"#line_{journey['line']}").fill("900")
    page.get_by_role("button", name="Nosūtīt lūgumu").click()
    expect(page.get_by_role("status").first).to_contain_text("Jūsu lūgums nosūtīts")
    expect(page.locator("#amendments")).to_contain_text("Gaida lēmumu")
    log_out(page)

    # The administrator approves it: amendment No. 1 issued, the unpaid instalment lowered to 100 €.
    log_in(page, journey["admin"], PASSWORD)
    page.goto(idea_url)
    panel = page.locator("#amendments")
    expect(panel).to_contain_text("900,00 €")
    panel.get_by_label("Lēmuma pamatojums").fill("Pamatoti.")
    panel.get_by_role("button", name="Apstiprināt un izsniegt grozījumus").click()
    expect(page.get_by_role("status").first).to_contain_text("Grozījumi apstiprināti")
    expect(panel).to_contain_text("Grozījumi Nr. 1")
    expect(panel.locator("[id^=signatures-amendment-1]")).to_contain_text("Vēl nav spēkā")
    with page.expect_download() as download:
        panel.get_by_role("link", name=re.compile("grozijumi-")).click()
    assert _keep_pdf(download.value, "amendment").startswith(b"%PDF-")
    expect(page.locator("#payments tbody tr").nth(1)).to_contain_text("100,00 €")
    _shoot(page, "2-amendment-approved")
    assert violations(page) == []
    log_out(page)
    page.goto(f"/verify/{_amendment_token(live_server, journey['idea'])}")  # anyone, from the QR code
    expect(page.locator("#verdict")).to_contain_text("Vienošanās grozījumi")
    expect(page.locator("#verdict")).to_contain_text("Vēl nav spēkā")
    expect(page.locator("#currency")).to_contain_text("pašreizējā versija")
    _shoot(page, "2b-amendment-verified")

    # The applicant reports: 600 € spent of the 900 € the amended budget plans.
    log_in(page, journey["applicant"], PASSWORD)
    page.goto(idea_url)
    page.locator("#report").get_by_role("link", name="Aizpildīt noslēguma atskaiti").click()
    page.get_by_role("link", name=re.compile("Visa atskaite vienā lapā")).click()  # from its task list
    expect(page.locator("#spending")).to_contain_text("900,00 €")  # compared with the amended budget
    page.locator("#activities-0-held_on").fill("2026-06-13")
    page.locator("#activities-0-participants").fill("30")
    page.locator("#activities-0-description").fill("Talkā uzbūvējām divas laipas.")
    page.locator("#participants").fill("30")
    page.locator("#spending-0-actual").fill("600,00")
    page.locator("#changed").fill("Laipas savieno abus krastus.")
    page.locator("#continues").fill("Biedrība laipas kops.")
    page.get_by_role("button", name="Pārbaudīt un iesniegt atskaiti").click()
    expect(page.get_by_role("status").first).to_contain_text("iesniegta")
    log_out(page)

    # The administrator accepts it: 200 € to return (800 € paid, 600 € spent), requested and recorded.
    log_in(page, journey["admin"], PASSWORD)
    page.goto(idea_url)
    expect(page.locator("#report")).to_contain_text("600,00 €")
    page.get_by_role("button", name="Pieņemt atskaiti").first.click()
    refund = page.locator("#refund-status")
    expect(refund).to_contain_text("jāatmaksā 200,00 €")
    page.locator("#payments").get_by_role("button", name="Izsniegt atmaksas pieprasījumu").click()
    expect(page.get_by_role("status").first).to_contain_text("Izsniegts: atmaksa-")
    with page.expect_download() as download:
        refund.get_by_role("link", name=re.compile("Atmaksas pieprasījums")).click()
    assert _keep_pdf(download.value, "refund").startswith(b"%PDF-")
    page.locator("#payments").get_by_role("link", name="Reģistrēt atmaksāto naudu").click()
    page.get_by_label("Atmaksātā summa (€)").fill("250.00")
    page.get_by_role("button", name="Reģistrēt atmaksu").click()
    expect(page.locator(".field-error")).to_contain_text("atlikuši 200,00 €")  # more than is owed: refused
    expect(page.get_by_label("Atmaksātā summa (€)")).to_have_value("250.00")  # kept as typed
    page.get_by_label("Atmaksātā summa (€)").fill("200.00")
    page.get_by_label("Atsauce (ieraksts bankas konta izrakstā)").fill("Izraksts Nr. 7")
    page.get_by_role("button", name="Reģistrēt atmaksu").click()
    expect(page.locator("#refund-status")).to_contain_text("atmaksāta pilnībā")
    _shoot(page, "3-refund-recorded")
    log_out(page)

    # The applicant sees the schedule: the last instalment not paid, as less was spent.
    log_in(page, journey["applicant"], PASSWORD)
    page.goto(idea_url)
    payments = page.locator("#payments")
    expect(payments).to_contain_text("Nav jāizmaksā: izlietots mazāk")
    expect(payments.get_by_role("link", name="Reģistrēt maksājumu")).to_have_count(0)
    _shoot(page, "4-applicant")
