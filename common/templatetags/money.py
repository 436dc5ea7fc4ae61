from __future__ import annotations

from decimal import Decimal

from django import template

from common.money import Money

register = template.Library()


@register.filter(name="money")
def money_filter(value: Money | Decimal | None, currency: str | None = None) -> str:
    """`{{ account.credit_limit|money }}` or `{{ amount|money:"GBP" }}`."""
    if value is None:
        return ""
    if isinstance(value, Money):
        return value.format()
    if currency is None:
        raise template.TemplateSyntaxError("money needs a currency for a bare Decimal")
    return Money(Decimal(value), currency).format()
