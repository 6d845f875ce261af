"""Decision letters and cooperation agreements: their text read back from the PDF, PDF/A
and embedded fonts, versions that never overwrite, verification, downloads, template
errors, and the batch command."""

import hashlib
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from jinja2 import ChoiceLoader, DictLoader
from pypdf import PdfReader
from sqlalchemy import func, select

from grantflow.accounts.models import MUNICIPALITY
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA, latvian_date
from grantflow.core.types import utcnow
from grantflow.documents import operations as ops
from grantflow.documents.models import Document
from grantflow.funding import operations as decide_ops
from grantflow.ideas.models import Idea
from grantflow.organisations.models import Organisation
from tests.conftest import login
from tests.test_decide import MUNICIPALITY_REG_NO, flashes

LATVIAN = "āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ"
ORG_NAME = 'biedrība "Ģimeņu Ķīmiķu Šūšanas Žurnālistu Čempioni — ĀĒĪŪĻŅ čaklie ļaudis, ēģž"'
ORG_NAME_LV = "biedrība „Ģimeņu Ķīmiķu Šūšanas Žurnālistu Čempioni — ĀĒĪŪĻŅ čaklie ļaudis, ēģž”"  # as a letter prints it


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def operator(factory):
    """The programme operator as the demo data records it."""
    org = Organisation(name="Izglītības iniciatīvu centrs", legal_form="association", registration_number="40008033544",
                       address="Rīgas iela 216b, Jēkabpils, LV-5202", email="iic@example.lv")
    db.session.add(org)
    db.session.flush()
    return org


@pytest.fixture
def funded(factory, operator):
    competition = factory.competition(report_due=date(2027, 3, 15), budget="20000.00")
    org = factory.organisation(name=ORG_NAME)
    factory.applicant(org, email="pieteicejs@example.lv")
    return fund(factory, competition=competition, org=org, amount="1500.00", title="Kopienas dārzs Ūdrīšos",
                place="Ūdrīši", coop_premises="Tautas nama zāle", coop_inventory="Galdi un soli",
                coop_upkeep="Pašvaldība pļauj zālienu")


def fund(factory, **kw):
    """An idea asking for `amount`, reviewed and funded in full."""
    idea = factory.reviewed(**kw)
    decide_ops.decide(idea, factory.admin(), "fund")
    return db.session.get(Idea, idea.id)


@pytest.fixture
def admin(factory):
    return factory.admin(email="admin@example.lv", name="Daiga Administratore")


def confirm(idea, factory, years=5):
    rep = factory.user(MUNICIPALITY, municipality=idea.municipality, name="Aivars Pašvaldnieks")
    return decide_ops.answer_cooperation(
        idea, rep, confirmed=True, comment="", authority_name="Rēzeknes novada pašvaldība",
        registration_number=MUNICIPALITY_REG_NO, address="Atbrīvošanas aleja 95A, Rēzekne, LV-4601",
        signatory_name="Aivars Pašvaldnieks", signatory_position="domes priekšsēdētājs", sustainability_years=years,
    )


def test_decision_letter_in_latvian_reads_back_with_every_detail(funded, admin):
    document = ops.issue(funded, ops.DECISION, admin)
    text = pdf_text(document.pdf)
    today = utcnow().astimezone(RIGA).date()
    assert f"Jēkabpilī, {latvian_date(today)}" in text
    assert "LĒMUMS Nr. " + document.number in text
    assert ORG_NAME_LV in text and f"reģ. Nr. {funded.organisation.registration_number}" in text
    assert '"' not in text and "“" not in text  # Latvian quotes only: „…”
    assert "Kopienas dārzs Ūdrīšos" in text and funded.reference in text
    assert "1 500,00 €" in text.replace("\xa0", " ")
    assert "viens tūkstotis pieci simti eiro, 00 centi" in text
    assert "līdz 2027. gada 15. martam" in text  # report due: "līdz" takes the dative
    assert "Vidējais vērtējums: 80,00 no 100 punktiem" in text
    assert "Apstrīdēšanas kārtība" in text and "Izglītības iniciatīvu centrs" in text
    assert "Reģ. Nr. 40008033544" in text  # the operator's letterhead
    assert f"http://grantflow.test/verify/{document.token}" in text
    for letter in LATVIAN:
        assert letter in text, letter
    assert document.sha256 == hashlib.sha256(document.pdf).hexdigest() and document.size == len(document.pdf)
    assert (document.version, document.issued_by_id, document.language) == (1, admin.id, "lv")


