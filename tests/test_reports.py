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
