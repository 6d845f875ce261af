"""Asking for, approving and refusing amendments to a funded idea's agreement.

Approval changes the grant (the funding decision's amount and budget lines), the idea's
budget lines and activity dates, and the payment schedule's unpaid instalments, keeps the
replaced values on the amendment, issues the numbered amendment document and audits it, all
in one transaction. A raised grant is a new funding decision (its own number and decision
letter; the earlier decision and its letters kept as they were). Two administrators deciding the same request at once: the amendment's
version check lets one through. A raised grant is checked against the competition's
remaining budget under the competition row lock the funding decisions take."""

import uuid
from datetime import date
from decimal import Decimal

import jinja2
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload

from grantflow.accounts.models import APPLICANT
from grantflow.amendments.models import Amendment, Status
from grantflow.competitions.models import Competition
from grantflow.core.database import Conflict, is_conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA, amount_in_words, format_money, typographic_quotes
from grantflow.core.types import CENT, utcnow
from grantflow.documents import operations as documents
from grantflow.documents.models import Document
from grantflow.funding.operations import confirmed_cooperation, decision_of, further_decision, remaining
from grantflow.ideas import operations as ideas_ops
from grantflow.payments.models import Instalment
from grantflow.reports.operations import report_of
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_kind

ZERO = Decimal("0.00")
AMENDMENT = documents.AMENDMENT
documents.KIND_LABELS[AMENDMENT] = _l("Amendment to the agreement")
FILE_STEMS = {"lv": "grozijumi", "en": "amendment"}

audit_kind("amendment_requested", _l("Amendment to the agreement requested"))
audit_kind("amendment_approved", _l("Amendment to the agreement approved"))
audit_kind("amendment_refused", _l("Amendment to the agreement refused"))
audit_kind("grant_raised", _l("Grant raised by a new decision"))


# --- reading ---------------------------------------------------------------------------------


def amendments_of(idea) -> list[Amendment]:
    return db.session.scalars(
        select(Amendment).options(selectinload(Amendment.document), selectinload(Amendment.decided_by))
        .where(Amendment.idea_id == idea.id).order_by(Amendment.requested_at.desc(), Amendment.id.desc())
    ).all()


def open_amendment(idea) -> Amendment | None:
    return db.session.scalars(
        select(Amendment).where(Amendment.idea_id == idea.id, Amendment.status == Status.REQUESTED)
    ).first()


def amendable(idea) -> bool:
    """A funded idea being carried out (before its report is accepted) may be amended."""
    decision = decision_of(idea)
    return idea.has_tag("reporting") and decision is not None and decision.funds


def may_request(idea, user) -> bool:
    return APPLICANT in idea.roles_of(user) and getattr(user, "email_confirmed", False) and amendable(idea)


def funded_lines(idea) -> list:
    return [line for line in idea.budget_lines if not line.own]


def current_values(idea) -> dict:
    """The grant, each funded line's granted amount and each activity's dates as they are
    now, in the shape an amendment stores them."""
    decision = decision_of(idea)
    lines = funded_lines(idea)
    adjusted = decision.adjusted_budget or []
    granted = [Decimal(row["granted"]) for row in adjusted] if len(adjusted) == len(lines) else [line.total for line in lines]
    return {
        "amount": str(decision.amount),
        "lines": [{"id": line.id, "item": line.item, "amount": str(g)} for line, g in zip(lines, granted, strict=True)],
        "dates": [
            {"id": a.id, "description": a.description, "starts_on": _iso(a.starts_on), "ends_on": _iso(a.ends_on)}
            for a in idea.activities
        ],
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def paid_so_far(idea) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(Instalment.paid), 0)).where(Instalment.idea_id == idea.id)) or ZERO


# --- asking ----------------------------------------------------------------------------------


