"""The final report as a task list in a real Chromium, on a desktop window and a phone: the idea
page leads to the report's sections; a section saved with a number that is not one keeps it as
typed with its message; put right, "Save and continue" goes on; checking the answers lists what
still needs attention with a way back. A submitted report is read on the idea page with every
answer of its form. GRANTFLOW_SCREENSHOTS=<folder> keeps a picture of each step."""

import re

import pytest
from playwright.sync_api import expect

from grantflow.demo.operations import PASSWORD
from tests.browser.conftest import log_in
from tests.browser.screens import SIZES, shot
from tests.browser.test_accessibility import LOGINS, ids, violations


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_the_report_task_list_section_by_section_to_checking(size, browser, live_server):
    i = ids(live_server.app)
    context = browser.new_context(
        base_url=live_server.url, viewport=SIZES[size], locale="lv-LV", is_mobile=size == "phone"
    )
    page = context.new_page()
    problems = {}
    log_in(page, LOGINS["applicant"], PASSWORD)
    page.goto(f"/ideas/{i['funded']}")
    page.locator("#report").get_by_role("link", name="Aizpildīt noslēguma atskaiti").click()
    expect(page).to_have_url(re.compile(r"/reports/\d+/sections$"))
    expect(page.locator("#sections")).to_contain_text("Sasniegtie cilvēki")
    shot(page, f"report-sections-{size}", full_page=True)
    problems["sections"] = violations(page)
    page.get_by_role("link", name="Sasniegtie cilvēki", exact=True).click()
    page.get_by_label("Cik cilvēku kopā piedalījās").fill("ap 40")
    page.get_by_role("button", name="Saglabāt un turpināt").click()
    expect(page.locator("#participants-error")).to_be_visible()
    expect(page.get_by_label("Cik cilvēku kopā piedalījās")).to_have_value("ap 40")
    shot(page, f"report-section-problem-{size}", full_page=True)
    problems["section"] = violations(page)
    page.get_by_label("Cik cilvēku kopā piedalījās").fill("40")
    page.get_by_role("button", name="Saglabāt un turpināt").click()
    expect(page).to_have_url(re.compile(r"/reports/\d+/sections/spending$"))  # the next section
    page.goto(f"/reports/{i['funded']}/check")
    expect(page.locator("#problems")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Mainīt")).first).to_be_visible()
    shot(page, f"report-check-{size}", full_page=True)
    problems["check"] = violations(page)
    # An administrator reads a submitted report on its idea page: every answer of its form.
    reported = i.get("reported") or i.get("closed")
    if reported:
        page.get_by_role("button", name="Iziet").click()
        log_in(page, LOGINS["administrator"], PASSWORD)
        page.goto(f"/ideas/{reported}")
        expect(page.locator("#report")).to_contain_text("Kas kopienā mainījās?")
        page.locator("#report").scroll_into_view_if_needed()
        shot(page, f"report-summary-{size}", full_page=True)
        problems["summary"] = violations(page)
    assert {k: v for k, v in problems.items() if v} == {}
    context.close()
