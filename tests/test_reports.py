"""The final report: draft with any input, submit with checks, administrator accepts or
returns it through the idea page's workflow steps; the applicant's home says what is next."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event

from grantflow.core.extensions import db
from grantflow.ideas.models import Idea
from grantflow.reports.models import Report
from grantflow.reports.operations import blank_report, form_data
from tests.conftest import login


def flat(report, **changes):
    data = {}
    for key, value in form_data(report).items():
        if isinstance(value, list):
            for i, row in enumerate(value):
                for name, v in row.items():
                    data[f"{key}-{i}-{name}"] = v
        else:
            data[key] = value
    data.update(changes)
    return data


def fresh(model, id_):
    db.session.commit()
    return db.session.get(model, id_)


@pytest.fixture
def funded(factory):
    idea = factory.funded()
    idea.competition.report_due = date(2026, 11, 30)
    applicant = factory.member_of(idea.organisation)
    admin = factory.admin()
    db.session.commit()
    return idea, applicant, admin


def test_report_draft_submit_return_and_accept(client, funded):
    idea, applicant, admin = funded
    login(client, applicant.email)
    home = client.get("/").get_data(as_text=True)
    assert "30. nov. 2026" in home
    assert client.get(f"/reports/{idea.id}").status_code == 200
    db.session.commit()
    assert db.session.query(Report).filter_by(idea_id=idea.id).count() == 0  # a GET stores nothing
    client.post(f"/reports/{idea.id}", data={**flat(blank_report(idea)), "action": "save"})  # the first save does
    report = db.session.query(Report).filter_by(idea_id=idea.id).one()
    assert [s.planned for s in report.spending] == [Decimal("1000.00")]
    # A draft keeps everything, even what is not a number yet.
    data = flat(report, participants="ap 40", changed="<img src=x onerror=alert(1)> Ļoti labi 👍", volunteers="5")
    data["spending-0-actual"] = "950,5"
    data["activities-0-held_on"] = "15.05.2026"
    data["activities-0-description"] = "Talka"
    data["activities-0-participants"] = "35"
    data["reach-0-people"] = "12"
    client.post(f"/reports/{idea.id}", data={**data, "action": "rows:add"})
    report = fresh(Report, report.id)
    assert report.draft_raw == {"participants": "ap 40"}
    assert report.spending[0].actual == Decimal("950.50") and report.spending[0].difference == Decimal("-49.50")
    assert report.activities[0].held_on == date(2026, 5, 15) and len(report.activities) == 2
    page = client.get(f"/reports/{idea.id}").get_data(as_text=True)
    assert 'value="ap 40"' in page and 'id="participants-error"' in page
    assert "&lt;img src=x" in page and "-49,50" in page
    # The activities section is one list under the same title: the title is shown once (the
    # list's own legend is kept for screen readers), other lists keep their legends.
    assert "<legend>Notikušās aktivitātes</legend>" in page
    assert '<legend class="govuk-visually-hidden">Notikušās aktivitātes</legend>' in page
    assert "<legend>Sasniegtie cilvēki pa mērķa grupām</legend>" in page
    # Submitting an incomplete report lists what is missing.
    response = client.post(f"/reports/{idea.id}", data={**flat(report), "action": "submit"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="continues-error"' in page and 'id="participants-error"' in page
    assert fresh(Report, report.id).status == "draft"
    data = flat(report, participants="40", continues="Talkas katru pavasari.")
    response = client.post(f"/reports/{idea.id}", data={**data, "action": "submit"})
    assert response.status_code == 303
    report = fresh(Report, report.id)
    assert report.status == "submitted"
    assert client.post(f"/reports/{idea.id}", data={**data, "volunteers": "99", "action": "save"}).status_code == 303
    assert fresh(Report, report.id).volunteers == 5
    client.post("/logout")
    # The administrator sees the report on the idea page and returns it with a comment.
    login(client, admin.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Talkas katru pavasari." in page and "950,50" in page
    assert "/steps/return_report" in page and "/steps/accept_report" in page
    client.post(f"/ideas/{idea.id}/steps/return_report", data={"comment": "Pievienojiet čekus."})
    report = fresh(Report, report.id)
    assert report.status == "returned" and report.return_comment == "Pievienojiet čekus."
    client.post("/logout")
    login(client, applicant.email)
    assert "Pievienojiet čekus." in client.get(f"/reports/{idea.id}").get_data(as_text=True)
    client.post(f"/reports/{idea.id}", data={**flat(report), "action": "submit"})
    assert fresh(Report, report.id).status == "submitted"
    client.post("/logout")
    login(client, admin.email)
    client.post(f"/ideas/{idea.id}/steps/accept_report", data={"comment": ""})
    idea = fresh(Idea, idea.id)
    assert not idea.has_tag("reporting") and fresh(Report, report.id).status == "accepted"


def test_report_is_only_for_the_funded_ideas_own_organisation(client, factory, funded):
    idea, applicant, admin = funded
    stranger = factory.applicant()
    draft = factory.idea(org=idea.organisation)
    db.session.commit()
    login(client, stranger.email)
    assert client.get(f"/reports/{idea.id}").status_code == 404
    assert client.post(f"/reports/{idea.id}", data={"participants": "1", "action": "submit"}).status_code == 404
    client.post("/logout")
    login(client, applicant.email)
    assert client.get(f"/reports/{draft.id}").status_code == 404  # no report expected for a draft


def test_applicant_home_shows_state_history_documents_and_next_step_without_n_plus_one(client, factory):
    from grantflow.documents.models import Document

    user = factory.applicant()
    org = user.memberships[0].organisation
    draft = factory.idea(org=org, title="Melnraksts")
    funded = factory.funded(org=org, title="Atbalstītā ideja")
    funded.competition.report_due = date(2026, 11, 30)
    db.session.add(Document(idea_id=funded.id, kind="decision", version=1, filename="lemums-1.pdf", pdf=b"%PDF-1", size=6, sha256="a" * 64))
    db.session.add(Document(idea_id=funded.id, kind="decision", version=2, filename="lemums-2.pdf", pdf=b"%PDF-2", size=6, sha256="b" * 64))
    db.session.commit()
    login(client, user.email)
    page = client.get("/").get_data(as_text=True)
    assert "Melnraksts — vēl nav iesniegts" in page and "Atbalstīts — īstenošana un atskaite" in page
    assert "lemums-2.pdf" in page and "lemums-1.pdf" not in page
    assert f"/reports/{funded.id}" in page and f"/apply/{draft.id}" in page
    assert "Iesniegts — notiek atbilstības pārbaude" in page  # history
    response = client.get(f"/apply/{funded.id}/documents/decision.pdf")
    assert response.data == b"%PDF-2" and response.headers["X-Content-Type-Options"] == "nosniff"

    def count_queries():
        queries = []
        listener = lambda *args: queries.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(queries)

    before = count_queries()
    db.session.commit()
    for n in range(4):
        factory.submitted(org=org, title=f"Ideja {n}")
    db.session.commit()
    assert count_queries() == before


def test_the_report_page_is_generated_from_the_competitions_report_form_version(client, funded):
    """A competition asking its own copy of the report form with a new required question:
    the page asks it, wrong input is kept with its message, the answer goes to the answers
    document and the meanings still fill the report's columns and rows."""
    from grantflow.questionnaires import operations as forms_ops
    from grantflow.reports.operations import report_missing

    idea, applicant, admin = funded
    copy = forms_ops.copy_version(forms_ops.default_version("report"), admin)
    forms_ops.add_question(copy, "results", "trees", "number", {"lv": "Cik koku iestādīja?", "en": "How many trees were planted?"},
                           {"lv": "Norādiet koku skaitu.", "en": "Say how many trees."}, admin)  # fmt: skip
    idea.competition.report_form_id = copy.id
    db.session.commit()
    login(client, applicant.email)
    page = client.get(f"/reports/{idea.id}").get_data(as_text=True)
    assert "Cik koku iestādīja?" in page and 'name="trees"' in page and "data-autosave" in page
    client.post(f"/reports/{idea.id}", data={**flat(blank_report(idea)), "trees": "daudz", "action": "save"})
    report = db.session.query(Report).filter_by(idea_id=idea.id).one()
    assert report.form_version_id == copy.id and report.draft_raw == {"trees": "daudz"}
    page = client.get(f"/reports/{idea.id}").get_data(as_text=True)
    assert 'value="daudz"' in page and 'id="trees-error"' in page and "Ierakstiet veselu skaitli" in page
    data = flat(report, trees="120", participants="40", volunteers="3", changed="Zaļāks ciems", continues="Kopšana")
    data.update({"activities-0-held_on": "2026-05-15", "activities-0-description": "Stādīšanas talka", "reach-1-people": "7"})
    client.post(f"/reports/{idea.id}", data={**data, "action": "save"})
    report = fresh(Report, report.id)
    assert report.answers["trees"] == 120 and report.draft_raw == {}
    assert report.participants == 40 and report.volunteers == 3 and report.activities[0].description == "Stādīšanas talka"
    assert sorted(r.people for r in report.reach)[-1] == 7 and report.spending[0].planned == Decimal("1000.00")
    assert report_missing(report) == {}
    # Without the new answer the submission is refused, with the form's own message beside it.
    response = client.post(f"/reports/{idea.id}", data={**data, "trees": "", "action": "submit"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="trees-error"' in page and "Norādiet koku skaitu." in page
    assert fresh(Report, report.id).status == "draft"
    client.post(f"/reports/{idea.id}", data={**data, "action": "submit"})
    assert fresh(Report, report.id).status == "submitted"


def test_an_autosave_saves_the_report_and_goes_nowhere(client, funded):
    from grantflow.core import drafts

    idea, applicant, admin = funded
    login(client, applicant.email)
    response = client.post(f"/reports/{idea.id}", data={**flat(blank_report(idea)), "volunteers": "4", "participants": "x"},
                           headers={drafts.HEADER: "1"})  # fmt: skip
    report = db.session.query(Report).filter_by(idea_id=idea.id).one()
    assert report.volunteers == 4 and report.draft_raw == {"participants": "x"}
    assert response.status_code == 204 and response.headers[drafts.SAVED_AT]


def test_a_saved_count_is_shown_as_typed_and_saves_again_unchanged(client, funded):
    """A whole number comes back as "38" (not "38,00"), so sending the page again keeps it."""
    import re

    idea, applicant, admin = funded
    login(client, applicant.email)
    client.post(f"/reports/{idea.id}", data={**flat(blank_report(idea)), "participants": "38", "reach-0-people": "20", "action": "save"})
    page = client.get(f"/reports/{idea.id}").get_data(as_text=True)
    assert re.search(r'name="participants"[^>]*value="38"', page) and re.search(r'name="reach-0-people"[^>]*value="20"', page)
    fields = dict(re.findall(r'name="([\w-]+)"[^>]*value="([^"]*)"', page))
    fields = {k: v for k, v in fields.items() if k != "csrf_token"}
    client.post(f"/reports/{idea.id}", data={**fields, "action": "save"})
    report = db.session.query(Report).filter_by(idea_id=idea.id).one()
    assert report.draft_raw == {} and report.participants == 38
