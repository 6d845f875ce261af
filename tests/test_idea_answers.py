"""An application form copied and given a new question: the answer to it is read wherever the
idea is read — the idea page (staff and the applicant), the evaluator's score page and the PDF
copy sent with the receipt — under the question's section, in the reader's language. The shipped
form's questions all have their fixed place, so nothing is listed twice."""

import io

from pypdf import PdfReader

from grantflow.core.extensions import db
from grantflow.documents.operations import receipt_copy
from grantflow.ideas import operations as idea_ops
from grantflow.questionnaires import operations as forms_ops
from grantflow.review import operations as review_ops
from grantflow.review.models import EligibilityCheck
from grantflow.workflow import engine
from tests.conftest import login


def test_an_answer_to_a_question_added_to_a_copied_form_is_read_wherever_the_idea_is(client, factory):
    admin = factory.admin()
    evaluator = factory.evaluator()
    competition = factory.competition()
    copy = forms_ops.copy_version(forms_ops.default_version("application"), admin)
    forms_ops.add_question(copy, "idea", "youth_role", "long_text",
                           {"lv": "Kāda loma būs jauniešiem?", "en": "What part will young people play?"}, None, admin)  # fmt: skip
    forms_ops.add_question(copy, "idea", "hidden_note", "long_text", {"lv": "Slēpta piezīme", "en": "Hidden note"}, None, admin,
                           shown_when={"question": "youth_role", "equals": "nekāda"})  # fmt: skip
    competition.application_form_id = copy.id
    idea = factory.idea(competition=competition)
    idea.form_version = copy
    idea.answers = {**(idea.answers or {}), "youth_role": "Jaunieši vadīs talkas.", "hidden_note": "Neredzama"}
    db.session.flush()
    engine.fire(idea, idea.workflow.part("submit"), factory.member_of(idea.organisation))
    db.session.add(EligibilityCheck(idea_id=idea.id, checklist={}, eligible=True, checked_by_id=admin.id))
    engine.fire(idea, idea.workflow.part("screen_accept"), admin)
    review_ops.assign(idea, evaluator, admin)
    db.session.commit()
    other = idea_ops.other_answers(idea)
    assert [q.key for _, questions in other.sections for q in questions] == ["youth_role"]  # its condition does not hold

    login(client, admin.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Kāda loma būs jauniešiem?" in page and "Jaunieši vadīs talkas." in page
    assert "Slēpta piezīme" not in page and "Neredzama" not in page
    assert page.count("Satikties un kopā strādāt.") == 1  # the fixed parts are not listed again
    client.post("/language", data={"language": "en", "next": "/"})
    assert "What part will young people play?" in client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    client.post("/logout")

    login(client, evaluator.email)
    client.post("/language", data={"language": "lv", "next": "/"})
    page = client.get(f"/review/ideas/{idea.id}/score").get_data(as_text=True)
    assert "Kāda loma būs jauniešiem?" in page and "Jaunieši vadīs talkas." in page, page[page.find("<main"):][:3000]

    _, _, pdf = receipt_copy(idea.id, idea.submitted_at.isoformat())
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Kāda loma būs jauniešiem?" in text and "Jaunieši vadīs talkas." in text


def test_the_shipped_forms_have_no_answers_beyond_the_fixed_parts(factory):
    idea = factory.idea()
    db.session.commit()
    assert idea_ops.other_answers(idea) is None
