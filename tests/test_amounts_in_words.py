"""Amounts in words, as decision letters and agreements write them, in Latvian and English."""

from decimal import Decimal

import pytest

from grantflow.core.i18n import amount_in_words

LATVIAN = {
    "1.00": "viens eiro, 00 centi",
    "11.00": "vienpadsmit eiro, 00 centi",
    "21.00": "divdesmit viens eiro, 00 centi",
    "100.00": "simts eiro, 00 centi",
    "101.00": "simts viens eiro, 00 centi",
    "111.00": "simts vienpadsmit eiro, 00 centi",
    "121.00": "simts divdesmit viens eiro, 00 centi",
    "1000.00": "viens tūkstotis eiro, 00 centi",
    "1001.00": "viens tūkstotis viens eiro, 00 centi",
    "1101.21": "viens tūkstotis simts viens eiro, 21 cents",
    "2345.67": "divi tūkstoši trīs simti četrdesmit pieci eiro, 67 centi",
    "10000.00": "desmit tūkstoši eiro, 00 centi",
    "21000.00": "divdesmit viens tūkstotis eiro, 00 centi",
    "101101.00": "simts viens tūkstotis simts viens eiro, 00 centi",
    "5.01": "pieci eiro, 01 cents",
    "5.11": "pieci eiro, 11 centi",
    "5.21": "pieci eiro, 21 cents",
}
ENGLISH = {
    "1.00": "one euro, 00 cents",
    "2.01": "two euros, 01 cent",
    "1101.21": "one thousand, one hundred and one euros, 21 cents",
    "5.11": "five euros, 11 cents",
}


@pytest.mark.parametrize(("amount", "words"), LATVIAN.items())
def test_latvian(amount, words):
    assert amount_in_words(Decimal(amount), "lv") == words


@pytest.mark.parametrize(("amount", "words"), ENGLISH.items())
def test_english(amount, words):
    assert amount_in_words(Decimal(amount), "en") == words
