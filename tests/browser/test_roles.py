"""Each role logs in through a real browser and lands on its own home page."""

import pytest

from grantflow.demo.operations import PASSWORD
from tests.browser.conftest import log_in

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
    assert page.locator(section).get_by_role("heading").first.inner_text() == heading
    page.get_by_role("button", name="Iziet").click()
    assert page.get_by_role("banner").get_by_role("link", name="Pieteikties").is_visible()


@pytest.mark.browser
def test_administrator_sees_ideas_history_and_workflow_picture(page, tmp_path):
    log_in(page, "admin@demo.grantflow.lv", PASSWORD)
    page.get_by_role("link", name="Konkursi").first.click()
    page.get_by_role("link", name="Kopienu iniciatīvu konkurss \"Darbīgās kopienas\" 2026").click()
    assert page.get_by_text("Upes krasta takas sakopšana Aglonā").is_visible()
    page.get_by_role("link", name="Upes krasta takas sakopšana Aglonā").click()
    history = page.locator("#history li")
    assert history.count() >= 6  # submitted … closed, each step audited
    page.go_back()
    page.get_by_role("link", name="darba plūsma: Kopienu ideju konkurss").click()
    page.wait_for_load_state("networkidle")
    image = page.get_by_role("img")
    page.screenshot(path=str(tmp_path / "workflow.png"), full_page=True)
    assert image.evaluate("img => img.complete && img.naturalWidth > 100")


@pytest.mark.browser
def test_wrong_password_is_refused_with_a_message(page):
    log_in(page, "admin@demo.grantflow.lv", "nepareiza-parole")
    assert page.get_by_role("alert").inner_text() == "Nepareizs e-pasts vai parole."
    assert page.get_by_label("E-pasts").input_value() == "admin@demo.grantflow.lv"
