"""The page frame on a phone: the menu folds behind a button (and stays open without JavaScript),
the header stays short, log out and the language switch stay in reach, wide tables fit."""

import pytest
from playwright.sync_api import expect

from grantflow.demo.operations import PASSWORD
from tests.browser.conftest import log_in


@pytest.mark.browser
def test_on_a_phone_the_menu_folds_behind_a_button(phone):
    log_in(phone, "admin@demo.grantflow.lv", PASSWORD)
    competitions = phone.get_by_role("navigation", name="Galvenā izvēlne").get_by_role("link", name="Konkursi")
    expect(competitions).to_be_hidden()
    # The header (name, language, log out) and the menu button take little of the first screen.
    masthead = phone.locator("header.gf-masthead").bounding_box()
    assert masthead["height"] < 120, masthead
    phone.get_by_role("button", name="Izvēlne").click()
    expect(competitions).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.browser
def test_without_javascript_the_menu_stays_open(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 375, "height": 740}, java_script_enabled=False
    )
    page = context.new_page()
    log_in(page, "admin@demo.grantflow.lv", PASSWORD)
    expect(page.get_by_role("button", name="Izvēlne")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Galvenā izvēlne").get_by_role("link", name="Konkursi")).to_be_visible()
    context.close()


@pytest.mark.browser
def test_the_ranking_fits_a_laptop_screen_and_shows_more_columns_on_demand(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    log_in(page, "admin@demo.grantflow.lv", PASSWORD)
    page.get_by_role("link", name="Konkursi").first.click()
    page.get_by_role("link", name="Kopienu iniciatīvu konkurss „Darbīgās kopienas” 2025").click()
    page.get_by_role("link", name="Rangu saraksts").first.click()
    table = page.locator("#ranking")
    assert table.bounding_box()["width"] <= 1366 - 2 * 15
    expect(table.get_by_role("columnheader", name="Pašvaldība")).to_be_hidden()
    page.get_by_role("link", name="Rādīt visas kolonnas").click()
    expect(page.locator("#ranking").get_by_role("columnheader", name="Pašvaldība")).to_be_visible()
    context.close()