def test_documents_are_pdf_a_with_every_font_embedded(funded, admin, factory):
    confirm(funded, factory)
    for kind in ops.KINDS:
        reader = PdfReader(io.BytesIO(ops.issue(funded, kind, admin).pdf))
        xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
        assert re.search(r"pdfaid:part[^0-9]*3", xmp) and re.search(r"pdfaid:conformance[^A-Z]*U", xmp)
        assert "/OutputIntents" in reader.trailer["/Root"]
        fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
        assert fonts
        for font in fonts:
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in font else font["/FontDescriptor"]
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font["/BaseFont"]
            assert "DejaVu" in str(descriptor.get("/FontFamily", "")) or "GF" in str(font["/BaseFont"])
        images = [x for page in reader.pages for x in page["/Resources"].get("/XObject", {}).values() if x.get_object()["/Subtype"] == "/Image"]
        assert images, "the QR code is an inline image"


def test_rejection_letter_gives_the_reason(factory, operator, admin):
    idea = factory.reviewed(title="Noraidītā ideja")
    decide_ops.decide(idea, admin, "reject", reason="Budžets nav pamatots ar tāmēm.")
    text = pdf_text(ops.issue(idea, ops.DECISION, admin).pdf)
    assert "par atteikumu piešķirt finansējumu" in text
    assert "Nepiešķirt finansējumu idejai „Noraidītā ideja”" in text
    assert "Budžets nav pamatots ar tāmēm." in text
    assert "eiro" not in text  # no amount for a rejection


def test_partial_funding_letter_lists_the_adjusted_lines(factory, operator, admin):
    idea = factory.reviewed(amount="1000.00")
    decide_ops.decide(idea, admin, "fund", reason="Dēļi lētāki.", amount=Decimal("750.25"),
                      adjusted_budget=[{"item": "Dēļi", "requested": "1000.00", "granted": "750.25"}])
    text = pdf_text(ops.issue(idea, ops.DECISION, admin).pdf).replace("\xa0", " ")
    assert "septiņi simti piecdesmit eiro, 25 centi" in text
    assert "Finansējums piešķirts daļēji" in text and "Dēļi lētāki." in text and "750,25 €" in text


def test_english_letter_when_the_applicant_writes_in_english(factory, operator, admin):
    org = factory.organisation(name='biedrība "Jaunie Spārni"')
    factory.applicant(org, locale="en")
    idea = fund(factory, org=org, amount="1500.00")
    document = ops.issue(idea, ops.DECISION, admin)
    text = pdf_text(document.pdf)
    assert document.language == "en" and document.filename.startswith("decision-")
    assert "DECISION No." in text and "How to appeal" in text
    assert "one thousand, five hundred euros, 00 cents" in text or "one thousand five hundred euros, 00 cents" in text
    assert "Association “Jaunie Spārni”" in text or "biedrība “Jaunie Spārni”" in text
    assert "viens tūkstotis pieci simti eiro, 00 centi" in text  # the amount in Latvian words too
    today = utcnow().astimezone(RIGA).date()
    assert f"Jēkabpils, {today.day} {today.strftime('%B')} {today.year}" in text


def test_agreement_needs_the_municipality_then_names_all_three_parties(client, funded, admin, factory):
    db.session.commit()
    login(client, admin.email)
    response = client.post(f"/documents/ideas/{funded.id}/agreement", follow_redirects=True)
    assert any("nav apstiprinājusi" in f for f in flashes(response.get_data(as_text=True)))
    assert db.session.scalar(select(func.count(Document.id)).where(Document.kind != "receipt")) == 0
    confirm(db.session.get(Idea, funded.id), factory, years=5)
    client.post(f"/documents/ideas/{funded.id}/agreement")
    document = db.session.scalars(select(Document).where(Document.kind == ops.AGREEMENT)).one()
    text = pdf_text(document.pdf)
    assert "VIENOŠANĀS Nr. " + document.number in text
    assert "par sadarbību kopienas idejas „Kopienas dārzs Ūdrīšos”" in text
    for party in ("biedrība „Izglītības iniciatīvu centrs”", "Rēzeknes novada pašvaldība", ORG_NAME_LV):
        assert party in text
    assert f"reģ. Nr. {MUNICIPALITY_REG_NO}" in text and "domes priekšsēdētājs Aivars Pašvaldnieks" in text
    assert "nodrošina telpas: Tautas nama zāle" in text and "nodrošina inventāru: Galdi un soli" in text
    assert "vismaz 5 gadus" in text and "Ilgtspējas periods ir 5 gadi" in text
    assert "viens tūkstotis pieci simti eiro, 00 centi" in text
    assert "Ūdrīši, Rēzeknes novads" in text
    assert "līdz 2027. gada 15. martam" in text
    assert re.search(r"laikā no \d{4}\. gada \d+\. \w+a\b", text)  # "no" takes the genitive
    assert re.search(r"Programmas operatora \d{4}\. gada \d+\. \w+a lēmumu", text)  # the decision's date: genitive


