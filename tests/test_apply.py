"""Filing an idea through the web: drafts that keep everything typed, rows without JavaScript,
submission with its checks, receipt and reference number, withdrawing and returning."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grantflow.core.extensions import db
from grantflow.ideas.models import Idea
from grantflow.mail.models import OutboxMail
from grantflow.workflow.models import AuditEntry
from tests.conftest import login


def form_of(idea, **changes):
    """The edit form as a browser would send it, filled from the idea, with changes."""
    from grantflow.ideas.operations import form_data

    data = form_data(idea)
    flat = {}
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for i, row in enumerate(value):
                for name, v in row.items():
                    if name == "own":
                        if v:
                            flat[f"{key}-{i}-{name}"] = "y"
                    else:
                        flat[f"{key}-{i}-{name}"] = v
        else:
            flat[key] = value
    flat.update(changes)
    return flat


@pytest.fixture
def applicant(factory):
    user = factory.applicant()
    competition = factory.competition()
    db.session.commit()
    return user, competition


def test_start_a_draft_only_in_open_competitions_and_own_organisations(client, factory, applicant):
    user, competition = applicant
    closed = factory.competition(open_=False)
    other_org = factory.organisation()
    db.session.commit()
    login(client, user.email)
    page = client.get("/apply/new").get_data(as_text=True)
    assert competition.title_lv in page and closed.title_lv not in page and other_org.name not in page
    org_id = user.memberships[0].organisation_id
    # Edited form values: a closed competition, another organisation.
    for data in ({"competition_id": closed.id, "organisation_id": org_id}, {"competition_id": competition.id, "organisation_id": other_org.id}):
        response = client.post("/apply/new", data=data)
        assert response.status_code == 200
        assert "Izvēlieties kādu no piedāvātajām iespējām." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Idea.id))) == 0
    response = client.post("/apply/new", data={"competition_id": competition.id, "organisation_id": org_id})
    assert response.status_code == 303
    db.session.commit()  # end the test's own transaction to see what the request did
    idea = db.session.scalars(select(Idea)).one()
    assert idea.organisation_id == org_id and idea.has_tag("editable")
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.fixture
def draft(factory, applicant):
    """A blank draft of the applicant's organisation, made through the web."""
    user, competition = applicant
    db.session.commit()
    return user, competition


def new_draft(client, user, competition):
    login(client, user.email)
    response = client.post(
        "/apply/new", data={"competition_id": competition.id, "organisation_id": user.memberships[0].organisation_id}
    )
    assert response.status_code == 303
    db.session.commit()
    return db.session.scalars(select(Idea).order_by(Idea.id.desc())).first()


def reload(idea):
    db.session.commit()
    return db.session.get(Idea, idea.id)


NASTY = [
    "",
    "x" * 400,
    "<script>alert('x')</script>",
    "'; DROP TABLE ideas; --",
    "Ūdens ķēķis, ģimenes ar bērniem 👨‍👩‍👧",
    "مرحبا بالعالم",
    "1e309",
    "-5",
    "\x00nul",
]


@pytest.mark.parametrize("value", NASTY)
def test_any_input_is_kept_or_explained_never_a_500(client, draft, value):
    user, competition = draft
    idea = new_draft(client, user, competition)
    data = form_of(idea, title=value, summary=value, expected_participants=value, contact_email=value)
    data["budget_lines-0-unit_cost"] = value
    data["activities-0-starts_on"] = value
    response = client.post(f"/apply/{idea.id}", data={**data, "action": "save:about"})
    assert response.status_code == 303
    page = client.get(f"/apply/{idea.id}").get_data(as_text=True)
    assert "<script>alert" not in page
    idea = reload(idea)
    kept = (idea.draft_raw or {})
    for key in ("title", "expected_participants", "budget_lines-0-unit_cost", "activities-0-starts_on"):
        stored = {
            "title": idea.title,
            "expected_participants": idea.expected_participants,
            "budget_lines-0-unit_cost": idea.budget_lines[0].unit_cost,
            "activities-0-starts_on": idea.activities[0].starts_on,
        }[key]
        # Either the server took the value, or it kept the text and says why beside the field.
        if key in kept:
            assert kept[key] == value
            assert f'id="{key}-error"' in page
        else:
            assert str(stored or "") in (value.replace("\x00", ""), "", "0.00", "None")


