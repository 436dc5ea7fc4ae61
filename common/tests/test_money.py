from __future__ import annotations

from decimal import Decimal

import pytest

from common.errors import CurrencyMismatch
from common.money import Money


def test_money_adds_within_one_currency():
    assert Money(Decimal("1.10"), "GBP") + Money(Decimal("2.25"), "GBP") == Money(
        Decimal("3.35"), "GBP"
    )


def test_money_refuses_to_mix_currencies():
    with pytest.raises(CurrencyMismatch):
        Money(Decimal("1"), "GBP") + Money(Decimal("1"), "EUR")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        Money(1.5, "GBP")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(Decimal("1"), "GBP") * 1.5


def test_rounding_uses_the_currency_minor_unit():
    assert Money(Decimal("2.345"), "GBP").rounded().amount == Decimal("2.35")
    assert Money(Decimal("2.5"), "JPY").rounded().amount == Decimal("3")


def test_json_carries_the_amount_as_a_string_at_rating_precision():
    assert Money(Decimal("12.5"), "EUR").as_json() == {"amount": "12.5000", "currency": "EUR"}


def test_formatting_follows_the_locale():
    assert Money(Decimal("1234.5"), "GBP").format("en_GB") == "£1,234.50"
