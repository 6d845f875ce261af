"""A competition's reminder schedule, checked against its dates: a reminder must come before
the deadline it reminds of, and after the competition opens (drafts) or closes (evaluation)."""

import re
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from grantflow.core.forms import Form

DAYS = re.compile(r"^\s*(-?\d{1,3}\s*(,\s*-?\d{1,3}\s*)*)?$")


def _days(field) -> list[int]:
    if not DAYS.match(field.data or ""):
        raise ValidationError(_l("Whole numbers of days separated by commas, e.g. 7, 1; empty for none."))
    days = [int(part) for part in (field.data or "").replace(" ", "").split(",") if part]
    if any(d < 1 for d in days):
        raise ValidationError(_l("A reminder must come before the deadline: each number is days before it, 1 or more."))
    return days


class ReminderSettingsForm(Form):
    draft_days = StringField(_l("Unsubmitted drafts: days before the competition closes"), validators=[Length(max=60)])
    evaluation_days = StringField(_l("Unscored assignments: days before evaluation closes"), validators=[Length(max=60)])
    report_due_days = IntegerField(
        _l("Final report: days before it is due (0 for no reminder)"),
        validators=[InputRequired(), NumberRange(min=0, max=365, message=_l("From 0 to 365 days."))],
    )
    report_overdue_every = IntegerField(
        _l("Overdue final report: days between reminders"),
        validators=[InputRequired(), NumberRange(min=1, max=365, message=_l("From 1 to 365 days."))],
    )
    report_overdue_max = IntegerField(
        _l("Overdue final report: at most this many reminders (0 for none)"),
        validators=[InputRequired(), NumberRange(min=0, max=20, message=_l("From 0 to 20."))],
    )
    confirmation_wait_days = IntegerField(
        _l("Municipality's confirmation: days it may wait before a reminder (0 for never)"),
        validators=[InputRequired(), NumberRange(min=0, max=365, message=_l("From 0 to 365 days."))],
    )

    def __init__(self, competition, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.competition = competition

    def validate_draft_days(self, field):
        competition = self.competition
        for d in _days(field):
            if competition.closes_at - timedelta(days=d) < competition.opens_at:
                raise ValidationError(
                    _l("Days before closing: %(days)d would be before the competition opens.", days=d)
                )

    def validate_evaluation_days(self, field):
        """Without an evaluation deadline nothing is sent (the page says so): the days wait
        for one, and the default schedule can be saved as it is."""
        days = _days(field)
        closes = self.competition.evaluation_closes_at
        for d in days if closes is not None else ():
            if closes - timedelta(days=d) < self.competition.closes_at:
                raise ValidationError(
                    _l("Days before evaluation closes: %(days)d would be before the competition closes, when evaluation begins.", days=d)
                )

    def values(self) -> dict:
        def clean(text):
            return ",".join(str(d) for d in sorted({int(p) for p in (text or "").replace(" ", "").split(",") if p}, reverse=True))

        return {
            "draft_days": clean(self.draft_days.data),
            "evaluation_days": clean(self.evaluation_days.data),
            "report_due_days": self.report_due_days.data,
            "report_overdue_every": self.report_overdue_every.data,
            "report_overdue_max": self.report_overdue_max.data,
            "confirmation_wait_days": self.confirmation_wait_days.data,
        }
