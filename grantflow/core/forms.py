"""Form pieces every area shares."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList
from wtforms.validators import StopValidation

# Ten million euros: far above any grant or budget, far below what a column of cents holds.
MAX_MONEY = Decimal("10000000")


class ActionForm(FlaskForm):
    """A button that changes something (remove, withdraw, log out): the form is only its CSRF
    token, so a page elsewhere cannot press it for the user."""


def finite_number(maximum: Decimal | int | float = MAX_MONEY):
    """The first validator of a DecimalField: NaN, infinity and numbers beyond ±`maximum` are
    refused beside the field before any comparison or rounding (which would raise on them)."""

    def check(form, field):
        value = field.data
        if value is None:
            return
        if not value.is_finite():
            raise StopValidation(_l("Enter a number."))
        if abs(value) > Decimal(maximum):
            raise StopValidation(_l("This number is too large."))

    return check


class RowList(FieldList):
    """A FieldList that takes only rows numbered with ASCII digits: WTForms' own accepts any
    `str.isdigit()` key, such as `activities-²-description`, and then fails on int()."""

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isascii() and index.isdecimal() and len(index) <= 4:
                    yield int(index)
