"""PAdES signatures with a certificate authority generated in the test: the operator signs what
GrantFlow issues (and the PDF stays PDF/A), the parties' signed copies are verified (accepted
when signed over the issued document, refused when altered, broken, unsigned, not a PDF or
from an untrusted authority), and the agreement is in force when every party has signed."""

import io
from decimal import Decimal

import pytest
from flask_babel import force_locale
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pypdf import PdfReader, PdfWriter
from sqlalchemy import func, select

from grantflow.accounts.models import User
from grantflow.amendments import operations as amendments
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.documents import operations as ops
from grantflow.documents import pdfa, signatures, signing
from grantflow.documents.models import OPERATOR, ORGANISATION, Document, Signature
from grantflow.documents.signing import prefixes, sign
from grantflow.ideas.models import Idea
from grantflow.workflow.models import AuditEntry
from tests.conftest import login
from tests.signing_ca import Authority
from tests.test_documents import admin, confirm, funded, operator  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def ca():
    return Authority()


@pytest.fixture(scope="module")
def people(ca):
    """Signers the authority certified: the community's chairwoman and the municipality's head."""
    return {"org": ca.issue("Anna Bērziņa", "Biedrība")[2], "municipality": ca.issue("Aivars Pašvaldnieks", "Rēzeknes novada pašvaldība")[2]}


@pytest.fixture
def signing_app(app, ca, tmp_path):
    root, cert, key = ca.pem_files(tmp_path)
    app.config.update(SIGNING_KEY=str(tmp_path / key), SIGNING_CERT=str(tmp_path / cert),
                      SIGNING_PASSPHRASE="test-passphrase", SIGNATURE_TRUST_ROOTS=(str(tmp_path / root),))
    return app


@pytest.fixture
def agreement(signing_app, funded, admin, factory):  # noqa: F811
    confirm(db.session.get(Idea, funded.id), factory)
    return ops.issue(db.session.get(Idea, funded.id), ops.AGREEMENT, admin)


def refusal(idea, party, data, user) -> str:
    with force_locale("en"), pytest.raises(Refused) as caught:
        signatures.accept_signed_copy(idea, ops.AGREEMENT, party, data, user)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Signature.id)).where(Signature.party != OPERATOR)) == 0
    return str(caught.value)


def test_operator_signs_issued_documents_by_incremental_update_and_they_stay_pdf_a(agreement):
    pdf = agreement.pdf
    reader = PdfFileReader(io.BytesIO(pdf))
    assert [s.field_name for s in reader.embedded_signatures] == ["GrantFlow"]
    assert pdf.count(b"%%EOF") == 2  # WeasyPrint's PDF, then the signature's revision
    xmp = PdfReader(io.BytesIO(pdf)).xmp_metadata  # the catalogue's XMP of the last revision
    assert xmp.get_nodes_in_namespace("", "http://www.aiim.org/pdfa/ns/id/")  # the PDF/A declaration
    assert b"pdfaid" in PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_data()
    assert b"/Encrypt" not in pdf
    issued = pdf[: prefixes(pdf)[0]]
    assert pdfa.identification(issued) == pdfa.identification(pdf) == ("3", "U")
    assert pdfa.problems(issued) == [] and pdfa.problems(pdf, issued=issued) == []
    operator_signature = db.session.scalars(select(Signature)).one()
    assert (operator_signature.party, operator_signature.signer) == (OPERATOR, "Izglītības iniciatīvu centrs")


def test_without_a_configured_key_documents_are_issued_unsigned(funded, admin):  # noqa: F811
    document = ops.issue(funded, ops.DECISION, admin)
    assert b"/ByteRange" not in document.pdf and db.session.scalar(select(func.count(Signature.id))) == 0


