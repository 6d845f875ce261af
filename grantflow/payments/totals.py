"""Money per idea, competition and programme, in a fixed number of queries whatever the
number of ideas.

Before the final report: granted = paid + outstanding. After it the grant becomes what was
spent on it (at most the grant), `final`: final = paid + outstanding − refund, and once
closed (all paid, all returned): final (the spending counted) + returned = paid."""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, func, select

from grantflow.core.extensions import db
from grantflow.funding.models import Decision, DecisionKind, current_ids
from grantflow.payments.models import Instalment, Refund

ZERO = Decimal("0.00")


@dataclass
class Totals:
    """An idea's (or a competition's) money. Before the report: granted = paid + outstanding.
    After it: `final` (what was spent, at most the grant) = paid + outstanding − refund; once
    closed: final (spent) + returned = paid."""

    granted: Decimal = ZERO
    final: Decimal = ZERO
    paid: Decimal = ZERO
    outstanding: Decimal = ZERO
    refund: Decimal = ZERO
    returned: Decimal = ZERO
    ideas: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def to_return(self) -> Decimal:
        return self.refund - self.returned

    def add(self, other: "Totals") -> None:
        for name in ("granted", "final", "paid", "outstanding", "refund", "returned", "ideas"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _cents(value) -> Decimal:
    """A sum of a Money column: euros (the column's type carried through SUM), or cents where
    a database gives the bare integer."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value.quantize(ZERO)
    return (Decimal(int(value)) / 100).quantize(ZERO)


def _totals(where, group) -> dict[int, Totals]:
    """Totals grouped by `group` (Decision.idea_id or Decision.competition_id), four queries;
    of each idea's decisions only the one in force counts (a raised grant's earlier one not)."""
    where = and_(where, Decision.id.in_(current_ids()))
    granted = dict(db.session.execute(select(group, func.sum(Decision.amount)).where(where, Decision.kind == DecisionKind.FUND).group_by(group)).all())
    key = {Decision.idea_id: Instalment.idea_id, Decision.competition_id: Instalment.competition_id}[group]
    inst = {r[0]: r for r in db.session.execute(
        select(key, func.sum(Instalment.amount), func.sum(Instalment.paid)).join(Decision, and_(
            Decision.idea_id == Instalment.idea_id, Decision.kind == DecisionKind.FUND)).where(where).group_by(key))}
    refunds = {r[0]: r for r in db.session.execute(
        select(group, func.sum(Refund.amount), func.sum(Refund.returned)).join(Decision, and_(
            Decision.idea_id == Refund.idea_id, Decision.kind == DecisionKind.FUND)).where(where).group_by(group))}
    ideas = dict(db.session.execute(select(group, func.count(Decision.id)).where(where, Decision.kind == DecisionKind.FUND).group_by(group)).all())
    out = {}
    for k, amount in granted.items():
        g = _cents(amount)
        scheduled, paid = (_cents(inst[k][1]), _cents(inst[k][2])) if k in inst else (g, ZERO)
        refund, returned = (_cents(refunds[k][1]), _cents(refunds[k][2])) if k in refunds else (ZERO, ZERO)
        out[k] = Totals(g, scheduled - refund, paid, scheduled - paid, refund, returned, ideas.get(k, 0))
    return out


def totals_for(idea_ids) -> dict[int, Totals]:
    ids = list(idea_ids)
    found = _totals(Decision.idea_id.in_(ids), Decision.idea_id) if ids else {}
    return {i: found.get(i, Totals()) for i in ids}


def competition_totals(competition_ids=None) -> dict[int, Totals]:
    where = Decision.competition_id.in_(list(competition_ids)) if competition_ids is not None else Decision.id.is_not(None)
    return _totals(where, Decision.competition_id)
