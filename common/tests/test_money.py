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


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("12.5", "EUR", "12.50"),
        ("12", "GBP", "12.00"),
        ("-21.0000", "GBP", "-21.00"),
        ("1200", "JPY", "1200"),
        ("0.0125", "GBP", "0.0125"),  # a per-second rate keeps its places
        ("7.5", "JPY", "7.5"),
        ("1.234", "KWD", "1.234"),  # three minor units
        ("0", "USD", "0.00"),
    ],
)
def test_json_carries_the_amount_in_the_currency_minor_units(amount, currency, shown):
    assert Money(Decimal(amount), currency).as_json() == {"amount": shown, "currency": currency}


def test_mixing_currencies_names_both():
    with pytest.raises(CurrencyMismatch, match="GBP and EUR cannot be combined"):
        Money(Decimal("1"), "GBP") - Money(Decimal("1"), "EUR")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("ROUND_HALF_UP", "2.35"), ("ROUND_HALF_EVEN", "2.34"), ("ROUND_DOWN", "2.34")],
)
def test_rounding_follows_the_named_rule_in_settings(settings, rule, expected):
    settings.MONEY_ROUNDING = rule
    assert Money(Decimal("2.345"), "GBP").rounded().amount == Decimal(expected)


def test_formatting_follows_the_locale():
    assert Money(Decimal("1234.5"), "GBP").format("en_GB") == "£1,234.50"