def test_signed_copies_accepted_and_the_agreement_is_in_force_when_all_have_signed(client, agreement, people, factory):
    idea = db.session.get(Idea, agreement.idea_id)
    applicant = factory.member_of(idea.organisation)
    rep = db.session.scalars(select(User).where(User.name == "Aivars Pašvaldnieks")).one()
    org_copy = sign(agreement.pdf, people["org"], field_name="Biedriba")
    db.session.commit()

    login(client, applicant.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert 'id="signatures-agreement"' in page and "Biedrība" not in page.split('id="signatures-agreement"')[1][:200]
    response = client.post(f"/apply/{idea.id}/documents/signed", data={"party": ORGANISATION, "pdf": (io.BytesIO(org_copy), "ligums.pdf")})
    assert response.status_code == 303
    signed = db.session.scalars(select(Signature).where(Signature.party == ORGANISATION)).one()
    assert signed.signer == "Anna Bērziņa" and signed.signed_at is not None and signed.pdf == org_copy
    assert not signatures.status(agreement, signatures.signatures_of([agreement.id])[agreement.id])["in_force"]

    both = sign(org_copy, people["municipality"], field_name="Pasvaldiba")  # the municipality signs the signed copy
    client.post("/logout")
    login(client, rep.email)
    client.post(f"/apply/{idea.id}/documents/signed", data={"party": "municipality", "pdf": (io.BytesIO(both), "ligums.pdf")})
    assert db.session.scalars(select(Signature.signer).where(Signature.party == "municipality")).one() == "Aivars Pašvaldnieks"
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert "Spēkā" in page and "Anna Bērziņa" in page and "Aivars Pašvaldnieks" in page
    verify = client.get(f"/verify/{agreement.token}").get_data(as_text=True)
    assert "Spēkā" in verify and "Anna Bērziņa" in verify and "Aivars Pašvaldnieks" in verify


def test_a_copy_signed_over_altered_content_is_refused_saying_how(agreement, people, factory):
    idea = db.session.get(Idea, agreement.idea_id)
    user = factory.member_of(idea.organisation)
    # Rewritten with a different sum on the first page, then signed.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(agreement.pdf)))
    page = writer.pages[0]
    contents = page.get_contents()
    contents.set_data(contents.get_data().replace(b"1500", b"9500", 1) + b" ")
    buffer = io.BytesIO()
    writer.write(buffer)
    message = refusal(idea, ORGANISATION, sign(buffer.getvalue(), people["org"], field_name="Biedriba"), user)
    assert "not one GrantFlow issued" in message and "differs" in message


def test_content_changed_by_an_incremental_update_before_signing_is_refused(agreement, people, factory):
    idea = db.session.get(Idea, agreement.idea_id)
    user = factory.member_of(idea.organisation)
    writer = IncrementalPdfFileWriter(io.BytesIO(agreement.pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    changed = page["/Contents"].data + b"\nq 0 0 m 300 300 l S Q"  # a line drawn over the page
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=changed))
    writer.update_container(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    message = refusal(idea, ORGANISATION, sign(buffer.getvalue(), people["org"], field_name="Biedriba"), user)
    assert "changed after GrantFlow issued it" in message


def test_a_broken_signature_is_refused(agreement, people, factory):
    idea = db.session.get(Idea, agreement.idea_id)
    user = factory.member_of(idea.organisation)
    copy = bytearray(sign(agreement.pdf, people["org"], field_name="Biedriba"))
    at = copy.rindex(b"/Biedriba") if b"/Biedriba" in copy else copy.rindex(b"(Biedriba)")
    copy[at + 2] ^= 0x01  # one bit in the signed revision, after the signature was made
    message = refusal(idea, ORGANISATION, bytes(copy), user)
    assert "is broken" in message


def test_not_a_pdf_unsigned_and_untrusted_copies_are_refused(agreement, factory):
    idea = db.session.get(Idea, agreement.idea_id)
    user = factory.member_of(idea.organisation)
    assert "not a PDF" in refusal(idea, ORGANISATION, b"PK\x03\x04 an .edoc container", user)
    assert "no signature besides the operator's" in refusal(idea, ORGANISATION, agreement.pdf, user)
    stranger = Authority("Someone Else's CA").issue("Mallory")[2]
    assert "trusted certification authority" in refusal(idea, ORGANISATION, sign(agreement.pdf, stranger, field_name="X"), user)
    assert "cannot upload a signed copy for this party" in refusal(idea, OPERATOR, agreement.pdf, user)


def test_a_copy_of_a_replaced_version_is_refused(agreement, people, factory, admin):  # noqa: F811
    idea = db.session.get(Idea, agreement.idea_id)
    user = factory.member_of(idea.organisation)
    old = sign(agreement.pdf, people["org"], field_name="Biedriba")
    ops.issue(idea, ops.AGREEMENT, admin)
    assert "which version 2 has replaced" in refusal(idea, ORGANISATION, old, user)
    assert db.session.scalar(select(func.count(Document.id)).where(Document.kind == ops.AGREEMENT)) == 2


def _amend(idea, admin, amount: str):  # noqa: F811
    """An approved amendment lowering the single budget line to `amount` (numbered, issued, signed by the operator)."""
    line, activity = idea.budget_lines[0], idea.activities[0]
    asked = amendments.request_amendment(idea, factory_applicant(idea), reason="Dēļi lētāki.", lines={line.id: Decimal(amount)},
                                         dates={activity.id: (activity.starts_on, activity.ends_on)})
    return amendments.approve(asked, admin, answer="", version=asked.version)


def factory_applicant(idea):
    return idea.organisation.memberships[0].user


def test_amendments_are_signed_like_the_agreement_each_on_its_own(client, agreement, people, factory, admin):  # noqa: F811
    idea = db.session.get(Idea, agreement.idea_id)
    first = _amend(idea, admin, "1400.00")
    second = _amend(idea, admin, "1300.00")
    one, two = first.document, second.document
    assert one.number != two.number and (one.version, two.version) == (1, 2)
    assert [s.field_name for s in PdfFileReader(io.BytesIO(one.pdf)).embedded_signatures] == ["GrantFlow"]  # the operator's on issue
    rep = db.session.scalars(select(User).where(User.name == "Aivars Pašvaldnieks")).one()
    applicant = factory_applicant(idea)
    db.session.commit()

    login(client, applicant.email)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert 'id="signatures-amendment-1"' in page and 'id="signatures-amendment-2"' in page
    assert f'name="number" value="{one.number}"' in page
    # A copy of amendment No. 2 uploaded as No. 1: not the document issued as No. 1, refused.
    response = client.post(f"/apply/{idea.id}/documents/signed", data={
        "kind": ops.AMENDMENT, "number": one.number, "party": ORGANISATION,
        "pdf": (io.BytesIO(sign(two.pdf, people["org"], field_name="Biedriba")), "grozijumi.pdf")})
    assert response.status_code == 303 and db.session.scalar(select(func.count(Signature.id)).where(Signature.party == ORGANISATION)) == 0
    org_copy = sign(one.pdf, people["org"], field_name="Biedriba")
    client.post(f"/apply/{idea.id}/documents/signed", data={
        "kind": ops.AMENDMENT, "number": one.number, "party": ORGANISATION, "pdf": (io.BytesIO(org_copy), "grozijumi.pdf")})
    assert db.session.scalars(select(Signature.document_id).where(Signature.party == ORGANISATION)).all() == [one.id]
    client.post("/logout")
    login(client, rep.email)
    both = sign(org_copy, people["municipality"], field_name="Pasvaldiba")
    client.post(f"/apply/{idea.id}/documents/signed", data={
        "kind": ops.AMENDMENT, "number": one.number, "party": "municipality", "pdf": (io.BytesIO(both), "grozijumi.pdf")})
    signed = signatures.signatures_of([one.id, two.id])
    assert signatures.status(one, signed[one.id])["in_force"] and not signatures.status(two, signed[two.id])["in_force"]
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    section = page.split('id="signatures-amendment-1"')[1][:1500]
    assert "Spēkā" in section and "Anna Bērziņa" in section and "Aivars Pašvaldnieks" in section
    verify = client.get(f"/verify/{one.token}").get_data(as_text=True)
    assert "Grozījumi vienošanās" in verify or "Vienošanās grozījumi" in verify
    assert "Anna Bērziņa" in verify and "Aivars Pašvaldnieks" in verify and "Spēkā" in verify
    assert 'id="currency"' in verify and "pašreizējā versija" in verify  # No. 2 does not replace No. 1
    kinds = db.session.scalars(select(AuditEntry.kind).where(AuditEntry.idea_id == idea.id, AuditEntry.kind == "document_signed")).all()
    assert len(kinds) == 2


def test_the_pdf_a_check_finds_what_breaks_pdf_a(agreement, people):
    """The check is not a formality: pyHanko's own default signing (PDF 2.0 declared for an
    elliptic-curve key, the Producer differing between the information dictionary and the XMP),
    a rewritten (not incrementally updated) file, an encrypted one and a hidden annotation are
    each found; GrantFlow's signing passes it."""
    issued = agreement.pdf[: prefixes(agreement.pdf)[0]]
    with force_locale("en"):  # the problems are in the request's language
        # pyHanko's async call, run as GrantFlow runs it: its sync wrapper's asyncio.run() fails
        # once a browser test's event loop runs in this process (signing._finish).
        plain = signing._finish(signers.async_sign_pdf(IncrementalPdfFileWriter(io.BytesIO(issued), strict=False),
                                signers.PdfSignatureMetadata(field_name="Biedriba"), signer=people["org"])).getvalue()  # fmt: skip
        found = " | ".join(pdfa.problems(plain, issued=issued))
        assert "declares PDF 2.0" in found and "Producer" in found
        assert pdfa.problems(sign(issued, people["org"], field_name="Biedriba"), issued=issued) == []

        rewritten = io.BytesIO()
        PdfWriter(clone_from=PdfReader(io.BytesIO(issued))).write(rewritten)
        assert "not kept byte for byte" in " | ".join(pdfa.problems(rewritten.getvalue(), issued=issued))

        locked = PdfWriter(clone_from=PdfReader(io.BytesIO(issued)))
        locked.encrypt("slepens")
        encrypted = io.BytesIO()
        locked.write(encrypted)
        assert "encrypted" in " | ".join(pdfa.problems(encrypted.getvalue()))

        writer = IncrementalPdfFileWriter(io.BytesIO(issued))
        page_ref = writer.root["/Pages"].raw_get("/Kids")[0]
        page = page_ref.get_object()
        note = writer.add_object(generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Annot"), generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (10, 10, 30, 30)]),
            generic.NameObject("/F"): generic.NumberObject(2),
        }))
        page["/Annots"] = generic.ArrayObject([note])
        writer.update_container(page)
        hidden = io.BytesIO()
        writer.write(hidden)
        found = " | ".join(pdfa.problems(hidden.getvalue(), issued=issued))
        assert "Text annotation" in found and "hidden" in found and "no appearance stream" in found
