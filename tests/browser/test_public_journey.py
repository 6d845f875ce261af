"""A visitor, not logged in, goes from the first page to a competition's rules (criteria,
deadline) and to a funded idea; screenshots at desktop and phone width go to the test's
temporary folder (axe-core walks these pages in test_accessibility.py)."""

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_visitor_finds_a_competitions_rules_and_a_funded_idea(page, phone, live_server, tmp_path):
    page.goto("/")
    # An open competition with its rules (other journeys share the live server's database and
    # add competitions of their own, without documents, that may be listed first).
    calls = page.locator("main a[href^='/calls/']")
    hrefs = [calls.nth(n).get_attribute("href") for n in range(calls.count())]
    for href in hrefs:
        page.goto(href)
        if page.get_by_role("region", name="Dokumenti").get_by_role("link", name=re.compile("nolikums")).count():
            break
    else:
        raise AssertionError(f"no open competition lists its rules: {hrefs}")
    expect(page.get_by_role("heading", name="Kā idejas vērtē")).to_be_visible()
    expect(page.get_by_role("heading", name="Laika grafiks")).to_be_visible()
    expect(page.locator("#deadline")).to_contain_text("Rīgas laiks")
    page.screenshot(path=str(tmp_path / "competition.png"), full_page=True)
    # The rules, downloaded as a visitor would: the link in the Documents section.
    documents = page.get_by_role("region", name="Dokumenti")
    rules = documents.get_by_role("link", name=re.compile("nolikums"))
    expect(documents).to_contain_text("PDF")
    with page.expect_download() as download:
        rules.first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".pdf" and saved.read_bytes().startswith(b"%PDF")
    # The same page in English, by its own address (what search engines are given).
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="How ideas are evaluated")).to_be_visible()
    expect(page.locator('link[rel="alternate"][hreflang="lv"]')).to_have_count(1)
    page.get_by_role("link", name="Latviešu").click()
    expect(page.get_by_role("heading", name="Kā idejas vērtē")).to_be_visible()
    page.get_by_role("navigation", name="Galvenā izvēlne").get_by_role("link", name="Atbalstītās idejas").click()
    expect(page.get_by_role("heading", name="Atbalstītās idejas", level=1)).to_be_visible()
    page.screenshot(path=str(tmp_path / "results.png"), full_page=True)
    page.locator("article.gf-grant a").first.click()
    expect(page.get_by_role("heading", name="Finansējums")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("@")  # no contact person
    page.screenshot(path=str(tmp_path / "idea.png"), full_page=True)
    phone.goto("/results/")
    phone.screenshot(path=str(tmp_path / "results-phone.png"), full_page=True)
    print(tmp_path)
