"""Forms of the funding board, the decision page and the municipality's answer."""

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from stdnum.lv import pvn
from wtforms import (
    HiddenField,
    IntegerField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from grantflow.core.forms import Form, MoneyField, RowList
from grantflow.core.i18n import format_money
from grantflow.core.types import CENT


class StaleGuard(Form):
    """What the page showed: the idea's version and the committed total. A decision made
    on an out-of-date page is refused. The three decision forms share a page, so each is
    made with its action as prefix (fund-version, reject-reason, ...)."""

    version = HiddenField(validators=[InputRequired()])
    committed = HiddenField(validators=[InputRequired()])


class FundForm(StaleGuard):
    pass


class PartialForm(StaleGuard):
    lines = RowList(
        MoneyField(validators=[InputRequired(_l("Enter an amount (0 to leave the line out)."))]),
        min_entries=0,
    )
    reason = TextAreaField(_l("Reason for funding only part"), validators=[DataRequired(_l("Give the reason for funding only part of the amount.")), Length(max=5000)])

    def granted(self, lines, requested: Decimal):
        """(total, adjusted budget lines) for the idea's grant `lines`, or None with the
        errors beside the fields: no line above its request, a total that is really a part."""
        for entry, line in zip(self.lines.entries, lines, strict=False):
            if entry.data > line.total:
                entry.errors.append(_("At most %(amount)s, as requested for this line.", amount=format_money(line.total)))
        total = sum((entry.data for entry in self.lines.entries), Decimal("0.00"))
        if total >= requested:
            self.reason.errors.append(_("The lines add up to the full amount: use “Fund in full”."))
        elif total <= 0:
            self.reason.errors.append(_("The lines add up to nothing: fund at least one line, or reject the idea."))
        if any(entry.errors for entry in self.lines.entries) or self.reason.errors:
            return None
        adjusted = [
            {"item": line.item, "requested": str(line.total), "granted": str(entry.data.quantize(CENT))}
            for entry, line in zip(self.lines.entries, lines, strict=False)
        ]
        return total, adjusted


class RejectForm(StaleGuard):
    reason = TextAreaField(_l("Reason for rejecting"), validators=[DataRequired(_l("Give the reason for rejecting.")), Length(max=5000)])


def valid_registration_number(form, field):
    if field.data and not pvn.is_valid(field.data):
        raise ValidationError(_l("This is not a valid Latvian registration number (11 digits)."))


class CooperationForm(Form):
    authority_name = StringField(_l("Municipality (legal name)"), validators=[DataRequired(), Length(max=200)])
    registration_number = StringField(_l("Registration number"), validators=[DataRequired(), valid_registration_number])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=300)])
    signatory_name = StringField(_l("Who signs for the municipality"), validators=[DataRequired(), Length(max=200)])
    signatory_position = StringField(_l("Position"), validators=[DataRequired(), Length(max=200)])
    sustainability_years = IntegerField(
        _l("Years the municipality keeps and maintains the result"),
        default=3,
        validators=[InputRequired(), NumberRange(min=1, max=10)],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])
    confirm = SubmitField(_l("Confirm the municipality's commitments"))
    comment_only = SubmitField(_l("Send the comment without confirming"))

    DETAILS = ("authority_name", "registration_number", "address", "signatory_name", "signatory_position", "sustainability_years")

    def validate(self, extra_validators=None):
        if self.comment_only.data:  # a comment alone needs none of the agreement's details
            for name in self.DETAILS:
                getattr(self, name).validators = [Optional()]
        ok = super().validate(extra_validators)
        if ok and self.comment_only.data and not (self.comment.data or "").strip():
            self.comment.errors.append(_l("Write what should change."))
            return False
        return ok
