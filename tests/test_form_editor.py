"""The form editor edits an unfrozen form's choice lists and the columns of its repeating rows,
checked as a form file is: every problem beside the field it is about, nothing typed lost; a
frozen form refuses with the way out (copy it as a new version)."""

import html
import re

from grantflow.core.extensions import db
from grantflow.questionnaires import operations as forms_ops
from grantflow.questionnaires.models import FormVersion
from tests.conftest import login


def page_fields(page: str) -> dict:
    """Every text field of the existing questions on the editor's page, as the browser sends it."""
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input class="govuk-input[^"]*" id="[^"]+" name="([^"]+)" value="([^"]*)"', page
        )
    }
    fields.update(
        {
            name: html.unescape(value)
            for name, value in re.findall(r'<textarea[^>]* name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S)
        }
    )
    return {name: value for name, value in fields.items() if "-" in name}  # not the new question's


def form_of(version_id):
    db.session.expire_all()
    return db.session.get(FormVersion, version_id).form


def error_of(page: str, name: str) -> str:
    match = re.search(rf'<p class="govuk-error-message field-error" id="{name}-error">(.*?)</p>', page, re.S)
    return html.unescape(match[1]) if match else ""


def test_an_administrator_edits_choices_and_columns_with_every_problem_beside_its_field(client, factory):
    admin = factory.admin()
    copy = forms_ops.copy_version(forms_ops.default_version("report"), admin)
    choices = [{"value": "yes", "label": {"lv": "Jā", "en": "Yes"}}, {"value": "no", "label": {"lv": "Nē", "en": "No"}},
               {"value": "maybe", "label": {"lv": "Varbūt", "en": "Maybe"}}]  # fmt: skip
    forms_ops.add_question(copy, "results", "again", "single_choice", {"lv": "Vai rīkotu vēlreiz?", "en": "Again?"}, None, admin,
                           choices=choices)  # fmt: skip
    forms_ops.add_question(copy, "results", "why_not", "long_text", {"lv": "Kāpēc ne?", "en": "Why not?"}, None, admin,
                           shown_when={"question": "again", "equals": "no"})  # fmt: skip
    columns = [{"key": "name", "type": "short_text", "label": {"lv": "Nosaukums", "en": "Name"}, "limits": {"max_length": 80}},
               {"key": "held_on", "type": "date", "label": {"lv": "Datums", "en": "Date"}},
               {"key": "note", "type": "long_text", "label": {"lv": "Piezīme", "en": "Note"}}]  # fmt: skip
    forms_ops.add_question(
        copy, "results", "events", "rows", {"lv": "Pasākumi", "en": "Events"}, None, admin, columns=columns
    )
    db.session.commit()
    version_id, url = copy.id, f"/admin/forms/{copy.id}"
    login(client, admin.email)

    page = client.get(url).get_data(as_text=True)
    fields = page_fields(page)
    assert fields["choices-again"] == "yes | Jā | Yes\nno | Nē | No\nmaybe | Varbūt | Maybe"
    assert (
        fields["columns-events"]
        == "name | text | Nosaukums | Name\nheld_on | date | Datums | Date\nnote | long | Piezīme | Note"
    )
    assert "columns-spending" in fields and "choices-changed" not in fields
    # The page as it is, sent back: nothing changes.
    before = db.session.get(FormVersion, version_id).definition
    assert client.post(url, data={**fields, "action": "texts"}).status_code == 303
    assert form_of(version_id).as_json() == before

    # Relabel a choice, add one, remove one; add a column, relabel one, change a kind, remove one.
    fields["choices-again"] = "yes | Jā, noteikti | Yes, certainly\nno | Nē | No\nlater | Vēlāk | Later"
    fields["columns-events"] = (
        "name | text | Pasākums | Event\nheld_on | text | Kad | When\ncost | money | Izmaksas | Cost"
    )
    assert client.post(url, data={**fields, "action": "texts"}).status_code == 303
    form = form_of(version_id)
    again, events = form.question("again"), form.question("events")
    assert [(c.value, c.label["lv"], c.label["en"]) for c in again.choices] == [
        ("yes", "Jā, noteikti", "Yes, certainly"), ("no", "Nē", "No"), ("later", "Vēlāk", "Later")]  # fmt: skip
    assert [(c.key, c.type, c.label["en"]) for c in events.columns] == [
        ("name", "short_text", "Event"), ("held_on", "short_text", "When"), ("cost", "money", "Cost")]  # fmt: skip
    assert events.column("name").limits == {"max_length": 80}  # what the line does not say is kept

    # Mistakes: every one beside its field, everything typed shown again as typed, nothing saved.
    page = client.get(url).get_data(as_text=True)
    fields = page_fields(page)
    typed = {
        **fields,
        "label_lv-changed": "Kas mainījās kopienā?",  # a good change beside the bad ones is not lost
        "choices-again": "yes | Jā, noteikti | Yes, certainly\nlater | Vēlāk | Later",  # drops "no", which why_not needs
        "columns-events": "name | text | Pasākums | Event\ncost | euros | Izmaksas | Cost",  # an unknown kind
        "label_en-again": "",  # a label without English
    }
    response = client.post(url, data={**typed, "action": "texts"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2. rinda" in error_of(page, "columns-events")  # the line, in the reader's language
    shown = page_fields(page)
    assert {k: shown[k] for k in typed if k in shown} == {k: v for k, v in typed.items() if k in shown}
    assert form_of(version_id).question("changed").label["lv"] == "Kas kopienā mainījās?"
    # With the kind put right, the loader's problems come beside their fields too.
    typed["columns-events"] = "name | text | Pasākums | Event\ncost | money | Izmaksas | Cost"
    page = client.post(url, data={**typed, "action": "texts"}).get_data(as_text=True)
    assert "'no'" in error_of(page, "choices-again") and "'en'" in error_of(page, "label_en-again")
    assert 'href="#choices-again"' in page and 'href="#label_en-again"' in page
    assert page_fields(page)["choices-again"] == typed["choices-again"]
    assert [c.value for c in form_of(version_id).question("again").choices] == ["yes", "no", "later"]

    # A question GrantFlow reads keeps its columns' keys and kinds; their labels change.
    fields = page_fields(client.get(url).get_data(as_text=True))
    spending = fields["columns-spending"]
    page = client.post(
        url, data={**fields, "columns-spending": spending.replace("actual | money", "actual | text"), "action": "texts"}
    )
    assert "GrantFlow" in error_of(page.get_data(as_text=True), "columns-spending")
    page = client.post(
        url, data={**fields, "columns-spending": "\n".join(spending.splitlines()[:2]), "action": "texts"}
    )
    assert error_of(page.get_data(as_text=True), "columns-spending")
    relabelled = spending.replace("Faktiski iztērēts, €", "Iztērēts, €")
    assert client.post(url, data={**fields, "columns-spending": relabelled, "action": "texts"}).status_code == 303
    assert form_of(version_id).question("spending").column("actual").label["lv"] == "Iztērēts, €"

    # Frozen at the first submission: refused, with the way out.
    forms_ops.freeze(version_id)
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert 'name="choices-again"' not in page and 'name="columns-events"' not in page
    response = client.post(
        url, data={**fields, "choices-again": "yes | Jā | Yes", "action": "texts"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "vairs nevar mainīt" in page and f"/admin/forms/{version_id}/copy" in page
    assert [c.value for c in form_of(version_id).question("again").choices] == ["yes", "no", "later"]
