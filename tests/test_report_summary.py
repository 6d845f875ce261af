"""The final report on the idea page: every answer under the report's own form version, in the
form's order, with its labels in the reader's language, shown the way the application's are."""

import re
from datetime import date

from grantflow.core.extensions import db
from grantflow.questionnaires import operations as forms_ops
from grantflow.reports.models import Report
from grantflow.reports.operations import blank_report
from tests.conftest import login
from tests.test_reports import flat, fresh


def test_every_answer_of_an_edited_report_form_is_on_the_idea_page_in_the_readers_language(client, factory):
    idea = factory.funded()
    idea.competition.report_due = date(2026, 11, 30)
    applicant = factory.member_of(idea.organisation)
    admin = factory.admin()
    # The competition asks its own copy of the report form with three new questions: a choice,
    # one shown only after it is answered "yes", and one shown only when it is "no".
    copy = forms_ops.copy_version(forms_ops.default_version("report"), admin)
    choices = [{"value": "yes", "label": {"lv": "Jā, noteikti", "en": "Yes, certainly"}},
               {"value": "no", "label": {"lv": "Nē", "en": "No"}}]  # fmt: skip
    forms_ops.add_question(copy, "results", "again", "single_choice", {"lv": "Vai rīkotu vēlreiz?", "en": "Would you do it again?"},
                           None, admin, choices=choices)  # fmt: skip
    forms_ops.add_question(copy, "results", "trees", "number", {"lv": "Cik koku iestādīja?", "en": "How many trees were planted?"},
                           None, admin, shown_when={"question": "again", "equals": "yes"})  # fmt: skip
    forms_ops.add_question(copy, "results", "why_not", "long_text", {"lv": "Kāpēc ne?", "en": "Why not?"},
                           None, admin, shown_when={"question": "again", "equals": "no"})  # fmt: skip
    idea.competition.report_form_id = copy.id
    db.session.commit()

    login(client, applicant.email)
    data = flat(blank_report(idea), participants="40", volunteers="3", changed="Zaļāks ciems", continues="Kopšana",
                again="yes", trees="120", why_not="Nevajag")  # fmt: skip
    data = {k: "" if v is None else v for k, v in data.items()}  # as a browser sends an empty field
    data.update(
        {"activities-0-held_on": "2026-05-15", "activities-0-description": "Stādīšanas talka", "reach-1-people": "7"}
    )
    client.post(f"/reports/{idea.id}", data={**data, "action": "save"})
    report = db.session.query(Report).filter_by(idea_id=idea.id).one()
    # A hidden answer typed before the condition changed stays in the document, not on the page.
    report.answers = {**report.answers, "why_not": "Nevajag"}
    db.session.commit()
    client.post(f"/reports/{idea.id}", data={**data, "action": "submit"})
    assert fresh(Report, report.id).status == "submitted"

    def report_section(page):
        return page[page.index('id="report"') :]

    # The applicant, in Latvian: every label and answer of the form, in the form's order.
    page = report_section(client.get(f"/ideas/{idea.id}").get_data(as_text=True))
    order = ["Notikušās aktivitātes", "Stādīšanas talka", "Cik cilvēku kopā piedalījās", "Sasniegtie cilvēki pa mērķa grupām",
             "Jaunieši", "Izdevumi", "Kas kopienā mainījās?", "Zaļāks ciems", "Kas turpinās pēc projekta?", "Kopšana",
             "Vai rīkotu vēlreiz?", "Jā, noteikti", "Cik koku iestādīja?", "120", "Kvītis un fotoattēli"]  # fmt: skip
    positions = [page.find(text) for text in order]
    assert -1 not in positions, [t for t, p in zip(order, positions, strict=True) if p == -1]
    assert positions == sorted(positions)
    assert "Kāpēc ne?" not in page and "Nevajag" not in page  # its condition does not hold
    assert "youth" not in page and ">yes<" not in page  # no code word reaches the page
    assert "Datums: 15. " in page and "2026-05-15" not in page  # a date as a reader writes it
    client.post("/logout")

    # An administrator reading in English sees the English labels.
    login(client, admin.email)
    client.post("/language", data={"language": "en", "next": "/"})
    page = report_section(client.get(f"/ideas/{idea.id}").get_data(as_text=True))
    for text in ("How many trees were planted?", "Would you do it again?", "Yes, certainly", "People reached by target group",
                 "Youth", "What changed in the community?", "Zaļāks ciems"):  # fmt: skip
        assert text in page, text
    assert "Why not?" not in page
    assert re.search(r"How many trees were planted\?</dt>\s*<dd[^>]*>120", page)
