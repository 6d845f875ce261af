"""The applicant's safety net in a real Chromium, on a desktop window and a phone: typing into
a section page of the idea (reached from its task list) and leaving at once asks first (the text is not saved yet); a moment later the
page says "Saglabāts HH:MM", leaving no longer asks, and the text is there on coming back."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_typing_is_kept_and_leaving_unsaved_text_asks_first(size, page, phone):
    page = page if size == "desktop" else phone
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # "stay on this page"

    page.on("dialog", on_dialog)
    log_in(page, "pieteicejs@demo.grantflow.lv", "demo-parole-2026")
    page.goto("/apply/new")
    # The demo's open competition by name: other journeys add open competitions to the shared database.
    page.get_by_label("Konkurss").select_option(label="Kopienu iniciatīvu konkurss „Darbīgās kopienas” 2026")
    page.get_by_role("button", name="Sākt melnrakstu").click()
    expect(page).to_have_url(re.compile(r"/apply/\d+/sections$"))
    tasks_url = page.url
    page.get_by_role("link", name="Ideja", exact=True).click()
    expect(page).to_have_url(re.compile(r"/apply/\d+/sections/idea$"))
    edit_url = page.url
    title = page.get_by_label("Idejas nosaukums")
    text = f"Saglabāsies pats ({size})"
    title.click()
    page.keyboard.type(text)

    # Leaving before the background save: the browser asks; staying keeps the page and text.
    page.locator(".gf-header__home").click(no_wait_after=True)
    for _ in range(50):
        if dialogs:
            break
        page.wait_for_timeout(100)
    assert dialogs == ["beforeunload"]
    assert page.url == edit_url
    expect(title).to_have_value(text)

    # A moment later it is saved, and the page says so in its live region.
    status = page.locator("form[data-autosave] .gf-autosave[role=status]")
    expect(status).to_have_text(re.compile(r"^Saglabāts \d\d:\d\d$"))

    # Leaving now does not ask; coming back finds the text.
    page.locator(".gf-header__home").click()
    expect(page).not_to_have_url(edit_url)
    assert dialogs == ["beforeunload"]
    # Coming back the applicant's way, by the task list: the section is in progress and the
    # text is there.
    page.goto(tasks_url)
    item = page.locator("#sections li").filter(has=page.get_by_role("link", name="Ideja", exact=True))
    expect(item.locator(".govuk-task-list__status")).to_have_text("Tiek aizpildīts")
    item.get_by_role("link", name="Ideja", exact=True).click()
    expect(page.get_by_label("Idejas nosaukums")).to_have_value(text)

    # Pressing a form's own button (here, saving) never asks either.
    page.get_by_label("Kopsavilkums").fill("Bez brīdinājuma")
    page.get_by_role("button", name="Saglabāt", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saglabāts.")).to_be_visible()
    expect(page.get_by_label("Kopsavilkums")).to_have_value("Bez brīdinājuma")
    assert dialogs == ["beforeunload"]
