"""Serializer fields every API shares: money as strings beside its currency, and fields whose
published schema says exactly what they accept (a request the schema allows is never refused
for its shape; the serializers answer 400 only for what the schema forbids)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django_countries import countries
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.money import Money

AMOUNT_INTEGER_DIGITS = 14
AMOUNT_PLACES = 4
# ASCII digits with an optional point: never "1_000", " 10 ", "1e3" or other scripts' digits,
# all of which Decimal() would take.
AMOUNT_PATTERN = rf"^[0-9]{{1,{AMOUNT_INTEGER_DIGITS}}}(\.[0-9]{{1,{AMOUNT_PLACES}}})?$"
SIGNED_AMOUNT_PATTERN = "^-?" + AMOUNT_PATTERN[1:]


class AmountStringField(serializers.DecimalField):
    """A decimal amount written as a JSON string of ASCII digits with an optional point and up
    to four places, as its schema pattern says. A JSON number is refused: money never passes
    through a float."""

    def __init__(self, *, negative: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", AMOUNT_INTEGER_DIGITS + AMOUNT_PLACES)
        kwargs.setdefault("decimal_places", AMOUNT_PLACES)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)
        self.negative = negative
        self.pattern = SIGNED_AMOUNT_PATTERN if negative else AMOUNT_PATTERN
        self.validators = []  # the pattern says all the max_digits validator would

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not re.fullmatch(self.pattern, data, re.ASCII):
            sign = "an optional minus sign, " if self.negative else ""
            raise serializers.ValidationError(
                f"Write the amount as a string of digits with {sign}an optional point and up to "
                f'{AMOUNT_PLACES} decimal places, e.g. "12.50".',
                code="invalid",
            )
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField would take a number)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CurrencyField(serializers.ChoiceField):
    """An ISO 4217 code the operator bills in (settings.CURRENCIES, read when the schema is
    built and on every request, so a change of settings needs no code change)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "ISO 4217, one of the operator's currencies.")
        super().__init__(choices=list(settings.CURRENCIES), **kwargs)
        self.error_messages["invalid_choice"] = "{input} is not a currency the operator bills in."

    def to_internal_value(self, data: Any) -> Any:
        self.choices = list(settings.CURRENCIES)
        return super().to_internal_value(data)


class MoneySerializer(serializers.Serializer):
    """Money as strings beside its ISO 4217 currency: {"amount": "100.0000", "currency": "GBP"}.
    An amount sent in is never negative; one sent out may be (a credit)."""

    amount = AmountStringField()
    currency = CurrencyField()

    class Meta:
        ref_name = "Money"

    def to_representation(self, instance: Money) -> dict[str, str]:
        return instance.as_json()

    def to_internal_value(self, data: Any) -> Money:
        values = super().to_internal_value(data)
        return Money(values["amount"], values["currency"])


@extend_schema_field(MoneySerializer)
class AmountField(serializers.Field):
    """A row's `<name>_amount` beside its `currency` (or the currency of the related object
    named by `currency_from`), rendered as Money strings."""

    def __init__(self, amount: str, *, currency_from: str = "", **kwargs: Any) -> None:
        kwargs["source"] = "*"
        super().__init__(**kwargs)
        self.amount = amount
        self.currency_from = currency_from

    def to_representation(self, value: Any) -> dict[str, str]:
        owner = getattr(value, self.currency_from) if self.currency_from else value
        return Money(getattr(value, self.amount), owner.currency).as_json()


@extend_schema_field(
    {
        "type": "string",
        "enum": ["", *countries],
        "description": "ISO 3166-1 alpha-2, e.g. GB; blank for the operator's country.",
    }
)
class CountryField(serializers.ChoiceField):
    """An ISO 3166-1 alpha-2 country code from django-countries' maintained list, or blank."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(choices=list(countries), **kwargs)
        self.error_messages["invalid_choice"] = (
            "{input} is not an ISO 3166 country code; use one such as GB."
        )
