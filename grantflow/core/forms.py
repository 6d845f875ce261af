"""Form pieces every area shares: the base form (WTForms' own messages in the reader's
language), the one money field, and the checks of numbers."""

from decimal import Decimal

from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, FieldList
from wtforms import Form as PlainForm
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from grantflow.core.i18n import N_, format_input
from grantflow.core.parsing import MAX_MONEY, Unreadable, decimal_amount, decimal_number


class Translations:
    """WTForms' and Flask-WTF's built-in messages ("This field is required.") through our own
    catalogues (grantflow/core/translations): WTForms ships no Latvian catalogue."""

    def gettext(self, string):
        return get_translations().gettext(string)

    def ngettext(self, singular, plural, n):
        # Babel's own, not flask_babel's: WTForms puts the values in itself ("%(max)d").
        return get_translations().ngettext(singular, plural, n)


TRANSLATIONS = Translations()


class Form(FlaskForm):
    """The base of every form: CSRF, and WTForms' messages in the reader's language."""

    class Meta:
        def get_translations(self, form):
            return TRANSLATIONS


class Rows(PlainForm):
    """The base of a row form inside a FieldList (no CSRF of its own): WTForms' messages in
    the reader's language, as in Form."""

    class Meta:
        def get_translations(self, form):
            return TRANSLATIONS


class ActionForm(Form):
    """A button that changes something (remove, withdraw, log out): the form is only its CSRF
    token, so a page elsewhere cannot press it for the user."""


class MoneyField(DecimalField):
    """Euros as either language writes them: "345,67", "345.67", "1 234,50", "1,234.50 €".
    Shown back in the reader's way (345,67 in Latvian); what was typed is kept when it could
    not be read, with one message saying why (never a second one from a later check)."""

    # A text input, not WTForms' number input: a browser refuses to show "1000,00" in an
    # <input type="number"> (the field looked empty in Latvian) and some refuse the comma as
    # typed; `inputmode` still brings up the number keyboard on a phone.
    widget = TextInput()

    def __init__(self, label=None, validators=None, maximum: Decimal = MAX_MONEY, **kwargs):
        kwargs.setdefault("places", 2)
        render_kw = kwargs.setdefault("render_kw", {})
        render_kw.setdefault("inputmode", "decimal")
        super().__init__(label, validators, **kwargs)
        self.maximum = maximum

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = decimal_amount(valuelist[0], self.places, self.maximum)
        except Unreadable as error:
            self.data = None
            raise ValueError(error.message) from None

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_input(self.data) if self.data is not None else ""


class NumberField(MoneyField):
    """A decimal number that is not money (a weight, a threshold), read as either language
    writes it ("1,5" / "1.5") and shown back in the reader's way; its range is checked by the
    field's validators (NumberRange)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = decimal_number(valuelist[0], self.places, self.maximum)
        except Unreadable as error:
            self.data = None
            raise ValueError(error.message) from None


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


# WTForms' and Flask-WTF's own messages that our forms can show, so the catalogue keeps them
# (TRANSLATIONS looks them up at run time).
BUILT_IN_MESSAGES = (
    N_("This field is required."),
    N_("Invalid input."),
    N_("Invalid email address."),
    N_("Not a valid choice."),
    N_("Invalid Choice: could not coerce."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    N_("Not a valid datetime value."),
    N_("Not a valid date value."),
    N_("Not a valid time value."),
    N_("Not a valid integer value."),
    N_("Not a valid decimal value."),
    N_("Not a valid float value."),
    N_("Field must be equal to %(other_name)s."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Invalid value, must be one of: %(values)s."),
    N_("Invalid value, can't be any of: %(values)s."),
)
BUILT_IN_PLURALS = (
    lazy_ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 2),
    lazy_ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 2),
    lazy_ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 2),
)
