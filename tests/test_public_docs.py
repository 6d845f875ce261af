"""Search engines and competition documents on the public face: every public page names its
Latvian and English addresses and the x-default (`hreflang`), has language links and its own
title and description; administrators upload, replace and remove a competition's rules and
templates (checked by content, logged), and visitors download them, past competitions too."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from grantflow.adminlog.models import AdminLogEntry
from grantflow.competitions.models import CompetitionDocument
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from tests.conftest import login
from tests.world import PDF

ODT_HEAD = b"PK\x03\x04"


def _alternates(page: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page))


def test_every_public_page_names_its_languages(app, factory, client):
    competition = factory.competition(title_lv="Kopienu idejas", title_en="Community ideas", description_lv="Latgales kopienām.")
    idea = factory.funded(competition=competition)
    idea.publish_consent = True
    db.session.commit()
    pages = ["/", "/calls/", f"/calls/{competition.id}", "/results/", f"/results/{idea.id}", "/impact", "/open-data/",
             "/privacy", "/accessibility"]
    titles = set()
    for path in pages:
        page = client.get(path).get_data(as_text=True)
        links = _alternates(page)
        assert set(links) == {"lv", "en", "x-default"}, path
        assert links["lv"].endswith("lang=lv") and links["en"].endswith("lang=en") and "lang=" not in links["x-default"], path
        assert f'<link rel="canonical" href="{links["lv"]}">' in page, path
        # The other language is a link a visitor (and a crawler) can follow, not only a button.
        assert f'href="{links["en"]}" hreflang="en"' in page, path
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()
        description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)
        assert title and len(description) > 40, path
        titles.add(title)
        english = client.get(links["en"]).get_data(as_text=True)
        assert 'lang="en"' in english and f'<link rel="canonical" href="{links["en"]}">' in english, path
        client.get("/?lang=lv")
    assert len(titles) == len(pages), "each public page has a title of its own"
    # The language asked for in the address stays the visitor's choice.
    client.get("/calls/?lang=en")
    assert 'lang="en"' in client.get("/results/").get_data(as_text=True)


def test_pages_behind_a_login_keep_the_language_form(app, factory, client):
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    page = client.get("/admin/").get_data(as_text=True)
    assert 'hreflang="x-default"' not in page and 'name="language"' in page


def _upload(client, competition, data, name="nolikums.pdf", **fields):
    form = {"kind": "rules", "title_lv": "Konkursa nolikums", "title_en": "Rules of the competition", **fields}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post(f"/competitions/{competition.id}/documents", data=form, content_type="multipart/form-data")


def test_administrators_publish_replace_and_remove_documents(app, factory, client):
    competition = factory.competition()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    assert _upload(client, competition, PDF).status_code == 303
    document = db.session.scalars(select(CompetitionDocument)).one()
    document_id = document.id
    assert (document.filename, document.content_type, document.size) == ("nolikums.pdf", "application/pdf", len(PDF))

    client.get("/?lang=lv")
    public = client.get(f"/calls/{competition.id}").get_data(as_text=True)
    assert "Konkursa nolikums" in public and f"/calls/{competition.id}/documents/{document.id}" in public
    english = client.get(f"/calls/{competition.id}?lang=en").get_data(as_text=True)
    assert "Rules of the competition" in english
    client.get("/?lang=lv")

    # A new version at the same address, then removal; each step is in the administration log.
    new_pdf = PDF.replace(b"%%EOF", b"% v2\n%%EOF")
    response = client.post(f"/competitions/{competition.id}/documents/{document.id}/edit", content_type="multipart/form-data",
                           data={"kind": "rules", "title_lv": "Nolikums (grozīts)", "title_en": "Rules (amended)",
                                 "file": (io.BytesIO(new_pdf), "nolikums-2.pdf")})  # fmt: skip
    assert response.status_code == 303
    downloaded = client.get(f"/calls/{competition.id}/documents/{document.id}")
    assert downloaded.data == new_pdf and downloaded.mimetype == "application/pdf"
    assert "attachment" in downloaded.headers["Content-Disposition"]
    assert db.session.get(CompetitionDocument, document.id).sha256 == hashlib.sha256(new_pdf).hexdigest()
    assert client.post(f"/competitions/{competition.id}/documents/{document_id}/remove").status_code == 303
    db.session.expire_all()
    assert db.session.scalars(select(CompetitionDocument)).all() == []
    kinds = db.session.scalars(select(AdminLogEntry.kind).where(AdminLogEntry.object_kind == "competition_document")
                               .order_by(AdminLogEntry.id)).all()  # fmt: skip
    assert kinds == ["competition_document_added", "competition_document_replaced", "competition_document_removed"]
    entry = db.session.scalars(select(AdminLogEntry).where(AdminLogEntry.kind == "competition_document_replaced")).one()
    assert entry.before["title_lv"] == "Konkursa nolikums" and entry.after["filename"] == "nolikums-2.pdf"
    assert entry.actor_id == admin.id
    assert client.get(f"/calls/{competition.id}/documents/{document_id}").status_code == 404


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"MZ\x90\x00" + b"\x00" * 200, "nolikums.pdf", "Šāda veida datnes netiek pieņemtas"),  # an .exe named .pdf
        (b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024 + 10), "liels.pdf", "par lielu"),
        (b"", "", "Izvēlieties augšupielādējamo datni"),
    ],
)
def test_a_bad_upload_is_refused_beside_the_field_and_nothing_is_lost(app, factory, client, data, name, message):
    competition = factory.competition()
    admin = factory.admin()
    db.session.commit()
    login(client, admin.email)
    response = _upload(client, competition, data, name=name, title_lv="Veidlapa ar garumzīmēm")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'<p class="govuk-error-message field-error" id="file-error">(.*?)</p>', page, re.S)
    assert error and message in error.group(1)
    assert 'value="Veidlapa ar garumzīmēm"' in page  # what was typed stays
    assert db.session.scalars(select(CompetitionDocument)).all() == []


def test_past_competitions_keep_their_documents_and_unopened_ones_hide_them(app, factory, client):
    past = factory.competition()
    past.opens_at, past.closes_at = utcnow() - timedelta(days=400), utcnow() - timedelta(days=300)
    coming = factory.competition()
    coming.opens_at, coming.closes_at = utcnow() + timedelta(days=5), utcnow() + timedelta(days=40)
    docs = [CompetitionDocument(competition_id=c.id, kind="rules", title_lv="Nolikums", title_en="Rules", filename="n.pdf",
                                content_type="application/pdf", size=len(PDF), sha256="0" * 64, data=PDF)
            for c in (past, coming)]  # fmt: skip
    db.session.add_all(docs)
    db.session.commit()
    assert client.get(f"/calls/{past.id}/documents/{docs[0].id}").data == PDF
    assert "Nolikums" in client.get(f"/calls/{past.id}").get_data(as_text=True)
    assert client.get(f"/calls/{coming.id}/documents/{docs[1].id}").status_code == 404
    # A document asked for under another competition's address is not found.
    assert client.get(f"/calls/{past.id}/documents/{docs[1].id}").status_code == 404


def test_the_api_lists_a_competitions_documents(app, factory, client):
    competition = factory.competition()
    document = CompetitionDocument(competition_id=competition.id, kind="template", title_lv="Veidlapa", title_en="Form",
                                   filename="veidlapa.pdf", content_type="application/pdf", size=len(PDF),
                                   sha256=hashlib.sha256(PDF).hexdigest(), data=PDF)  # fmt: skip
    db.session.add(document)
    db.session.commit()
    listed = client.get(f"/api/v1/competitions/{competition.id}").get_json()["documents"]
    assert [(d["kind"], d["title"], d["sha256"]) for d in listed] == [("template", {"lv": "Veidlapa", "en": "Form"}, document.sha256)]
    assert client.get(listed[0]["url"]).data == PDF
