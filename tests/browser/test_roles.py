"""Each role logs in through a real browser and lands on its own home page."""

import pytest
from playwright.sync_api import expect

from grantflow.demo.operations import PASSWORD
from tests.browser.conftest import log_in, log_out

HOMES = [
    ("admin@demo.grantflow.lv", "#admin-home", "Administrēšana"),
    ("vertetajs@demo.grantflow.lv", "#evaluator-home", "Jums vērtēšanai piešķirtās idejas"),
    ("pieteicejs@demo.grantflow.lv", "#applicant-home", "Jūsu organizācijas idejas"),
    ("pasvaldiba@demo.grantflow.lv", "#municipality-home", "Idejas: Rēzeknes novads"),
]


@pytest.mark.browser
@pytest.mark.parametrize("email, section, heading", HOMES)
def test_each_role_sees_its_home_page(page, email, section, heading):
    log_in(page, email, PASSWORD)
    expect(page.locator(section).get_by_role("heading").first).to_have_text(heading)
    log_out(page)  # waits for the logged-out header's login link


@pytest.mark.browser
def test_administrator_sees_ideas_history_and_workflow_picture(page, tmp_path):
    log_in(page, "admin@demo.grantflow.lv", PASSWORD)
    page.get_by_role("link", name="Konkursi").first.click()
    page.get_by_role("link", name="Kopienu iniciatīvu konkurss „Darbīgās kopienas” 2025").click()
    expect(page.get_by_text("Upes krasta takas sakopšana Aglonā")).to_be_visible()
    page.get_by_role("link", name="Upes krasta takas sakopšana Aglonā").click()
    history = page.locator("#history li")
    expect(history.nth(5)).to_be_attached()  # at least six: submitted … closed, each step audited
    page.go_back()
    page.get_by_role("link", name="darba plūsma: Kopienu ideju konkurss").click()
    image = page.get_by_role("img")
    expect(image).to_be_visible()
    # The picture has arrived and is a real drawing (fails after the default time-out otherwise).
    page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=image.element_handle())
    page.screenshot(path=str(tmp_path / "workflow.png"), full_page=True)


@pytest.mark.browser
def test_wrong_password_is_refused_with_a_message(page):
    log_in(page, "admin@demo.grantflow.lv", "nepareiza-parole")
    expect(page.get_by_role("alert")).to_have_text("Nepareizs e-pasts vai parole.")
    expect(page.get_by_label("E-pasts")).to_have_value("admin@demo.grantflow.lv")
