"""The form editor's choice lists and columns in a real Chromium, on a desktop window and a
phone: a mistake is said beside its field and what was typed stays; put right, it is saved.
axe-core finds no serious problem. GRANTFLOW_SCREENSHOTS=<folder> keeps a picture of each."""


import pytest
from playwright.sync_api import expect

from grantflow.accounts.models import User
from grantflow.core.extensions import db
from grantflow.demo.operations import PASSWORD
from grantflow.questionnaires import operations as forms_ops
from tests.browser.conftest import log_in
from tests.browser.screens import SIZES, shot
from tests.browser.test_accessibility import LOGINS, violations


def _editable_copy(app) -> int:
    """A copy of the report form with a choice question and a table of the editor's own."""
    with app.app_context():
        admin = db.session.query(User).filter_by(email=LOGINS["administrator"]).one()
        copy = forms_ops.copy_version(forms_ops.default_version("report"), admin)
        choices = [
            {"value": "yes", "label": {"lv": "Jā", "en": "Yes"}},
            {"value": "no", "label": {"lv": "Nē", "en": "No"}},
        ]
        forms_ops.add_question(copy, "results", "again", "single_choice", {"lv": "Vai rīkotu vēlreiz?", "en": "Would you do it again?"},
                               None, admin, choices=choices)  # fmt: skip
        columns = [{"key": "name", "type": "short_text", "label": {"lv": "Nosaukums", "en": "Name"}},
                   {"key": "held_on", "type": "date", "label": {"lv": "Datums", "en": "Date"}}]  # fmt: skip
        forms_ops.add_question(
            copy, "results", "events", "rows", {"lv": "Pasākumi", "en": "Events"}, None, admin, columns=columns
        )
        db.session.commit()
        version_id = copy.id
        db.session.remove()
    return version_id



@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_the_editor_changes_choices_and_columns_and_says_each_mistake_beside_its_field(size, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport=SIZES[size], locale="lv-LV", is_mobile=size == "phone"
    )
    page = context.new_page()
    version_id = _editable_copy(live_server.app)
    log_in(page, LOGINS["administrator"], PASSWORD)
    page.goto(f"/admin/forms/{version_id}")
    choices = page.locator("#choices-again")
    columns = page.locator("#columns-events")
    expect(choices).to_have_value("yes | Jā | Yes\nno | Nē | No")
    typed = "name | text | Pasākums | Event\nheld_on | date | Datums | Date\ncost | euros | Izmaksas | Cost"
    columns.fill(typed)
    choices.fill("yes | Jā, noteikti | Yes, certainly\nno | Nē | No\nlater | Vēlāk | Later")
    page.get_by_role("button", name="Saglabāt tekstus, nosaukumus, izvēles un kolonnas").click()
    expect(page.locator("#columns-events-error")).to_contain_text("3. rinda")
    expect(columns).to_have_value(typed)  # nothing typed is lost
    expect(choices).to_have_value("yes | Jā, noteikti | Yes, certainly\nno | Nē | No\nlater | Vēlāk | Later")
    columns.scroll_into_view_if_needed()
    shot(page, f"form-editor-problem-{size}")
    assert violations(page) == []
    columns.fill(typed.replace("euros", "money"))
    page.get_by_role("button", name="Saglabāt tekstus, nosaukumus, izvēles un kolonnas").click()
    expect(page.get_by_text("Saglabāts.")).to_be_visible()
    expect(page.locator("#columns-events")).to_have_value(typed.replace("euros", "money"))
    expect(page.locator("#choices-again")).to_have_value(
        "yes | Jā, noteikti | Yes, certainly\nno | Nē | No\nlater | Vēlāk | Later"
    )
    page.locator("#q-again").scroll_into_view_if_needed()
    shot(page, f"form-editor-saved-{size}")
    context.close()