def test_draft_keeps_unreadable_numbers_as_typed_and_tells_beside_the_field(client, draft):
    user, competition = draft
    idea = new_draft(client, user, competition)
    data = form_of(idea, title="Kopā <b>dārzā</b>", expected_participants="piecdesmit")
    data.update({"budget_lines-0-item": "Dēļi", "budget_lines-0-quantity": "2", "budget_lines-0-unit_cost": "12,5O"})
    client.post(f"/apply/{idea.id}", data={**data, "action": "save:budget_lines"})
    page = client.get(f"/apply/{idea.id}").get_data(as_text=True)
    assert 'value="piecdesmit"' in page and 'value="12,5O"' in page
    assert 'aria-describedby="expected_participants-error"' in page
    assert 'id="budget_lines-0-unit_cost-error"' in page
    assert "Kopā &lt;b&gt;dārzā&lt;/b&gt;" in page
    # Put right: the kept text goes, the server computes the totals.
    data.update({"expected_participants": "50", "budget_lines-0-unit_cost": "12,50"})
    client.post(f"/apply/{idea.id}", data={**data, "action": "save:budget_lines"})
    idea = reload(idea)
    assert idea.draft_raw == {}
    assert idea.expected_participants == 50
    assert idea.requested_amount == Decimal("25.00")


def test_rows_are_added_and_removed_without_javascript(client, draft):
    user, competition = draft
    idea = new_draft(client, user, competition)
    data = form_of(idea, **{"budget_lines-0-item": "Krāsa", "budget_lines-0-quantity": "1", "budget_lines-0-unit_cost": "300"})
    response = client.post(f"/apply/{idea.id}", data={**data, "action": "add:budget_lines"})
    assert response.headers["Location"].endswith("#budget_lines-1")
    idea = reload(idea)
    assert [l.item for l in idea.budget_lines] == ["Krāsa", ""]
    data = form_of(idea, **{
        "budget_lines-1-item": "Telpu noma (pašu ieguldījums)", "budget_lines-1-quantity": "3",
        "budget_lines-1-unit_cost": "oops", "budget_lines-1-own": "y",
    })
    client.post(f"/apply/{idea.id}", data={**data, "action": "add:budget_lines"})
    idea = reload(idea)
    assert idea.draft_raw == {"budget_lines-1-unit_cost": "oops"}
    # Removing the first line moves the second (and its kept text) up.
    data = form_of(idea, **{"budget_lines-1-unit_cost": "oops"})
    client.post(f"/apply/{idea.id}", data={**data, "action": "remove:budget_lines:0"})
    idea = reload(idea)
    assert [l.item for l in idea.budget_lines] == ["Telpu noma (pašu ieguldījums)", ""]
    assert idea.draft_raw == {"budget_lines-0-unit_cost": "oops"}
    assert idea.budget_lines[0].own is True
    for which in ("activities", "partners"):
        client.post(f"/apply/{idea.id}", data={**form_of(reload(idea)), "action": f"add:{which}"})
    idea = reload(idea)
    assert len(idea.activities) == 2 and len(idea.partners) == 1


def complete(idea, **changes):
    data = form_of(idea)
    data.update(
        {
            "title": "Kopienas dārzs Dekšārēs",
            "summary": "Kopīgs dārzs ģimenēm un senioriem.",
            "community_need": "Ciemā nav vietas, kur satikties.",
            "goals": "Satikties un kopā strādāt.",
            "target_groups": ["families_with_children", "seniors"],
            "expected_participants": "60",
            "sustainability": "Dārzu kops biedrība.",
            "contact_name": "Anna Bērziņa",
            "contact_email": "anna@example.lv",
            "activities-0-description": "Talka",
            "activities-0-starts_on": "2026-05-01",
            "budget_lines-0-item": "Dēļi",
            "budget_lines-0-quantity": "10",
            "budget_lines-0-unit_cost": "50",
        }
    )
    data.update(changes)
    return data


