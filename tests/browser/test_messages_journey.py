"""Messages in a real Chromium: an administrator asks a question that reopens a budget line;
the applicant answers in the app with a file, first with a price the server cannot read (kept,
with its message beside the field), then corrected; both see the answer and the correction."""

import re

import pytest
from playwright.sync_api import expect

from grantflow.core.extensions import db
from tests.browser.conftest import log_in, log_out
from tests.factories import PASSWORD, Factory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def journey(live_server):
    with live_server.app.app_context():
        factory = Factory()
        admin = factory.admin(email="jautataja@example.lv", name="Ilze Jautātāja")
        idea = factory.submitted(title="Ziņu celojuma dārzs")
        applicant = factory.member_of(idea.organisation)
        db.session.commit()
        data = {"admin": admin.email, "applicant": applicant.email, "idea": idea.id}
        db.session.remove()
    return data


@pytest.mark.browser
def test_an_applicant_answers_a_clarification_question(page, journey, tmp_path):
    log_in(page, journey["admin"], PASSWORD)
    page.goto(f"/ideas/{journey['idea']}")
    page.get_by_role("link", name="Rakstīt ziņu").click()
    page.get_by_label("Jautājums pieteicējam").check()
    page.get_by_label("Ziņa").fill("Lūdzu, pārbaudiet dēļu cenu: tā šķiet par augstu.")
    page.get_by_label(re.compile(r"Budžeta 1\. pozīcija")).check()
    page.screenshot(path=str(tmp_path / "new.png"), full_page=True)
    page.get_by_role("button", name="Nosūtīt").click()
    expect(page.get_by_text("Jautājums nosūtīts pieteicējam.")).to_be_visible()
    log_out(page)

    log_in(page, journey["applicant"], PASSWORD)
    page.goto(f"/ideas/{journey['idea']}")
    expect(page.get_by_text("Lūdzu, pārbaudiet dēļu cenu")).to_be_visible()
    page.get_by_role("link", name="Atbildēt uz jautājumu").click()
    page.get_by_label("Jūsu atbilde").fill("Atradām lētāku piegādātāju, pielieku tāmi.")
    page.get_by_label("Vienības cena, €").fill("daudz")
    page.get_by_role("button", name="Nosūtīt atbildi").click()
    expect(page.locator("#budget_lines-0-unit_cost-error")).to_be_visible()
    expect(page.get_by_label("Vienības cena, €")).to_have_value("daudz")
    expect(page.get_by_label("Jūsu atbilde")).to_have_value("Atradām lētāku piegādātāju, pielieku tāmi.")
    page.get_by_label("Vienības cena, €").fill("750")
    quote = tmp_path / "tame.pdf"
    quote.write_bytes(PDF)
    page.get_by_label("Datnes (nav obligātas)").set_input_files(str(quote))
    page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)
    page.get_by_role("button", name="Nosūtīt atbildi").click()
    expect(page.get_by_text("Paldies, jūsu atbilde nosūtīta.")).to_be_visible()
    messages = page.locator("#messages")
    expect(messages.get_by_text("Atradām lētāku piegādātāju")).to_be_visible()
    expect(messages.get_by_role("link", name="tame.pdf")).to_be_visible()
    expect(messages.get_by_role("cell", name="750,00 €", exact=True).first).to_be_visible()
    expect(messages.get_by_role("link", name="Atbildēt uz jautājumu")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "thread.png"), full_page=True)