def request_amendment(idea, actor, *, reason: str, lines: dict[int, Decimal], dates: dict[int, tuple]) -> Amendment:
    """Record the applicant's request: `lines` maps each funded budget line's id to its new
    amount (the new grant is their sum), `dates` each activity's id to (starts_on, ends_on).
    Refused, with nothing stored, when it changes nothing, lowers the grant below what was
    paid, or raises it beyond the competition's remaining budget. Commits."""
    if not amendable(idea):
        raise Refused(_("This idea cannot be amended now: only a funded idea being carried out can be."))
    if open_amendment(idea) is not None:
        raise Refused(_("An amendment is already waiting for a decision; wait for it before asking for another."))
    if not reason.strip():
        raise Refused(_("Give the reason for the change."))
    now = current_values(idea)
    new_lines = []
    for row in now["lines"]:
        value = lines.get(row["id"])
        if value is None or not value.is_finite() or value < 0 or value != value.quantize(CENT):
            raise Refused(_("Enter each budget line's amount in euros, zero or more."))
        new_lines.append({**row, "amount": str(value)})
    new_dates = []
    for row in now["dates"]:
        starts, ends = dates.get(row["id"], (None, None))
        if starts and ends and ends < starts:
            raise Refused(_("An activity cannot end before it starts (%(activity)s).", activity=row["description"]))
        new_dates.append({**row, "starts_on": _iso(starts), "ends_on": _iso(ends)})
    amount = sum((Decimal(r["amount"]) for r in new_lines), ZERO)
    if amount <= 0:
        raise Refused(_("The grant cannot be lowered to nothing; to give up the grant, write to the programme operator."))
    if new_lines == now["lines"] and new_dates == now["dates"]:
        raise Refused(_("The request changes nothing: change a budget line's amount or an activity's dates."))
    _check_amount(idea, Decimal(now["amount"]), amount, lock=False)
    amendment = Amendment(
        idea_id=idea.id, status=Status.REQUESTED, reason=reason.strip(), amount=amount, lines=new_lines,
        dates=new_dates, before=now, requested_by_id=getattr(actor, "id", None), requested_at=utcnow(),
    )  # fmt: skip
    db.session.add(amendment)
    engine.record(idea, "amendment_requested", actor, reason.strip(), amount=str(amount))
    db.session.commit()
    return amendment


def _check_amount(idea, old: Decimal, new: Decimal, lock: bool) -> None:
    """Lowered: never below what was paid. Raised: only within the competition's remaining
    budget, read under the competition row lock when `lock` (as the funding decisions do)."""
    paid = paid_so_far(idea)
    if new < paid:
        raise Refused(_("The grant cannot be lowered below what has already been paid (%(paid)s).", paid=format_money(paid)))
    if new > old:
        query = select(Competition).where(Competition.id == idea.competition_id)
        competition = db.session.execute(query.with_for_update() if lock else query).scalar_one()
        left = remaining(competition)
        if new - old > left:
            raise Refused(_(
                "The competition's budget does not cover this: the grant would grow by %(more)s, but only %(left)s remain. Nothing was changed.",
                more=format_money(new - old), left=format_money(left)))


# --- deciding --------------------------------------------------------------------------------


