"""The arithmetic of schedules and settlement, on plain Decimals (no database), so a
property test can try it on any grant.

Rounding: every instalment but the last is its percentage of the grant rounded DOWN to the
cent; the last takes the remainder, so the instalments add up to the grant exactly."""

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from grantflow.core.errors import Refused
from grantflow.core.types import CENT

HUNDRED = Decimal(100)
MAX_INSTALMENTS = 6


def split(total: Decimal, percents: list[Decimal]) -> list[Decimal]:
    """`total` in instalments of these percentages (adding up to 100), in cents, exactly."""
    parts = [(total * p / HUNDRED).quantize(CENT, rounding=ROUND_DOWN) for p in percents[:-1]]
    return parts + [total - sum(parts, Decimal("0.00"))]


def check_plan(rows: list[dict], events) -> list[dict]:
    """The plan's rows as {"percent": str, "due": event}; Refused, naming the row, unless
    every percentage is more than 0 with at most two decimals, every event is known and the
    percentages add up to exactly 100."""
    problems, fields, out = [], {}, []
    if not rows:
        problems.append(_l("Give at least one instalment."))
    if len(rows) > MAX_INSTALMENTS:
        problems.append(_l("At most %(count)d instalments.", count=MAX_INSTALMENTS))
    total = Decimal(0)
    for i, row in enumerate(rows):
        try:
            percent = Decimal(str(row.get("percent", "")).strip().replace(",", "."))
        except (InvalidOperation, ValueError):
            percent = None
        if percent is None or not percent.is_finite() or percent != percent.quantize(CENT) or not 0 < percent <= HUNDRED:
            fields[f"rows-{i}-percent"] = _l("A percentage more than 0 and at most 100, with at most two decimals.")
            continue
        if row.get("due") not in events:
            fields[f"rows-{i}-due"] = _l("Choose when this instalment becomes due.")
            continue
        total += percent
        out.append({"percent": str(percent.normalize() if percent == percent.to_integral() else percent), "due": row["due"]})
    if not fields and rows and total != HUNDRED:
        problems.append(_l("The instalments must add up to exactly 100 %%; they add up to %(total)s %%.", total=total))
    if problems or fields:
        raise Refused(problems, fields)
    return out


def settle(amounts: list[Decimal], paid: list[Decimal], granted: Decimal, spent: Decimal) -> tuple[list[Decimal], Decimal]:
    """After the final report: the grant becomes what was spent on it, at most the grant
    (`eligible`). Instalments not yet paid are lowered, the last first, until they add up to
    what was paid or to `eligible`, whichever is more; what was paid beyond `eligible` is to
    be returned. Returns (the instalments' new amounts, the refund)."""
    eligible = min(max(spent, Decimal("0.00")), granted)
    total_paid = sum(paid, Decimal("0.00"))
    excess = sum(amounts, Decimal("0.00")) - max(eligible, total_paid)
    new = list(amounts)
    for i in reversed(range(len(new))):
        cut = min(max(excess, Decimal("0.00")), new[i] - paid[i])
        new[i] -= cut
        excess -= cut
    return new, max(total_paid - eligible, Decimal("0.00"))
