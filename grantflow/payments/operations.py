"""Payments: plans, schedules, what is due, SEPA payment runs, payments made another way,
settlement after the final report, and refunds. Every change is audited and committed here.

No instalment is paid twice or beyond what it owes, however many administrators or tabs act
at once: every change of `Instalment.paid`, `Instalment.run_id`, `PaymentRun.status` and
`Refund.returned` is one conditional UPDATE whose WHERE says what must still hold (not in
another run, not beyond the amount, the run still waiting). On PostgreSQL the second of two
such UPDATEs waits for the first's row lock and then re-checks its WHERE; SQLite serialises
writers (BEGIN IMMEDIATE). A rowcount short of what was asked rolls everything back."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sepaxml import SepaTransfer
from sqlalchemy import exists, select, update
from sqlalchemy.orm import selectinload
from stdnum import iban as iban_check

from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import RIGA, format_money
from grantflow.core.types import utcnow
from grantflow.documents.models import Document
from grantflow.funding.models import Decision, DecisionKind, current_ids
from grantflow.funding.operations import decision_of
from grantflow.ideas.models import Idea
from grantflow.payments.models import (
    DEFAULT_PLAN,
    EVENTS,
    Instalment,
    Method,
    Payment,
    PaymentPlan,
    PaymentRun,
    Refund,
    RunStatus,
)
from grantflow.payments.schedule import check_plan, settle, split
from grantflow.payments.totals import Totals, competition_totals, totals_for  # noqa: F401 (the views read them here)
from grantflow.reports.models import Report, ReportStatus
from grantflow.reports.operations import report_of
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_kind, effect, guard

ZERO = Decimal("0.00")
SEPA_SCHEMA = "pain.001.001.03"

audit_kind("payment_plan_changed", _l("Payment schedule changed"))
audit_kind("payment_exported", _l("Payment included in a SEPA payment file"))
audit_kind("payment_made", _l("Payment made"))
audit_kind("payment_run_cancelled", _l("Payment file cancelled; the payment is due again"))
audit_kind("refund_due", _l("Refund worked out from the accepted report"))
audit_kind("refund_returned", _l("Returned money recorded"))


def today() -> date:
    return utcnow().astimezone(RIGA).date()


# --- plans and schedules --------------------------------------------------------------------


def plan_of(competition_id: int) -> list[dict]:
    row = db.session.scalars(select(PaymentPlan).where(PaymentPlan.competition_id == competition_id)).first()
    return row.instalments if row else DEFAULT_PLAN


def payments_started(competition_id: int) -> bool:
    """Whether anything of the competition was paid or put in a payment file."""
    return bool(db.session.scalar(select(exists().where(
        Instalment.competition_id == competition_id, (Instalment.paid > 0) | Instalment.run_id.is_not(None)))))


def _schedule(idea_id: int, competition_id: int, granted: Decimal, plan: list[dict]) -> list[Instalment]:
    amounts = split(granted, [Decimal(row["percent"]) for row in plan])
    rows = [Instalment(idea_id=idea_id, competition_id=competition_id, position=i + 1, due_on=row["due"],
                       planned=amount, amount=amount, paid=ZERO)
            for i, (row, amount) in enumerate(zip(plan, amounts, strict=True))]  # fmt: skip
    db.session.add_all(rows)
    return rows


@effect("plan_payments", _l("Writes the grant's payment schedule from the competition's payment plan"))
def plan_payments(idea, ctx) -> None:
    """On funding (after commit_funds): the idea's schedule from the competition's plan, for
    the amount granted (a part, when funded in part)."""
    decision = decision_of(idea)
    _schedule(idea.id, idea.competition_id, decision.amount, plan_of(idea.competition_id))


def _missing_schedules(competition_id: int) -> None:
    """Schedules for funded ideas that have none (funded before payments were kept)."""
    decisions = db.session.scalars(select(Decision).where(
        Decision.competition_id == competition_id, Decision.kind == DecisionKind.FUND, Decision.id.in_(current_ids()),
        ~exists().where(Instalment.idea_id == Decision.idea_id))).all()
    plan = plan_of(competition_id)
    for decision in decisions:
        _schedule(decision.idea_id, competition_id, decision.amount, plan)


def change_plan(competition, rows: list[dict], actor) -> list[dict]:
    """Set the competition's plan and re-plan its ideas' schedules; refused once anything of
    the competition has been paid or put in a payment file. Commits."""
    plan = check_plan(rows, EVENTS)
    try:
        db.session.execute(select(PaymentPlan.id).where(PaymentPlan.competition_id == competition.id).with_for_update())
        if payments_started(competition.id):
            raise Refused(_("Payments of this competition have started, so its schedule can no longer be changed."))
        row = db.session.scalars(select(PaymentPlan).where(PaymentPlan.competition_id == competition.id)).first()
        if row is None:
            row = PaymentPlan(competition_id=competition.id, instalments=plan)
            db.session.add(row)
        row.instalments, row.updated_by_id, row.updated_at = plan, actor.id, utcnow()
        db.session.execute(Instalment.__table__.delete().where(Instalment.competition_id == competition.id))
        db.session.flush()
        _missing_schedules(competition.id)
        text = ", ".join(f"{r['percent']} % ({r['due']})" for r in plan)
        engine.record(None, "payment_plan_changed", actor, text, competition_id=competition.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return plan


# --- what is due ----------------------------------------------------------------------------


def event_done():
    """SQL: whether the event an instalment waits for has happened."""
    agreement = exists().where(Document.idea_id == Instalment.idea_id, Document.kind == "agreement")
    report = exists().where(Report.idea_id == Instalment.idea_id, Report.status == ReportStatus.ACCEPTED)
    return (Instalment.due_on == "decision") | ((Instalment.due_on == "agreement") & agreement) | (
        (Instalment.due_on == "report") & report)


def is_due(instalment: Instalment) -> bool:
    return bool(db.session.scalar(select(event_done()).where(Instalment.id == instalment.id)))


def iban_problem(org) -> str | None:
    if not org.iban:
        return _("The organisation has no IBAN.")
    if not iban_check.is_valid(org.iban):
        return _("The organisation's IBAN %(iban)s is not valid.", iban=org.iban)
    return None


@dataclass
class Due:
    instalment: Instalment
    blocked: str | None  # why it cannot be paid now (no valid IBAN)


def due(competition_id: int) -> list[Due]:
    """Instalments of the competition due now and not paid, not in a payment file."""
    rows = db.session.scalars(
        select(Instalment).options(selectinload(Instalment.idea).selectinload(Idea.organisation))
        .where(Instalment.competition_id == competition_id, Instalment.paid < Instalment.amount,
               Instalment.run_id.is_(None), event_done())
        .order_by(Instalment.idea_id, Instalment.position)
    ).all()
    return [Due(row, iban_problem(row.idea.organisation)) for row in rows]


# --- SEPA payment runs ----------------------------------------------------------------------


def _operator_account() -> dict:
    config = current_app.config
    account = {"name": config["PAYMENT_ACCOUNT_NAME"] or config["OPERATOR_NAME"], "IBAN": config["PAYMENT_IBAN"],
               "batch": True, "currency": "EUR"}  # fmt: skip
    if config["PAYMENT_BIC"]:
        account["BIC"] = config["PAYMENT_BIC"]
    if not iban_check.is_valid(account["IBAN"] or ""):
        raise Refused(_("The operator's IBAN (PAYMENT_IBAN in the configuration) is not valid."))
    return account


def sepa_file(instalments: list[Instalment], execution_date: date, message_id: str | None = None) -> tuple[str, bytes]:
    """A pain.001.001.03 credit transfer file paying each instalment's outstanding amount,
    checked against the schema by sepaxml. Returns (message id, XML)."""
    transfer = SepaTransfer(_operator_account(), schema=SEPA_SCHEMA, clean=True)
    if message_id:
        transfer.msg_id = message_id
    for row in instalments:
        org = row.idea.organisation
        transfer.add_payment({
            "name": org.name, "IBAN": iban_check.compact(org.iban), "amount": int(row.outstanding * 100),
            "execution_date": execution_date, "endtoend_id": f"GF-{row.id}",
            "description": f"{row.idea.reference or row.idea.id} {row.position}. maksajums",
        })  # fmt: skip
    return transfer.msg_id, transfer.export(validate=True)


def create_run(competition, instalment_ids: list[int], execution_date: date, actor) -> PaymentRun:
    """A payment file for the chosen due instalments; refused, nothing changed, if one is not
    due, already paid or in another file, or its organisation has no valid IBAN. Commits."""
    ids = sorted(set(instalment_ids))
    if not ids:
        raise Refused(_("Choose at least one payment."))
    if execution_date < today():
        raise Refused([], {"execution_date": _("The payment date cannot be in the past.")})
    try:
        chosen = {d.instalment.id: d for d in due(competition.id)}
        problems = []
        for i in ids:
            if i not in chosen:
                problems.append(_("Payment %(id)d is not due now, already paid or already in a payment file.", id=i))
            elif chosen[i].blocked:
                problems.append(f"{chosen[i].instalment.idea.reference}: {chosen[i].blocked}")
        if problems:
            raise Refused(problems)
        rows = [chosen[i].instalment for i in ids]
        run = PaymentRun(competition_id=competition.id, status=RunStatus.EXPORTED, message_id="-", execution_date=execution_date,
                         total=sum((r.outstanding for r in rows), ZERO), count=len(rows), xml=b"", created_by_id=actor.id)  # fmt: skip
        db.session.add(run)
        db.session.flush()
        taken = db.session.execute(
            update(Instalment).where(Instalment.id.in_(ids), Instalment.run_id.is_(None), Instalment.paid < Instalment.amount)
            .values(run_id=run.id).execution_options(synchronize_session=False)
        ).rowcount
        if taken != len(ids):
            raise Refused(_("Someone else put some of these payments in another payment file at the same moment. Nothing was changed; look again."))
        run.message_id, run.xml = sepa_file(rows, execution_date, f"GF{run.id:06d}{utcnow():%Y%m%d%H%M%S}")
        for row in rows:
            engine.record(row.idea, "payment_exported", actor, format_money(row.outstanding), run=run.id, instalment=row.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return run


def _close_run(run: PaymentRun, status: RunStatus, actor) -> bool:
    """Move the run from waiting to `status`: True for the one request that does it."""
    return db.session.execute(
        update(PaymentRun).where(PaymentRun.id == run.id, PaymentRun.status == RunStatus.EXPORTED)
        .values(status=status, closed_by_id=actor.id, closed_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount == 1


def mark_run_paid(run: PaymentRun, paid_on: date, actor) -> list[Payment]:
    """The bank executed the file: each of its instalments is paid what it owed. Commits."""
    try:
        if not _close_run(run, RunStatus.PAID, actor):
            raise Refused(_("This payment file has already been marked paid or cancelled."))
        rows = db.session.scalars(select(Instalment).options(selectinload(Instalment.idea).selectinload(Idea.organisation))
                                  .where(Instalment.run_id == run.id).with_for_update(of=Instalment)).all()  # fmt: skip
        payments = []
        for row in rows:
            amount = row.outstanding
            done = db.session.execute(
                update(Instalment).where(Instalment.id == row.id, Instalment.run_id == run.id, Instalment.paid + amount <= Instalment.amount)
                .values(paid=Instalment.paid + amount, run_id=None).execution_options(synchronize_session=False)
            ).rowcount  # fmt: skip
            if done != 1:
                raise Refused(_("A payment of this file changed meanwhile. Nothing was changed; look again."))
            payments.append(_payment(row, amount, paid_on, Method.SEPA, run.message_id, actor, run.id))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    db.session.expire_all()
    return payments


def cancel_run(run: PaymentRun, actor) -> None:
    """The file was not executed: its instalments are due again. Commits."""
    try:
        if not _close_run(run, RunStatus.CANCELLED, actor):
            raise Refused(_("This payment file has already been marked paid or cancelled."))
        rows = db.session.scalars(select(Instalment).where(Instalment.run_id == run.id)).all()
        db.session.execute(update(Instalment).where(Instalment.run_id == run.id).values(run_id=None)
                           .execution_options(synchronize_session=False))
        for row in rows:
            engine.record(row.idea, "payment_run_cancelled", actor, run.message_id, run=run.id, instalment=row.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    db.session.expire_all()


def _payment(row: Instalment, amount: Decimal, paid_on: date, method: str, reference: str, actor, run_id=None) -> Payment:
    payment = Payment(instalment_id=row.id, idea_id=row.idea_id, run_id=run_id, amount=amount, paid_on=paid_on, method=method,
                      reference=reference, iban=row.idea.organisation.iban or "", recorded_by_id=actor.id)  # fmt: skip
    db.session.add(payment)
    engine.record(row.idea, "payment_made", actor, f"{format_money(amount)} · {reference}".strip(" ·"),
                  instalment=row.id, amount=str(amount), method=method)  # fmt: skip
    return payment


def pay_instalment(row: Instalment, amount: Decimal, paid_on: date, reference: str, actor) -> Payment:
    """A payment made another way (another bank, by hand), not committed: refused if the
    instalment is not due, is in a payment file, or the amount is above what it still owes,
    or the organisation has no valid IBAN."""
    problem = iban_problem(row.idea.organisation)
    if problem:
        raise Refused(problem)
    if not is_due(row):
        raise Refused(_("This instalment is not due yet: it becomes due %(event)s.", event=row.due_label))
    if amount <= 0:
        raise Refused([], {"amount": _("The amount must be more than zero.")})
    if paid_on > today():
        raise Refused([], {"paid_on": _("The payment date cannot be in the future.")})
    done = db.session.execute(
        update(Instalment).where(Instalment.id == row.id, Instalment.run_id.is_(None), Instalment.paid + amount <= Instalment.amount)
        .values(paid=Instalment.paid + amount).execution_options(synchronize_session=False)
    ).rowcount  # fmt: skip
    if done != 1:
        db.session.refresh(row)
        if row.run_id is not None:
            raise Refused(_("This instalment is in a payment file waiting for the bank: mark the file paid or cancel it."))
        raise Refused([], {"amount": _("That is more than is due: %(left)s remain to be paid on this instalment.",
                                       left=format_money(row.outstanding))})  # fmt: skip
    payment = _payment(row, amount, paid_on, Method.OTHER, reference.strip(), actor)
    db.session.flush()
    db.session.refresh(row)
    return payment


def record_payment(row: Instalment, amount: Decimal, paid_on: date, reference: str, actor) -> Payment:
    """pay_instalment, committed; refused with nothing changed."""
    try:
        payment = pay_instalment(row, amount, paid_on, reference, actor)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return payment


# --- settlement and refunds -----------------------------------------------------------------


@guard(
    "no_payment_pending",
    _l("A payment file holding one of this idea's payments waits for the bank: mark it paid or cancel it first."),
    _l("No payment file with this idea's payments waits for the bank"),
)
def no_payment_pending(idea, ctx) -> bool:
    return not db.session.scalar(select(exists().where(Instalment.idea_id == idea.id, Instalment.run_id.is_not(None))))


@guard(
    "payments_settled",
    _l("Close the idea once every payment due is made and any money to be returned has been returned."),
    _l("Every payment due is made and any refund returned"),
)
def payments_settled(idea, ctx) -> bool:
    owed = exists().where(Instalment.idea_id == idea.id, Instalment.paid < Instalment.amount)
    to_return = exists().where(Refund.idea_id == idea.id, Refund.returned < Refund.amount)
    return not db.session.scalar(select(owed | to_return))


@effect("settle_payments", _l("Makes the grant what the accepted report shows spent: lowers unpaid instalments or asks for a refund"))
def settle_payments(idea, ctx) -> None:
    """When the final report is accepted: the grant becomes what the report shows spent on it
    (at most the grant). Unpaid instalments are lowered to match; what was paid beyond it is
    to be returned (a Refund)."""
    decision = decision_of(idea)
    report = report_of(idea)
    if decision is None or not decision.funds or report is None:
        return
    rows = db.session.scalars(select(Instalment).where(Instalment.idea_id == idea.id)
                              .order_by(Instalment.position).with_for_update()).all()  # fmt: skip
    if not rows:
        rows = _schedule(idea.id, idea.competition_id, decision.amount, plan_of(idea.competition_id))
    amounts, refund = settle([r.amount for r in rows], [r.paid for r in rows], decision.amount, report.actual_total)
    for row, amount in zip(rows, amounts, strict=True):
        row.amount = amount
    if refund > 0:
        db.session.add(Refund(idea_id=idea.id, amount=refund, returned=ZERO))
        engine.record(idea, "refund_due", ctx.actor, format_money(refund), amount=str(refund))


def refund_of(idea) -> Refund | None:
    return db.session.scalars(select(Refund).where(Refund.idea_id == idea.id)).first()


def return_money(refund: Refund, amount: Decimal, returned_on: date, reference: str, actor) -> None:
    """Money the community returned, not committed; refused above what is still to be
    returned (so never more than was paid)."""
    if amount <= 0:
        raise Refused([], {"amount": _("The amount must be more than zero.")})
    if returned_on > today():
        raise Refused([], {"returned_on": _("The date cannot be in the future.")})
    done = db.session.execute(
        update(Refund).where(Refund.id == refund.id, Refund.returned + amount <= Refund.amount)
        .values(returned=Refund.returned + amount, returned_on=returned_on, reference=reference.strip()[:140])
        .execution_options(synchronize_session=False)
    ).rowcount  # fmt: skip
    if done != 1:
        db.session.refresh(refund)
        raise Refused([], {"amount": _("That is more than is to be returned: %(left)s remain, of %(paid)s paid.",
                                       left=format_money(refund.to_return), paid=format_money(totals_for([refund.idea_id])[refund.idea_id].paid))})  # fmt: skip
    idea = db.session.get(Idea, refund.idea_id)
    engine.record(idea, "refund_returned", actor, f"{format_money(amount)} · {reference.strip()}".strip(" ·"), amount=str(amount))
    db.session.flush()
    db.session.refresh(refund)


def record_return(refund: Refund, amount: Decimal, returned_on: date, reference: str, actor) -> None:
    """return_money, committed; refused with nothing changed."""
    try:
        return_money(refund, amount, returned_on, reference, actor)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


# --- reading -------------------------------------------------------------------------------


def schedule_of(idea) -> list[Instalment]:
    return db.session.scalars(select(Instalment).where(Instalment.idea_id == idea.id).order_by(Instalment.position)).all()


def payments_of(idea) -> list[Payment]:
    return db.session.scalars(select(Payment).where(Payment.idea_id == idea.id).order_by(Payment.paid_on, Payment.id)).all()


def runs_of(competition_id: int) -> list[PaymentRun]:
    return db.session.scalars(select(PaymentRun).options(selectinload(PaymentRun.created_by))
                              .where(PaymentRun.competition_id == competition_id).order_by(PaymentRun.id.desc())).all()  # fmt: skip


def run_payments(run_id: int) -> list[Payment]:
    return db.session.scalars(select(Payment).where(Payment.run_id == run_id).order_by(Payment.id)).all()