def test_submit_lists_what_is_missing_beside_each_field(client, draft):
    user, competition = draft
    idea = new_draft(client, user, competition)
    data = complete(idea, title="", expected_participants="", **{"budget_lines-0-unit_cost": "5000"})
    response = client.post(f"/apply/{idea.id}", data={**data, "action": "submit"})
    assert response.headers["Location"].endswith("check=1#problems")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="title-error"' in page and 'id="expected_participants-error"' in page
    assert "50000.00" in page and 'id="budget_lines-error"' in page  # the grant is above the maximum
    assert 'value="Kopienas dārzs' not in page  # the title was emptied on purpose…
    assert 'value="Anna Bērziņa"' in page  # …everything else is still there
    idea = reload(idea)
    assert idea.has_tag("editable") and idea.reference is None


def test_submit_gives_a_reference_a_receipt_with_a_pdf_copy_and_locks_the_idea(app, client, draft, smtp_server):
    from grantflow.documents.models import Document
    from grantflow.mail.operations import send_pending

    user, competition = draft
    idea = new_draft(client, user, competition)
    data = complete(idea)
    response = client.post(f"/apply/{idea.id}", data={**data, "action": "submit"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/ideas/{idea.id}")
    idea = reload(idea)
    assert idea.reference == f"{competition.code}-0001" and idea.has_tag("filed") and not idea.can_edit(user)
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == user.email)).all()
    # The receipt and its PDF copy are written after the submission committed, when it is sent.
    assert len(mails) == 1 and mails[0].compose_job["composer"] == "receipt" and mails[0].body_text == ""
    assert not mails[0].attachments and mails[0].attachment_job["maker"] == "receipt_copy"
    assert db.session.scalars(select(Document).where(Document.idea_id == idea.id)).all() == []
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    send_pending()
    (received,) = smtp_server.to(user.email)
    assert received["Subject"] == f"Jūsu ideja {idea.reference} ir saņemta"
    text = received.get_body().get_content()
    assert f"Reģistrācijas numurs: {idea.reference}" in text and f"„{idea.title}”" in text
    db.session.refresh(mails[0])  # the outbox keeps what was sent
    assert mails[0].subject == received["Subject"] and mails[0].body_text.split() == text.split()
    (attachment,) = received.iter_attachments()
    assert attachment.get_content_type() == "application/pdf" and attachment.get_content().startswith(b"%PDF")
    copy = db.session.scalars(select(Document).where(Document.idea_id == idea.id)).one()
    assert copy.kind == "receipt" and copy.pdf == attachment.get_content()
    # Pressing submit again (double click, resend): no second submission or number.
    again = client.post(f"/apply/{idea.id}", data={**data, "action": "submit"})
    assert again.status_code == 303
    assert idea.reference in client.get(again.headers["Location"]).get_data(as_text=True)
    changed = client.post(f"/apply/{idea.id}", data={**data, "title": "Changed", "action": "save"})
    assert changed.status_code == 303
    idea = reload(idea)
    assert idea.title == "Kopienas dārzs Dekšārēs"
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.trigger == "submit")) == 1
    assert db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.to_addr == user.email)) == 1
    assert client.get(f"/apply/{idea.id}").status_code == 303  # the form is closed; the page shows it
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Dēļi" in page and f"/apply/{idea.id}/documents/receipt.pdf" in page
    pdf = client.get(f"/apply/{idea.id}/documents/receipt.pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.headers["Content-Disposition"].startswith("attachment")


def test_unconfirmed_email_cannot_submit(client, draft):
    user, competition = draft
    user.email_confirmed_at = None
    db.session.commit()
    idea = new_draft(client, user, competition)
    response = client.post(f"/apply/{idea.id}", data={**complete(idea), "action": "submit"})
    assert "apstiprin" in client.get(response.headers["Location"]).get_data(as_text=True).lower()
    assert reload(idea).reference is None


def test_withdraw_and_return_for_changes_reopen_with_the_same_reference(client, factory):
    idea = factory.submitted()
    applicant = factory.member_of(idea.organisation)
    admin = factory.admin()
    db.session.commit()
    reference = idea.reference
    login(client, admin.email)
    response = client.post(f"/ideas/{idea.id}/steps/return_for_changes", data={"comment": "Lūdzu, precizējiet budžetu."})
    assert response.status_code == 303
    idea = reload(idea)
    assert idea.can_edit(applicant) and idea.reference == reference
    client.post("/logout")
    login(client, applicant.email)
    home = client.get("/").get_data(as_text=True)
    assert "Lūdzu, precizējiet budžetu." in home
    assert client.get(f"/apply/{idea.id}").status_code == 200
    client.post(f"/apply/{idea.id}", data={**form_of(idea), "action": "submit"})
    idea = reload(idea)
    assert idea.has_tag("filed") and idea.reference == reference
    client.post(f"/ideas/{idea.id}/steps/withdraw", data={"comment": ""})
    idea = reload(idea)
    assert idea.has_tag("withdrawn") and not idea.can_edit(applicant)


def test_another_organisation_can_neither_see_nor_change_an_idea(client, factory):
    from grantflow.ideas.operations import store_attachment

    idea = factory.submitted()
    owner = factory.member_of(idea.organisation)
    draft = factory.idea(org=idea.organisation)
    stranger = factory.applicant()
    evaluator = factory.evaluator()
    db.session.commit()
    attachment = store_attachment(draft, "a.pdf", PDF, "quote", owner)
    for who in (stranger, evaluator):
        login(client, who.email)
        for url in (f"/ideas/{draft.id}", f"/apply/{draft.id}", f"/apply/attachments/{attachment.id}",
                    f"/apply/{idea.id}/documents/receipt.pdf", f"/reports/{idea.id}"):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/apply/{draft.id}", data={**form_of(draft), "title": "Hacked", "action": "save"}).status_code == 404
        assert client.post(f"/apply/{draft.id}/attachments", data={"purpose": "other"}).status_code == 404
        assert client.post(f"/apply/attachments/{attachment.id}/delete").status_code == 404
        client.post("/logout")
    # The owner cannot move the idea to another organisation or competition by adding fields.
    db.session.commit()  # end the test's read transaction: the requests wrote since
    other = factory.organisation()
    db.session.commit()
    login(client, owner.email)
    client.post(f"/apply/{draft.id}", data={**form_of(draft), "organisation_id": other.id, "competition_id": 999, "action": "save"})
    draft = reload(draft)
    assert draft.title == "Kopienas dārzs" and draft.organisation_id == idea.organisation_id


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def test_attachments_checked_by_content_and_served_as_downloads(client, draft):
    from io import BytesIO

    user, competition = draft
    idea = new_draft(client, user, competition)

    def upload(name, data, purpose="quote"):
        return client.post(
            f"/apply/{idea.id}/attachments",
            data={"purpose": purpose, "file": (BytesIO(data), name)},
            content_type="multipart/form-data",
            follow_redirects=True,
        ).get_data(as_text=True)

    assert "tāme.pdf" in upload("tāme.pdf", PDF)
    assert "foto.png" in upload("foto.jpg", PNG)  # named .jpg, really a PNG: named by content
    refused = upload("virus.pdf", b"MZ\x90\x00" + b"\x00" * 100)
    assert "nav pieņemta" in refused and "Šāda veida datnes" in refused
    too_big = upload("big.pdf", PDF + b"0" * (5 * 1024 * 1024))
    assert "5 MB" in too_big
    empty = upload("x.pdf", b"")
    assert "Izvēlieties" in empty
    idea = reload(idea)
    assert [(a.filename, a.content_type) for a in idea.attachments] == [("tāme.pdf", "application/pdf"), ("foto.png", "image/png")]
    response = client.get(f"/apply/attachments/{idea.attachments[0].id}")
    assert response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_csrf_is_enforced_on_the_idea_form(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = factory.applicant()
        idea = factory.idea(org=user.memberships[0].organisation)
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        import re

        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        client.post("/login", data={"email": user.email, "password": "parole-123456", "csrf_token": token})
        response = client.post(f"/apply/{idea.id}", data={"title": "Bez žetona", "action": "save"})
        assert response.status_code == 400
        db.session.expire_all()
        assert db.session.get(Idea, idea.id).title == "Kopienas dārzs"


def test_the_form_speaks_english_on_request_with_every_field_labelled(client, draft):
    import re

    user, competition = draft
    idea = new_draft(client, user, competition)
    client.post("/language", data={"language": "en", "next": "/"})
    page = client.get(f"/apply/{idea.id}").get_data(as_text=True)
    assert "Title of the idea" in page and "Add a budget line" in page and "Check and submit the idea" in page
    # Every input, select and textarea has a visible label tied to it (hidden fields aside).
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', page)
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', page)) | set(re.findall(r'<label class="check"><input[^>]*id="([^"]+)"', page))
    wrapped = set(re.findall(r'<label><input[^>]*id="([^"]+)"', page))
    missing = [i for i in ids if i not in labelled | wrapped]
    assert ids and not missing, missing


