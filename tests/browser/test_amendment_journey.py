"""An amendment in a real Chromium: the applicant asks to move money between budget lines and
lower the grant, with a reason; the administrator approves it; the numbered amendment is
issued and the schedule follows."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from grantflow.core.extensions import db
from tests.browser.conftest import log_in, log_out
from tests.browser.test_accessibility import violations
from tests.factories import PASSWORD, Factory

SHOTS = Path("/tmp/amendments/shots")


@pytest.fixture
def journey(live_server):
    with live_server.app.app_context():
        factory = Factory()
        competition = factory.competition(code="GROZ-2026")
        org = factory.organisation(name='biedrība "Zaļā Ķemere"')
        applicant = factory.applicant(org, email="grozijumi@example.lv", name="Ilga Ķemere")
        idea = factory.funded(competition=competition, org=org, amount="1000.00", title="Laipas pār Ķemeri")
        admin = factory.admin(email="vaditaja@example.lv", name="Programmas Vadītāja")
        db.session.commit()
        data = {"idea": idea.id, "line": idea.budget_lines[0].id, "admin": admin.email, "applicant": applicant.email}
        db.session.remove()
    return data


def _shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.browser
def test_the_applicant_asks_for_an_amendment_the_administrator_approves_it(page, journey):
    log_in(page, journey["applicant"], PASSWORD)
    page.goto(f"/ideas/{journey['idea']}")
    page.locator("#amendments").get_by_role("link", name="Lūgt grozījumus").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lūgt grozījumus")
    field = page.locator(f"#line_{journey['line']}")
    field.fill("-1")
    page.get_by_label("Kāpēc izmaiņas vajadzīgas").fill("Dēļi izmaksāja mazāk, nekā plānots.")
    page.get_by_role("button", name="Nosūtīt lūgumu").click()
    expect(page.locator(".field-error").first).to_contain_text("nevar būt negatīva")
    expect(page.get_by_label("Kāpēc izmaiņas vajadzīgas")).to_have_value("Dēļi izmaksāja mazāk, nekā plānots.")
    _shoot(page, "request")
    assert violations(page) == []  # axe-core: the request page, with its errors showing
    page.locator(f"#line_{journey['line']}").fill("900")
    page.get_by_role("button", name="Nosūtīt lūgumu").click()
    expect(page.get_by_role("status").first).to_contain_text("Jūsu lūgums nosūtīts")
    expect(page.locator("#amendments")).to_contain_text("Gaida lēmumu")
    log_out(page)

    log_in(page, journey["admin"], PASSWORD)
    page.goto(f"/ideas/{journey['idea']}")
    panel = page.locator("#amendments")
    expect(panel).to_contain_text("900,00 €")
    _shoot(page, "decide")
    assert violations(page) == []  # the idea page with the decision form
    panel.get_by_label("Lēmuma pamatojums").fill("Pamatoti.")
    panel.get_by_role("button", name="Apstiprināt un izsniegt grozījumus").click()
    expect(page.get_by_role("status").first).to_contain_text("Grozījumi apstiprināti")
    expect(page.locator("#amendments")).to_contain_text("Grozījumi Nr. 1")
    expect(page.locator("#amendments").get_by_role("link", name="grozijumi-")).to_be_visible()
    _shoot(page, "approved")
