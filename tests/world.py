"""One small world for the whole-app checks (the authorisation matrix, CSRF, fuzzing): a
competition with ideas of organisation A in several states, each persona logged in once, and
a module-scoped app on each database, built once per test module so the checks stay fast.

Not a conftest: the checks that use it import it."""

import hashlib
import shutil
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from grantflow import create_app
from grantflow.accounts.models import MUNICIPALITY
from grantflow.amendments.models import Amendment
from grantflow.api.operations import create_token
from grantflow.competitions.models import CompetitionDocument
from grantflow.core.extensions import db
from grantflow.documents.models import Document
from grantflow.exports.models import Export
from grantflow.ideas.models import Attachment
from grantflow.impact.models import ImpactSummary
from grantflow.messages.models import Message, MessageFile
from grantflow.payments.models import Instalment, PaymentRun, Refund
from grantflow.questionnaires.operations import default_version
from grantflow.reports.operations import start_report
from grantflow.review.models import Assignment
from grantflow.territory.operations import load_territories
from tests.conftest import BASE_CONFIG, IsolatedClient, login
from tests.factories import Factory

PERSONAS = (
    "anonymous",
    "applicant_a",  # a member of the ideas' organisation
    "applicant_b",  # a member of another organisation
    "evaluator",  # assigned to the idea in review, has submitted their review
    "evaluator_draft",  # assigned to the idea in review, review only drafted
    "evaluator_other",  # not assigned to anything here
    "municipality",  # representative of the ideas' municipality
    "municipality_other",  # representative of another municipality
    "administrator",
    "staff",  # programme staff (STAFF below): screen, assign, moderate, read reviews; never fund
)
# The world's deployment declares one staff role beyond the built-in four.
STAFF_ROLES = {
    "programme": {
        "label": {"lv": "Programmas darbinieks", "en": "Programme staff"},
        "capabilities": ["screen", "assign", "moderate", "see_reviews"],
    }
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    app: object
    users: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)

    def client(self, persona):
        """A client logged in as the persona (made once; anonymous has no session)."""
        if persona not in self.clients:
            client = self.app.test_client()
            if persona != "anonymous":
                login(client, self.users[persona].email)
            self.clients[persona] = client
        return self.clients[persona]


