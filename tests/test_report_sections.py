"""The final report as a task list when its form has more than one section, the way the
application is filled in: sections in any order, each saved as a draft (what cannot be read
kept as typed), check the answers, submit. A one-section report form stays one page."""

import copy
import io
import re

from grantflow.core import drafts
from grantflow.core.extensions import db
from grantflow.questionnaires import operations as forms_ops
from grantflow.reports.models import Report
from grantflow.reports.operations import blank_report
from tests.conftest import login
from tests.test_apply import PDF
from tests.test_reports import flat, fresh, funded  # noqa: F401 (the fixture)


def sent(report, **changes) -> dict:
    """The report's fields as a browser sends them (an empty field as empty text)."""
    return {k: "" if v is None else v for k, v in flat(report, **changes).items()}


def states(page: str) -> list[str]:
    return [s.strip() for s in re.findall(r'class="govuk-task-list__status"[^>]*>(?:<strong[^>]*>)?([^<]+)', page)]


def test_a_report_form_of_several_sections_is_a_task_list_to_check_and_submit(client, funded):  # noqa: F811
    idea, applicant, admin = funded
    login(client, applicant.email)
    assert f'href="/reports/{idea.id}/sections"' in client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert f'href="/reports/{idea.id}/sections"' in client.get("/").get_data(as_text=True)  # the next step at home
    page = client.get(f"/reports/{idea.id}/sections").get_data(as_text=True)
    assert states(page) == ["Nav sākts"] * 5 and f"/reports/{idea.id}/sections/reach" in page
    assert db.session.query(Report).filter_by(idea_id=idea.id).count() == 0  # a GET stores nothing

    # A section: what cannot be read is kept as typed with its message; the others are untouched.
    page = client.get(f"/reports/{idea.id}/sections/reach").get_data(as_text=True)
    assert 'name="participants"' in page and 'name="changed"' not in page and "data-autosave" in page
    data = sent(blank_report(idea), participants="ap 40", volunteers="3")
    response = client.post(f"/reports/{idea.id}/sections/reach", data={**data, "action": "continue"})
    assert response.headers["Location"].endswith(f"/reports/{idea.id}/sections/reach")
    report = db.session.query(Report).filter_by(idea_id=idea.id).one()
    assert report.draft_raw == {"participants": "ap 40"} and report.volunteers == 3
    page = client.get(f"/reports/{idea.id}/sections/reach").get_data(as_text=True)
    assert 'value="ap 40"' in page and 'id="participants-error"' in page
    # Another section, with a row added: the kept text of the first stays.
    data = sent(report, changed="Zaļāks ciems")
    data.update(
        {"activities-0-held_on": "2026-05-15", "activities-0-description": "Talka", "activities-0-participants": "35"}
    )
    response = client.post(f"/reports/{idea.id}/sections/activities", data={**data, "action": "add:activities"})
    assert response.headers["Location"].endswith("#activities-1")
    report = fresh(Report, report.id)
    assert len(report.activities) == 2 and report.activities[0].description == "Talka"
    assert report.draft_raw == {"participants": "ap 40"} and report.answers.get("changed") is None
    response = client.post(f"/reports/{idea.id}/sections/activities", data={**sent(report), "action": "continue"})
    assert response.headers["Location"].endswith(f"/reports/{idea.id}/sections/reach")  # the next section
    # An autosave saves the section and goes nowhere.
    response = client.post(f"/reports/{idea.id}/sections/results", data={**sent(report), "changed": "Zaļāks ciems"},
                           headers={drafts.HEADER: "1"})  # fmt: skip
    assert response.status_code == 204 and fresh(Report, report.id).answers["changed"] == "Zaļāks ciems"
    # A file on the files section's page goes up and is removed from there, and back to it.
    files = f"/reports/{idea.id}/sections/files"
    page = client.get(files).get_data(as_text=True)
    assert f'action="/reports/{idea.id}/attachments?section=files"' in page
    response = client.post(
        f"/reports/{idea.id}/attachments?section=files",
        data={"purpose": "receipt", "file": (io.BytesIO(PDF), "čeks.pdf")},
    )
    assert response.headers["Location"].endswith(files + "#attachments")
    attachment = fresh(Report, report.id).attachments[0]
    assert "čeks.pdf" in client.get(files).get_data(as_text=True)
    response = client.post(f"/apply/attachments/{attachment.id}/delete?section=files")
    assert response.headers["Location"].endswith(files + "#attachments") and fresh(Report, report.id).attachments == []
    page = client.get(f"/reports/{idea.id}/sections").get_data(as_text=True)
    assert states(page) == ["Pabeigts", "Tiek aizpildīts", "Nav sākts", "Tiek aizpildīts", "Nav sākts"]

    # Checking the answers lists what still needs attention, with the way back to each.
    page = client.get(f"/reports/{idea.id}/check").get_data(as_text=True)
    assert "Talka" in page and "Zaļāks ciems" in page and f"/reports/{idea.id}/sections/results" in page
    assert 'id="problems"' in page and f'action="/reports/{idea.id}/submit"' not in page
    report = fresh(Report, report.id)
    client.post(f"/reports/{idea.id}/sections/reach", data={**sent(report), "participants": "40", "action": "continue"})
    client.post(
        f"/reports/{idea.id}/sections/results", data={**sent(report), "changed": "Zaļāks ciems", "continues": "Kopšana"}
    )
    client.post(f"/reports/{idea.id}/sections/activities", data={**sent(report), "activities-1-description": "",
                                                                  "action": "remove:activities:1"})  # fmt: skip
    report = fresh(Report, report.id)
    assert report.draft_raw == {} and len(report.activities) == 1
    page = client.get(f"/reports/{idea.id}/check").get_data(as_text=True)
    assert 'id="problems"' not in page and f'action="/reports/{idea.id}/submit"' in page
    response = client.post(f"/reports/{idea.id}/submit")
    assert response.headers["Location"].endswith(f"/ideas/{idea.id}#report")
    assert fresh(Report, report.id).status == "submitted"
    # Submitted, it can no longer be changed.
    assert client.get(f"/reports/{idea.id}/sections").status_code == 303
    response = client.post(f"/reports/{idea.id}/sections/reach", data={**sent(report), "participants": "99"})
    assert response.status_code == 303 and fresh(Report, report.id).participants == 40


def test_a_one_section_report_form_stays_one_page(client, funded):  # noqa: F811
    idea, applicant, admin = funded
    version = forms_ops.copy_version(forms_ops.default_version("report"), admin)
    definition = copy.deepcopy(version.definition)
    questions = [q for s in definition["sections"] for q in s["questions"]]
    definition["sections"] = [{**definition["sections"][0], "questions": questions}]
    forms_ops.edit_version(version, definition, admin, "one section")
    idea.competition.report_form_id = version.id
    db.session.commit()
    login(client, applicant.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert f'href="/reports/{idea.id}"' in page and f"/reports/{idea.id}/sections" not in page
    assert f'href="/reports/{idea.id}"' in client.get("/").get_data(as_text=True)
    page = client.get(f"/reports/{idea.id}").get_data(as_text=True)
    assert 'name="participants"' in page and 'name="changed"' in page
