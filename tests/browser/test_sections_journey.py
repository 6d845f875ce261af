"""The application form as a task list of sections, in a real Chromium on a desktop window and
a phone: every section starts "not started"; "Save and continue" keeps a half-filled section
("in progress") and opens the next; a number that is not one is kept as typed with its message
beside it; checking the answers lists what is missing, each with a way back; once every section
is complete the idea is submitted. axe-core finds no serious problem on the pages on the way."""

import re

import pytest
from playwright.sync_api import expect

from grantflow.demo.operations import PASSWORD
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import LOGINS, violations


def state_of(page, section_name: str):
    return page.locator("#sections li", has=page.get_by_role("link", name=section_name, exact=True)).locator(".govuk-task-list__status")


def save_and_continue(page):
    page.get_by_role("button", name="Saglabāt un turpināt").click()


@pytest.mark.browser
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_sections_task_list_save_and_continue_wrong_answer_check_and_submit(size, page, phone):
    page = page if size == "desktop" else phone
    problems = {}

    def axe(where):
        found = violations(page)
        if found:
            problems[where] = found

    log_in(page, LOGINS["applicant"], PASSWORD)
    page.goto("/apply/new")
    # The demo's open competition by name: other journeys add open competitions of their own
    # (the two-stage one has other sections) to the shared database.
    page.get_by_label("Konkurss").select_option(label="Kopienu iniciatīvu konkurss „Darbīgās kopienas” 2026")
    page.get_by_role("button", name="Sākt melnrakstu").click()
    # A new draft opens on its task list of sections.
    expect(page).to_have_url(re.compile(r"/apply/\d+/sections$"))
    idea_url = page.url.removesuffix("/sections")
    expect(state_of(page, "Ideja")).to_have_text("Nav sākts")
    axe("task list")

    # A half-filled section is saved and the next one opens; the task list says "in progress".
    page.get_by_role("link", name="Ideja", exact=True).click()
    title = f"Laipas pāri upei ({size})"
    page.get_by_label("Idejas nosaukums").fill(title)
    page.get_by_label("Kopsavilkums").fill("Divas laipas, ko uzbūvēsim talkā.")
    axe("section")
    save_and_continue(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Plānotās aktivitātes")
    page.get_by_role("link", name="Visas sadaļas").click()
    expect(state_of(page, "Ideja")).to_have_text("Tiek aizpildīts")

    # A wrong answer: kept as typed, the message beside the field, nothing else lost.
    page.get_by_role("link", name="Mērķgrupas un dalībnieki", exact=True).click()
    page.get_by_label("Jaunieši", exact=True).check()
    page.get_by_label("Paredzamais dalībnieku skaits").fill("četrdesmit")
    page.get_by_role("button", name="Saglabāt", exact=True).click()
    expect(page.locator("#expected_participants-error")).to_contain_text("veselu skaitli")
    expect(page.get_by_label("Paredzamais dalībnieku skaits")).to_have_value("četrdesmit")
    expect(page.get_by_label("Jaunieši", exact=True)).to_be_checked()
    axe("wrong answer")

    # Checking the answers lists what is missing, each with a way back to its section.
    page.goto(f"{idea_url}/check")
    expect(page.locator(".govuk-error-summary")).to_contain_text("jāaizpilda vai jālabo")
    expect(page.get_by_text("Norādiet mērķus.").first).to_be_visible()
    axe("check answers")

    # Every section put right, one after another with "Save and continue".
    page.goto(f"{idea_url}/sections/idea")
    page.get_by_label("Kopiena un tās vajadzība").fill("Ciemu šķir upe; tuvākais tilts ir 5 km.")
    page.get_by_label("Mērķi").fill("Savienot abus krastus.")
    save_and_continue(page)
    if page.locator("#activities-0-description").count() == 0:
        page.get_by_role("button", name="+ Pievienot rindu").click()
    page.locator("#activities-0-description").fill("Talka: laipu būve.")
    page.locator("#activities-0-starts_on").fill("2026-06-13")
    page.locator("#activities-0-ends_on").fill("2026-06-14")
    save_and_continue(page)
    page.get_by_label("Paredzamais dalībnieku skaits").fill("40")
    reach = page.get_by_label("Kā jūs uzrunāsiet mazāk aktīvos?")
    if reach.count():
        reach.fill("Personīgi, ar kaimiņu palīdzību.")
    save_and_continue(page)
    save_and_continue(page)  # partners: none
    page.get_by_label("Kas paliks pēc tam, kad nauda būs iztērēta?").fill("Laipas paliks kopienai.")
    save_and_continue(page)
    if page.locator("#budget_lines-0-item").count() == 0:
        page.get_by_role("button", name="+ Pievienot rindu").click()
    page.locator("#budget_lines-0-item").fill("Dēļi un skrūves")
    page.locator("#budget_lines-0-quantity").fill("1")
    page.locator("#budget_lines-0-unit_cost").fill("1000")
    save_and_continue(page)
    page.get_by_label("Kontaktpersona", exact=True).fill("Līga Pieteicēja")
    page.get_by_label("Kontaktpersonas e-pasts").fill("liga@example.lv")
    page.get_by_label("Pašvaldība", exact=True).select_option(label="Rēzeknes novads")
    save_and_continue(page)
    save_and_continue(page)  # files: none needed
    expect(page).to_have_url(re.compile(r"/check$"))
    errors = page.locator(".govuk-error-summary").all_inner_texts()
    assert not errors, errors
    page.get_by_role("link", name="Visas sadaļas").click()
    for name in ("Ideja", "Plānotās aktivitātes", "Budžets"):
        expect(state_of(page, name)).to_have_text("Pabeigts")
    page.goto(f"{idea_url}/check")
    page.get_by_role("link", name="Turpināt uz iesniegšanu").click()
    page.get_by_role("button", name="Iesniegt ideju").click()
    expect(page.get_by_role("status").first).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    assert not problems, problems
