"""One way of writing dates, numbers and quotes per language, Latvian dates in the case the
sentence needs, and the one reader of money typed in either language."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from grantflow.core.extensions import db
from grantflow.core.forms import Form, MoneyField
from grantflow.core.i18n import (
    LATVIAN_MONTHS,
    format_day,
    format_input,
    format_money,
    format_number,
    format_points,
    format_when,
    latvian_date,
    letter_date,
    quoted,
    typographic_quotes,
)
from grantflow.core.parsing import Unreadable, decimal_amount, decimal_number, is_email
from tests.conftest import login

# Every month in every case a document uses: (nominative, genitive, dative, accusative, locative).
MONTHS = [
    ("janvāris", "janvāra", "janvārim", "janvāri", "janvārī"),
    ("februāris", "februāra", "februārim", "februāri", "februārī"),
    ("marts", "marta", "martam", "martu", "martā"),
    ("aprīlis", "aprīļa", "aprīlim", "aprīli", "aprīlī"),
    ("maijs", "maija", "maijam", "maiju", "maijā"),
    ("jūnijs", "jūnija", "jūnijam", "jūniju", "jūnijā"),
    ("jūlijs", "jūlija", "jūlijam", "jūliju", "jūlijā"),
    ("augusts", "augusta", "augustam", "augustu", "augustā"),
    ("septembris", "septembra", "septembrim", "septembri", "septembrī"),
    ("oktobris", "oktobra", "oktobrim", "oktobri", "oktobrī"),
    ("novembris", "novembra", "novembrim", "novembri", "novembrī"),
    ("decembris", "decembra", "decembrim", "decembri", "decembrī"),
]
CASES = ("nominative", "genitive", "dative", "accusative", "locative")


@pytest.mark.parametrize("month", range(1, 13))
@pytest.mark.parametrize("case", CASES)
def test_latvian_dates_in_every_case(month, case):
    expected = MONTHS[month - 1][CASES.index(case)]
    assert latvian_date(date(2027, month, 5), case) == f"2027. gada 5. {expected}"
    assert LATVIAN_MONTHS[case][month - 1] == expected


def test_a_period_in_a_latvian_sentence():
    """"no" takes the genitive, "līdz" the dative (the documents once wrote both in the locative)."""
    sentence = f"no {letter_date(date(2027, 4, 1), 'lv', 'genitive')} līdz {letter_date(date(2027, 6, 30), 'lv', 'dative')}"
    assert sentence == "no 2027. gada 1. aprīļa līdz 2027. gada 30. jūnijam"
    assert letter_date(date(2027, 9, 5), "lv") == "2027. gada 5. septembrī"
    assert letter_date(date(2027, 4, 1), "en", "genitive") == "1 April 2027"
    # A moment is taken in Riga time: 22:30 UTC on 31 March is already 1 April there.
    assert latvian_date(datetime(2027, 3, 31, 22, 30, tzinfo=UTC), "genitive") == "2027. gada 1. aprīļa"


def test_one_date_format_per_language():
    day, moment = date(2026, 11, 24), datetime(2026, 11, 24, 14, 52, tzinfo=UTC)
    assert format_day(day, "lv") == "24. nov. 2026"
    assert format_day(day, "en") == "24 Nov 2026"
    assert format_when(moment, "lv") == "24. nov. 2026, 16:52"  # Riga time
    assert format_when(moment, "en") == "24 Nov 2026, 16:52"
    assert format_day(date(2027, 4, 1), "en") == "1 Apr 2027"  # never "April 1, 2027"


def test_numbers_in_the_languages_way():
    assert format_points(Decimal("97.08"), "lv") == "97,08"
    assert format_points(Decimal("97.08"), "en") == "97.08"
    assert format_points(Decimal("1234.5"), "lv") == "1\xa0234,50"
    assert format_number(Decimal("7.50"), "lv") == "7,5" and format_number(Decimal("8.00"), "en") == "8"
    assert format_number(None, "lv") == "—"
    assert format_input(Decimal("1345.67"), "lv") == "1345,67" and format_input(Decimal("1345.67"), "en") == "1345.67"
    assert format_money(Decimal("1000"), "en") == "1,000.00 €"


def test_quotes_in_the_languages_way():
    assert quoted("Saglabāt", "lv") == "„Saglabāt”" and quoted("Save", "en") == "“Save”"
    assert typographic_quotes('biedrība "Kopiena"', "lv") == "biedrība „Kopiena”"
    assert typographic_quotes("biedrība “Kopiena”", "lv") == "biedrība „Kopiena”"
    assert typographic_quotes('Association "Kopiena"', "en") == "Association “Kopiena”"
    assert typographic_quotes("", "lv") == ""


@pytest.mark.parametrize(
    ("typed", "value"),
    [("345,67", "345.67"), ("345.67", "345.67"), ("1 234,50", "1234.50"), ("1\xa0234,50 €", "1234.50"),
     ("1,234.50", "1234.50"), ("1.234,50", "1234.50"), ("12", "12.00"), ("-0", "0.00"), ("", None)],
)  # fmt: skip
def test_money_is_read_as_either_language_writes_it(app, typed, value):
    with app.test_request_context():
        assert decimal_amount(typed) == (Decimal(value) if value else None)


@pytest.mark.parametrize(
    ("typed", "locale", "message"),
    [("-5", "lv", "Summa nevar būt negatīva."), ("-5,50", "en", "The amount cannot be negative."),
     ("abc", "lv", "Ierakstiet skaitli, piemēram, 150 vai 150,50."), ("12,3,4", "en", "Write a number, e.g. 150 or 150.50."),
     ("10,555", "lv", "Summa eiro ar ne vairāk kā divām zīmēm aiz komata."), ("1" * 27, "en", "This number is too large."),
     ("٣", "lv", "Ierakstiet skaitli, piemēram, 150 vai 150,50.")],
)  # fmt: skip
def test_money_refused_with_the_right_message_in_the_readers_language(app, typed, locale, message):
    with app.test_request_context():
        with force_locale(locale), pytest.raises(Unreadable) as refused:
            decimal_amount(typed)
        assert refused.value.message == message


class _Sample(Form):
    name = StringField(validators=[InputRequired(), Length(max=3)])
    letter = StringField(validators=[Length(max=1)])
    amount = MoneyField(validators=[InputRequired()])


@pytest.mark.parametrize(
    ("locale", "data", "errors"),
    [("lv", {}, {"name": ["Šis lauks ir jāaizpilda."], "amount": ["Šis lauks ir jāaizpilda."]}),
     ("lv", {"name": "abcd", "letter": "ab", "amount": "1,5"},
      {"name": ["Teksts nedrīkst būt garāks par 3 rakstzīmēm."], "letter": ["Teksts nedrīkst būt garāks par 1 rakstzīmi."]}),
     ("en", {"name": "abcd", "amount": "x"},
      {"name": ["Field cannot be longer than 3 characters."], "amount": ["Write a number, e.g. 150 or 150.50."]})],
)  # fmt: skip
def test_wtforms_own_messages_in_the_readers_language(app, locale, data, errors):
    with app.test_request_context(method="POST", data=data), force_locale(locale):
        form = _Sample()
        assert not form.validate()
        assert form.errors == errors


@pytest.mark.parametrize("typed, expected", [("1,5", Decimal("1.50")), ("1.5", Decimal("1.50")), ("-2", Decimal("-2.00")), ("", None)])
def test_numbers_that_are_not_money_read_either_way(typed, expected):
    assert decimal_number(typed) == expected


@pytest.mark.parametrize("typed", ["1,555", "abc", "1e3", "٣"])
def test_numbers_that_are_not_money_refused_with_a_reason(typed):
    with pytest.raises(Unreadable):
        decimal_number(typed)


def test_a_criterion_weight_typed_with_a_decimal_comma(app, factory, client):
    admin = factory.admin(email="weights@example.lv")
    competition = factory.competition()
    db.session.commit()
    login(client, admin.email)
    criterion = competition.criteria[0]
    url = f"/competitions/{competition.id}/criteria/{criterion.id}/edit"
    fields = {"name_lv": criterion.name_lv, "name_en": criterion.name_en, "max_points": criterion.max_points}
    bad = client.post(url, data={**fields, "weight": "pusotra"})
    assert bad.status_code == 422 and "Ierakstiet skaitli" in bad.get_data(as_text=True) and 'value="pusotra"' in bad.get_data(as_text=True)
    assert client.post(url, data={**fields, "weight": "1,5"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(type(criterion), criterion.id).weight == Decimal("1.50")


def test_money_fields_show_the_readers_decimal_comma_in_a_text_input(app):
    """A number input cannot hold "1000,00": the field would look empty in Latvian."""

    class Budget(Form):
        amount = MoneyField("Summa")

    with app.test_request_context("/"), force_locale("lv"):
        html = str(Budget(data={"amount": Decimal("1000.00")}, meta={"csrf": False}).amount())
    assert 'type="text"' in html and 'inputmode="decimal"' in html and 'value="1000,00"' in html


def test_an_email_address_is_checked_by_how_it_is_written():
    assert is_email("anna.berzina@example.lv") and is_email("info@biedrība.lv")
    assert not any(is_email(text) for text in ("anna", "anna@", "@example.lv", "anna@example", "anna @example.lv"))
