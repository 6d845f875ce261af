"""The refund request: a PDF/A document like the letters and agreements (versioned, with a QR
code to the verification page), asking the community to return what it was paid beyond
what it spent, with the amount in figures and words and the account to pay to."""

import uuid

import jinja2
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from stdnum import iban as iban_check

from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA, amount_in_words, format_money, typographic_quotes
from grantflow.core.types import utcnow
from grantflow.documents import operations as documents
from grantflow.funding.operations import decision_of
from grantflow.payments.models import Refund
from grantflow.payments.operations import totals_for
from grantflow.reports.operations import report_of

REFUND = "refund"
# The documents area lists an idea's documents by kind; this area adds its own kind's name.
documents.KIND_LABELS[REFUND] = _l("Refund request")
FILE_STEMS = {"lv": "atmaksa", "en": "refund"}


def _draft(idea, refund: Refund) -> documents.Draft:
    language = documents.language_of(idea)
    decision = decision_of(idea)
    report = report_of(idea)
    totals = totals_for([idea.id])[idea.id]
    config = current_app.config
    day = utcnow().astimezone(RIGA).date()
    version = documents.latest_version(idea.id, REFUND) + 1
    number = f"{decision.number}-A"
    token = str(uuid.uuid4())
    url = documents.verify_url(token)
    money = lambda amount: format_money(amount, language)  # noqa: E731
    context = {
        "idea": idea, "organisation": idea.organisation, "decision": decision, "operator": documents.operator(),
        "language": language, "number": number, "version": version, "verify_url": url, "qr": documents.qr_data_uri(url),
        "date_written": documents.written_date(day, language),
        "written_decision_date": documents.written_date(decision.decided_at.astimezone(RIGA).date(), language),
        "granted": money(decision.amount), "paid": money(totals.paid), "spent": money(report.actual_total),
        "eligible": money(totals.final), "amount": money(refund.to_return),
        "amount_words": amount_in_words(refund.to_return, language),
        "account": {"name": config["PAYMENT_ACCOUNT_NAME"] or config["OPERATOR_NAME"],
                    "iban": iban_check.format(config["PAYMENT_IBAN"]), "bic": config["PAYMENT_BIC"]},
        "payment_reference": f"{idea.reference or idea.id} {'atmaksa' if language == 'lv' else 'refund'}",
        "due_date": documents.written_date(day.fromordinal(day.toordinal() + 30), language),
        "q": lambda text: typographic_quotes(text, language),  # the shared letterhead quotes stored names
    }  # fmt: skip
    try:
        html = documents._environment().get_template(f"payments/refund_{language}.html").render(**context)
    except jinja2.TemplateError as error:
        raise Refused(_("The document template failed: %(error)s. Nothing was issued.", error=f"{type(error).__name__}: {error}")) from error
    filename = f"{FILE_STEMS[language]}-{idea.reference or idea.id}-v{version}.pdf"
    return documents.Draft(idea.id, REFUND, version, number, language, token, filename, html)


def issue_refund_request(idea, refund: Refund, actor):
    """Issue (again) the refund request for what is still to be returned. Commits."""
    if refund is None or refund.to_return <= 0:
        raise Refused(_("Nothing is to be returned for this idea."))
    d = _draft(idea, refund)
    document = documents.store(d, documents.to_pdf(d.html), actor)
    db.session.flush()
    refund.document_id = document.id
    db.session.commit()
    return document