def test_reissue_makes_a_new_version_and_verification_tells_which_is_current(client, funded, admin):
    first = ops.issue(funded, ops.DECISION, admin)
    second = ops.issue(db.session.get(Idea, funded.id), ops.DECISION, admin)
    db.session.commit()
    assert (first.version, second.version) == (1, 2) and first.token != second.token
    assert db.session.get(Document, first.id).pdf == first.pdf  # never overwritten
    assert [d.id for d in ops.documents_for(funded) if d.kind == ops.DECISION] == [second.id]

    old = client.get(f"/verify/{first.token}").get_data(as_text=True)
    assert 'id="currency"' in old and "Šī versija ir aizstāta: pašreizējā ir 2. versija" in old
    current = client.get(f"/verify/{second.token}").get_data(as_text=True)
    assert "Šī ir pašreizējā versija" in current
    assert second.sha256 in current and funded.reference in current

    upload = client.post(f"/verify/{second.token}", data={"pdf": (io.BytesIO(second.pdf), "copy.pdf")},
                         content_type="multipart/form-data").get_data(as_text=True)
    assert re.search(r'id="match">\s*Pārbaudītā datne ir identiska', upload)
    changed = client.post(f"/verify/{second.token}", data={"pdf": (io.BytesIO(second.pdf + b"%"), "copy.pdf")},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert re.search(r'id="match">\s*Pārbaudītā datne NAV', changed)

    by_hash = client.post("/verify", data={"sha256": first.sha256.upper()}).get_data(as_text=True)
    assert first.number in by_hash and 'id="currency"' in by_hash
    unknown = client.post("/verify", data={"sha256": "0" * 64})
    assert unknown.status_code == 200 and 'id="verdict"' in unknown.get_data(as_text=True)
    assert client.get("/verify/no-such-token").status_code == 404
    assert client.post("/verify", data={"sha256": "xyz"}).status_code == 422


def test_applicant_downloads_own_documents_others_cannot(client, funded, admin, factory):
    document = ops.issue(funded, ops.DECISION, admin)
    stranger = factory.applicant(email="svesais@example.lv")
    db.session.commit()
    assert client.get(f"/documents/{document.id}").status_code == 302  # log in first
    login(client, "pieteicejs@example.lv")
    page = client.get(f"/ideas/{funded.id}").get_data(as_text=True)
    assert page.count(f"/apply/{funded.id}/documents/decision.pdf") == 1  # listed once, labelled
    assert "Lēmuma vēstule" in page or "Lēmums" in page
    assert "Izsniegt lēmumu" not in page  # not for applicants
    response = client.get(f"/documents/{document.id}")
    assert response.status_code == 200 and response.data == document.pdf
    assert response.headers["Content-Type"] == "application/pdf"
    assert document.filename in response.headers["Content-Disposition"]
    client.post("/logout")
    login(client, stranger.email)
    assert client.get(f"/documents/{document.id}").status_code == 404


def test_documents_for_many_ideas_is_one_query(funded, admin, factory):
    from tests.querycount import count_queries

    other = factory.funded()
    for idea in (funded, other, funded):
        ops.issue(db.session.get(Idea, idea.id), ops.DECISION, admin)
    ids = [funded.id, other.id]
    db.session.commit()
    with count_queries(db.engine) as statements:
        found = ops.documents_for_ideas(ids)
    assert len([s for s in statements if s.startswith("SELECT")]) == 1, statements
    decisions = {i: [d.version for d in found[i] if d.kind == ops.DECISION] for i in ids}
    assert decisions == {ids[0]: [2], ids[1]: [1]}


def test_a_template_error_is_shown_and_nothing_is_issued(app, client, funded, admin):
    db.session.commit()
    broken = DictLoader({"documents/decision_lv.html": "{% extends 'documents/_layout.html' %}{% block body %}{{ idea.no_such_thing.deeper }}{% endblock %}"})
    app.jinja_env.loader = ChoiceLoader([broken, app.jinja_env.loader])
    app.extensions.pop("grantflow.documents_env", None)
    login(client, admin.email)
    response = client.post(f"/documents/ideas/{funded.id}/decision", follow_redirects=True)
    assert response.status_code == 200
    messages = flashes(response.get_data(as_text=True))
    assert any("UndefinedError" in m and "no_such_thing" in m for m in messages), messages
    assert db.session.scalar(select(func.count(Document.id)).where(Document.kind != "receipt")) == 0


def test_a_weasyprint_failure_becomes_a_document_error():
    with pytest.raises(Refused, match="TypeError"):
        ops.to_pdf(None)  # WeasyPrint fails; the administrator gets its message, not a 500


def test_letter_without_a_decision_is_refused(factory, admin):
    idea = factory.reviewed()
    with pytest.raises(Refused):
        ops.issue(idea, ops.DECISION, admin)


def test_batch_issues_every_due_document_once(app, factory, operator, admin, tmp_path):
    out = tmp_path / "out"
    competition = factory.competition(budget="20000.00")
    funded = [factory.funded(competition=competition) for _ in range(2)]
    rejected = factory.reviewed(competition=competition)
    decide_ops.decide(rejected, admin, "reject", reason="Par vāju.")
    confirm(db.session.get(Idea, funded[0].id), factory)
    db.session.commit()

    runner = app.test_cli_runner()
    result = runner.invoke(args=["documents", "render", "--competition", str(competition.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "issued 4" in result.output and "waiting for the municipality 1" in result.output
    db.session.expire_all()
    kinds = sorted(db.session.execute(select(Document.idea_id, Document.kind).where(Document.kind != "receipt")).all())
    assert kinds == sorted([(funded[0].id, "agreement"), (funded[0].id, "decision"), (funded[1].id, "decision"), (rejected.id, "decision")])
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 4 and all(name.endswith("-v1.pdf") for name in files)
    stored = {d.filename: d.sha256 for d in db.session.scalars(select(Document))}
    for name in files:
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == stored[name]

    again = runner.invoke(args=["documents", "render", "--competition", str(competition.id), "--out", str(out)])
    assert again.exit_code == 0 and "issued 0" in again.output
    assert db.session.scalar(select(func.count(Document.id)).where(Document.kind != "receipt")) == 4


def test_issuing_is_protected_by_csrf(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from tests.factories import Factory

        f = Factory()
        idea = f.funded()
        f.admin(email="csrf-docs@example.lv")
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": "csrf-docs@example.lv", "password": "parole-123456", "csrf_token": token})
        assert client.post(f"/documents/ideas/{idea.id}/decision").status_code == 400
        assert db.session.scalar(select(func.count(Document.id)).where(Document.kind != "receipt")) == 0


def _pages(idea, reason_words: int) -> list[str]:
    """The rejection letter's pages as text, with a reason of so many words."""
    decision = decide_ops.decision_of(idea)
    decision.reason = " ".join(["Budžets nav pamatots ar tāmēm"] * (reason_words // 5))
    reader = PdfReader(io.BytesIO(ops.to_pdf(ops.draft(idea, ops.DECISION).html)))
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def test_no_page_holds_only_the_signature_or_the_qr_block(factory, operator, admin):
    """A rejection letter's second page once held only the QR block. Lengthen the reason word
    by word across a page's end: the letter's last page always holds the end of the text with
    the signature and the verification box."""
    idea = factory.reviewed(title="Noraidītā ideja")
    decide_ops.decide(idea, admin, "reject", reason="x")

    def last_page_is_whole(words):
        last = _pages(idea, words)[-1]
        assert "Iebildumu izskata" in last and "direktore" in last and "/verify/" in last, (words, last[:300])

    base = len(_pages(idea, 0))
    low, high = 0, 200  # words: `base` pages at `low`, more at `high`
    while len(_pages(idea, high)) == base:
        low, high = high, high * 2
    while high - low > 10:
        middle = (low + high) // 2
        low, high = (middle, high) if len(_pages(idea, middle)) == base else (low, middle)
    for words in range(low, high + 60, 10):  # from just before the break to a few lines past it
        last_page_is_whole(words)