def _claim(amendment: Amendment, version: int, status: Status, actor, answer: str) -> None:
    """Move the amendment from "requested" to `status` if nobody has since; else Refused."""
    try:
        result = db.session.execute(
            update(Amendment)
            .where(Amendment.id == amendment.id, Amendment.version == version, Amendment.status == Status.REQUESTED)
            .values(status=status, version=version + 1, answer=answer, decided_by_id=getattr(actor, "id", None),
                    decided_at=utcnow())
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    except DBAPIError as error:
        if is_conflict(error):
            raise Conflict(str(error)) from error
        raise
    if result.rowcount != 1:
        raise Refused(_("Someone else decided this amendment after you opened the page. Nothing was changed."))
    db.session.refresh(amendment)


def refuse(amendment: Amendment, actor, *, answer: str, version: int) -> None:
    if not answer.strip():
        raise Refused(_("Give the reason for refusing."))
    try:
        _claim(amendment, version, Status.REFUSED, actor, answer.strip())
        engine.record(amendment.idea, "amendment_refused", actor, answer.strip(), amendment=amendment.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def approve(amendment: Amendment, actor, *, answer: str, version: int) -> Amendment:
    """Approve: change the grant, budget, dates and schedule, number and issue the amendment
    document, audit; all or nothing. Commits."""
    try:
        idea = amendment.idea
        db.session.refresh(idea, with_for_update=True)
        _claim(amendment, version, Status.APPROVED, actor, answer.strip())
        if not amendable(idea):
            raise Refused(_("This idea cannot be amended now: only a funded idea being carried out can be."))
        before = current_values(idea)
        old, new = Decimal(before["amount"]), amendment.amount
        _check_amount(idea, old, new, lock=True)
        previous = decision_of(idea)
        if new > old:  # more money is a new decision (the earlier one kept), under the budget lock
            further_decision(previous, actor, amount=old, reason=answer.strip() or amendment.reason)
        _apply(idea, amendment, before)
        _follow_schedule(idea, new - old)
        amendment.before = before
        amendment.number = 1 + (db.session.scalar(
            select(func.coalesce(func.max(Amendment.number), 0)).where(Amendment.idea_id == idea.id)) or 0)
        engine.bump_version(idea)
        engine.record(idea, "amendment_approved", actor, answer.strip(), amendment=amendment.id,
                      number=amendment.number, amount_before=str(old), amount_after=str(new))
        db.session.flush()
        d = _draft(idea, amendment)
        document = documents.store(d, documents.to_pdf(d.html), actor)
        db.session.flush()
        amendment.document_id = document.id
        if new > old:
            decision = decision_of(idea)
            engine.record(idea, "grant_raised", actor, f"{previous.number} → {decision.number}", amendment=amendment.id,
                          decision=decision.number, replaces=previous.number, amount_before=str(old), amount_after=str(new))
            letter = documents.draft(idea, documents.DECISION)
            documents.store(letter, documents.to_pdf(letter.html), actor)
        db.session.commit()
    except DBAPIError as error:
        db.session.rollback()
        if is_conflict(error):
            raise Conflict(str(error)) from error
        raise
    except BaseException:
        db.session.rollback()
        raise
    return amendment


def _apply(idea, amendment: Amendment, before: dict) -> None:
    """The grant, the lines (what reports are compared with) and the dates as asked."""
    decision = decision_of(idea)
    requested = {line.id: line.total for line in funded_lines(idea)}
    if decision.adjusted_budget and len(decision.adjusted_budget) == len(requested):
        requested = {row["id"]: Decimal(old["requested"]) for row, old in zip(before["lines"], decision.adjusted_budget, strict=True)}
    decision.amount = amendment.amount
    decision.adjusted_budget = [
        {"item": row["item"], "requested": str(requested.get(row["id"], ZERO)), "granted": row["amount"]} for row in amendment.lines
    ]
    new = {row["id"]: Decimal(row["amount"]) for row in amendment.lines}
    for line in funded_lines(idea):
        if line.id in new and line.total != new[line.id]:
            _set_total(line, new[line.id])
    dates = {row["id"]: row for row in amendment.dates}
    for activity in idea.activities:
        if activity.id in dates:
            row = dates[activity.id]
            activity.starts_on = date.fromisoformat(row["starts_on"]) if row["starts_on"] else None
            activity.ends_on = date.fromisoformat(row["ends_on"]) if row["ends_on"] else None
    # The answers document holds the rows as they now are: where they are not loaded, it is
    # read in their place (ideas.operations._records).
    ideas_ops.sync_answers(idea)
    report = report_of(idea)
    if report is not None:  # a report begun before: its planned column follows the amended budget
        for spending in report.spending:
            if spending.budget_line_id in new:
                spending.planned = new[spending.budget_line_id]


def _set_total(line, total: Decimal) -> None:
    """Keep the quantity when the new total divides into whole cents; else one unit."""
    quantity = Decimal(line.quantity)
    if quantity > 0 and (total / quantity).quantize(CENT) * quantity == total:
        line.unit_cost = (total / quantity).quantize(CENT)
    else:
        line.quantity, line.unit_cost = Decimal("1"), total


def _follow_schedule(idea, change: Decimal) -> None:
    """The schedule follows the grant: a lowered grant lowers the unpaid instalments, the last
    first; a raised one raises the last instalment not in a payment run waiting for the bank.
    Instalments in such a run are left alone."""
    if change == 0:
        return
    rows = db.session.scalars(
        select(Instalment).where(Instalment.idea_id == idea.id).order_by(Instalment.position.desc()).with_for_update()
    ).all()
    if not rows:
        return  # no schedule yet: it is made from the amended grant
    free = [row for row in rows if row.run_id is None]
    if change > 0:
        if not free:
            raise Refused(_("Every instalment is in a payment file waiting for the bank; approve the amendment once it is paid."))
        free[0].planned += change
        free[0].amount += change
        return
    left = -change
    for row in free:
        cut = min(left, row.amount - row.paid)
        row.amount -= cut
        row.planned -= cut
        left -= cut
        if not left:
            return
    raise Refused(_("The grant cannot be lowered below what has been paid or is in a payment file waiting for the bank."))


# --- the document ----------------------------------------------------------------------------


def _agreement(idea) -> Document | None:
    return db.session.scalars(
        select(Document).where(Document.idea_id == idea.id, Document.kind == documents.AGREEMENT)
        .order_by(Document.version).limit(1)
    ).first()


def _draft(idea, amendment: Amendment) -> documents.Draft:
    missing = documents.missing_party_details(idea)
    if missing:
        raise Refused(_("The amendment cannot be issued until the organisation's profile gives: %(missing)s. Nothing was changed.",
                        missing=", ".join(missing)))
    language = documents.language_of(idea)
    decision = decision_of(idea)
    agreement = _agreement(idea)
    day = utcnow().astimezone(RIGA).date()
    version = documents.latest_version(idea.id, AMENDMENT) + 1
    number = f"{decision.number}-V/G{amendment.number}"
    token = str(uuid.uuid4())
    url = documents.verify_url(token)
    money = lambda amount: format_money(amount, language)  # noqa: E731
    written = lambda value, case: documents.written_date(date.fromisoformat(value), language, case) if value else ""  # noqa: E731
    coop = confirmed_cooperation(idea)
    context = {
        "idea": idea, "organisation": idea.organisation, "decision": decision, "operator": documents.operator(),
        "coop": coop, "amendment": amendment, "language": language, "number": number, "version": version,
        "verify_url": url, "qr": documents.qr_data_uri(url), "date_written": documents.written_date(day, language),
        "agreement_number": f"{decision.number}-V",
        "agreement_date": documents.written_date(agreement.issued_at.astimezone(RIGA).date(), language, "genitive") if agreement else "",
        "amount_changed": amendment.changes_amount != 0,
        "amount": money(amendment.amount), "amount_words": amount_in_words(amendment.amount, language),
        "amount_words_lv": amount_in_words(amendment.amount, "lv"),
        "amount_before": money(Decimal(amendment.before["amount"])),
        "lines": [{"item": r["item"], "before": money(r["before"]), "after": money(r["after"])} for r in amendment.changed_lines()],
        "dates": [{"description": r["description"],
                   "starts": written(r["after"].get("starts_on"), "genitive"), "ends": written(r["after"].get("ends_on"), "dative")}
                  for r in amendment.changed_dates()],
        "q": lambda text: typographic_quotes(text, language),
    }  # fmt: skip
    try:
        html = documents._environment().get_template(f"amendments/amendment_{language}.html").render(**context)
    except jinja2.TemplateError as error:
        raise Refused(_("The document template failed: %(error)s. Nothing was issued.", error=f"{type(error).__name__}: {error}")) from error
    filename = f"{FILE_STEMS[language]}-{idea.reference or idea.id}-{amendment.number}-v{version}.pdf"
    return documents.Draft(idea.id, AMENDMENT, version, number, language, token, filename, html)