def test_the_receipt_copy_is_in_the_applicants_language(app, factory, smtp_server):
    import io

    from pypdf import PdfReader

    from grantflow.documents.models import Document
    from grantflow.mail.operations import send_pending
    from grantflow.workflow import engine

    idea = factory.idea(title="Garden for all")
    english = factory.applicant(org=idea.organisation, locale="en")
    engine.fire(idea, "submit", english)
    db.session.commit()
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    send_pending()
    copy = db.session.scalars(select(Document).where(Document.idea_id == idea.id, Document.kind == "receipt")).one()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(copy.pdf)).pages)
    assert copy.language == "en" and "Copy of the submitted idea" in text


def test_the_task_list_is_the_way_through_the_form(client, draft):
    """A new idea opens on its task list of sections; the files section takes and removes files
    on its own page; submitting an incomplete idea from the confirmation page sends the person
    to "check your answers", which marks what is missing."""
    from io import BytesIO

    user, competition = draft
    login(client, user.email)
    response = client.post(
        "/apply/new", data={"competition_id": competition.id, "organisation_id": user.memberships[0].organisation_id}
    )
    db.session.commit()
    idea = db.session.scalars(select(Idea).order_by(Idea.id.desc())).first()
    assert response.headers["Location"] == f"/apply/{idea.id}/sections"
    tasks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/apply/{idea.id}/sections/files" in tasks and f'href="/apply/{idea.id}"' in tasks
    # Nothing typed yet: the new idea's blank budget line does not make its section complete.
    budget = re.search(rf'/apply/{idea.id}/sections/budget".*?</li>', tasks, re.S)[0]
    assert "Nav sākts" in budget and "Pabeigts" not in budget

    page = client.get(f"/apply/{idea.id}/sections/files").get_data(as_text=True)
    assert f'action="/apply/{idea.id}/attachments?section=files"' in page and "Datņu vēl nav." in page
    response = client.post(
        f"/apply/{idea.id}/attachments?section=files", data={"purpose": "quote", "file": (BytesIO(PDF), "tāme.pdf")},
        content_type="multipart/form-data",
    )
    assert response.headers["Location"] == f"/apply/{idea.id}/sections/files#attachments"
    page = client.get(f"/apply/{idea.id}/sections/files").get_data(as_text=True)
    attachment = reload(idea).attachments[0]
    assert "tāme.pdf" in page and f'action="/apply/attachments/{attachment.id}/delete?section=files"' in page
    response = client.post(f"/apply/attachments/{attachment.id}/delete?section=files")
    assert response.headers["Location"] == f"/apply/{idea.id}/sections/files#attachments"
    assert reload(idea).attachments == []
    # A key that is not one of the form's sections is not followed: back to the one-page form.
    response = client.post(
        f"/apply/{idea.id}/attachments?section=//evil.example", data={"purpose": "quote", "file": (BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.headers["Location"] == f"/apply/{idea.id}#attachments"

    response = client.post(f"/apply/{idea.id}/submit")
    assert response.headers["Location"] == f"/apply/{idea.id}/check#problems"
    assert reload(idea).reference is None
    assert "lauk" in client.get(f"/apply/{idea.id}/check").get_data(as_text=True)