def build(app) -> World:
    f = Factory()
    world = World(app)
    home, elsewhere = f.municipality("Rēzeknes novads"), f.municipality("Ludzas novads")
    org_a, org_b = f.organisation(municipality=home), f.organisation(municipality=elsewhere)
    u = world.users
    u["applicant_a"], u["applicant_b"] = f.applicant(org_a), f.applicant(org_b)
    u["evaluator"], u["evaluator_draft"], u["evaluator_other"] = f.evaluator(), f.evaluator(), f.evaluator()
    u["municipality"] = f.user(MUNICIPALITY, municipality=home)
    u["municipality_other"] = f.user(MUNICIPALITY, municipality=elsewhere)
    u["administrator"] = f.admin()
    u["staff"] = f.user("programme")
    competition = f.competition()
    draft = f.idea(competition=competition, org=org_a, title="Melnraksts A")
    submitted = f.submitted(competition=competition, org=org_a, title="Iesniegta A")
    in_review = f.in_review(competition=competition, org=org_a, evaluators=[u["evaluator"], u["evaluator_draft"]])
    f.review(in_review, u["evaluator"])
    f.review(in_review, u["evaluator_draft"], submit=False)
    reviewed = f.reviewed(competition=competition, org=org_a, title="Novērtēta A")
    funded = f.funded(competition=competition, org=org_a, title="Atbalstīta A")
    report = start_report(funded, u["applicant_a"])
    attachment = Attachment(idea_id=draft.id, purpose="quote", filename="tāme.pdf", content_type="application/pdf",
                            size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(), data=PDF,
                            uploaded_by_id=u["applicant_a"].id)  # fmt: skip
    report_file = Attachment(idea_id=funded.id, report_id=report.id, purpose="receipt", filename="čeks.pdf",
                             content_type="application/pdf", size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(),
                             data=PDF, uploaded_by_id=u["applicant_a"].id)  # fmt: skip
    document = Document(idea_id=funded.id, kind="decision", number="L-1", filename="lemums.pdf", pdf=PDF,
                        size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(), issued_by_id=u["administrator"].id)  # fmt: skip
    db.session.add_all([attachment, report_file, document])
    db.session.flush()
    # Payments: the funded idea's schedule (made when it was funded), a payment file waiting
    # for the bank, and a refund to record (as if its report had shown less spent).
    instalment = db.session.scalars(sa.select(Instalment).where(Instalment.idea_id == funded.id).order_by(Instalment.position)).first()
    run = PaymentRun(competition_id=competition.id, message_id="GF-WORLD", execution_date=instalment.idea.competition.closes_at.date(),
                     total=instalment.amount, count=1, xml=b"<Document/>", created_by_id=u["administrator"].id)  # fmt: skip
    db.session.add_all([run, Refund(idea_id=funded.id, amount=Decimal("50.00"), returned=Decimal("0.00"))])
    db.session.flush()
    # An amendment the administrator refused (the approve and refuse routes need one).
    amendment = Amendment(idea_id=funded.id, status="refused", reason="Pārcelt talku", amount=instalment.idea.requested_amount,
                          lines=[], dates=[], before={}, answer="Nav pamatots.", decided_by_id=u["administrator"].id)  # fmt: skip
    db.session.add(amendment)
    # Messages on the idea in review: an answered question with a file (not shared with the
    # evaluators) and an open question to the applicant.
    asked = Message(idea_id=in_review.id, author_id=u["administrator"].id, kind="question", body="Kāpēc?", to_applicant=True)
    db.session.add(asked)
    db.session.flush()
    answered = Message(idea_id=in_review.id, question_id=asked.id, author_id=u["applicant_a"].id, kind="answer",
                       body="Tāpēc.", to_applicant=True)  # fmt: skip
    answered.files.append(MessageFile(filename="tāme.pdf", content_type="application/pdf", size=len(PDF),
                                      sha256=hashlib.sha256(PDF).hexdigest(), data=PDF))  # fmt: skip
    asked.closed_at = asked.created_at
    question = Message(idea_id=in_review.id, author_id=u["administrator"].id, kind="question", body="Cik maksā dēļi?",
                       to_applicant=True, open_fields=["title"])  # fmt: skip
    db.session.add_all([answered, question])
    db.session.flush()
    api_token = create_token(u["applicant_a"], "Mājaslapa", can_write=False).token
    assignment = db.session.scalars(
        sa.select(Assignment).where(Assignment.idea_id == in_review.id, Assignment.evaluator_id == u["evaluator_draft"].id)
    ).one()
    export = Export(kind="applications", format="csv", filters={}, status="done", content=b"\xef\xbb\xbfa,b\r\n",
                    size=7, rows=0, filename="applications.csv", requested_by_id=u["administrator"].id)  # fmt: skip
    db.session.add(export)
    rules = CompetitionDocument(competition_id=competition.id, kind="rules", title_lv="Nolikums", title_en="Rules",
                                filename="nolikums.pdf", content_type="application/pdf", size=len(PDF),
                                sha256=hashlib.sha256(PDF).hexdigest(), data=PDF)  # fmt: skip
    summary = ImpactSummary(locale="lv", status="done", content=PDF, size=len(PDF), filename="impact.pdf",
                            requested_by_id=u["administrator"].id)  # fmt: skip
    db.session.add_all([rules, summary])
    form_version = default_version("application")  # the default application form, editable
    db.session.flush()
    world.ids = {
        "competition": competition.id, "criterion": competition.criteria[0].id, "round": competition.rounds[0].id,
        "draft": draft.id, "submitted": submitted.id, "in_review": in_review.id, "reviewed": reviewed.id,
        "funded": funded.id, "org_a": org_a.id, "org_b": org_b.id, "attachment": attachment.id,
        "report_file": report_file.id, "document": document.id, "document_token": document.token,
        "assignment": assignment.id, "municipality": home.id, "person": u["evaluator_other"].id, "instalment": instalment.id, "run": run.id, "amendment": amendment.id, "api_token": api_token.id,
        "message": question.id, "message_file": answered.files[0].id,
        "export": export.id, "competition_document": rules.id, "summary": summary.id, "form_version": form_version.id,
    }  # fmt: skip
    db.session.commit()
    return world


def world_fixture(request, tmp_path_factory, **config):
    """Body of a module-scoped fixture parametrised by database: the app and its world."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("world") / "grantflow.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        request.getfixturevalue("postgres_cleaner").clean()
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "STAFF_ROLES": STAFF_ROLES, **config})
    app.test_client_class = IsolatedClient
    with app.app_context():
        load_territories()
        db.session.commit()
        world = build(app)
        yield world
        db.session.remove()
        db.engine.dispose()


def snapshot() -> dict:
    """Row counts of every table and each idea's (state, version): what a refused request
    must leave as it was."""
    db.session.expire_all()
    counts = {t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in db.metadata.sorted_tables}
    ideas = db.session.execute(sa.text("SELECT id, state, version FROM ideas ORDER BY id")).all()
    return {"rows": counts, "ideas": [tuple(r) for r in ideas]}


