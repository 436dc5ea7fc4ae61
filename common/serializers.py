"""Serializer fields every API shares: money as strings beside its currency."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.money import Money


class MoneySerializer(serializers.Serializer):
    """Money as strings beside its ISO 4217 currency: {"amount": "100.0000", "currency": "GBP"}."""

    amount = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", help_text="ISO 4217, e.g. GBP")

    class Meta:
        ref_name = "Money"

    def to_representation(self, instance: Money) -> dict[str, str]:
        return instance.as_json()

    def to_internal_value(self, data: Any) -> Money:
        values = super().to_internal_value(data)
        return Money(values["amount"], values["currency"].upper())


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
