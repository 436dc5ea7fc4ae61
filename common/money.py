"""Money as a Decimal beside its ISO 4217 currency; never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from django.conf import settings

from common.errors import CurrencyMismatch


def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit (2 for GBP, 0 for JPY)."""
    return int(get_currency_precision(currency))


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money needs a Decimal amount, not {type(self.amount).__name__}")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"{self.currency!r} is not an ISO 4217 currency code")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0"), currency)

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("Money cannot be multiplied by a float")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def quantized(self) -> Money:
        """At the stored rating precision (settings.MONEY_DECIMAL_PLACES), by the named rule."""
        step = Decimal(1).scaleb(-settings.MONEY_DECIMAL_PLACES)
        return Money(self.amount.quantize(step, rounding=settings.MONEY_ROUNDING), self.currency)

    def rounded(self) -> Money:
        """At the currency's minor unit by the named rule settings.MONEY_ROUNDING: applied once,
        when a charge is posted or an invoice line is made (billing), never when quoting."""
        step = Decimal(1).scaleb(-minor_units(self.currency))
        return Money(self.amount.quantize(step, rounding=settings.MONEY_ROUNDING), self.currency)

    def format(self, locale: str | None = None) -> str:
        """For people: £12.50, or £0.0125 for a rate; shows the amount as it is, never
        rounding it behind the reader's back (round with `rounded()` first where a charge is
        meant)."""
        return format_currency(
            self.display_amount(),
            self.currency,
            locale=locale or settings.MONEY_LOCALE,
            decimal_quantization=False,
        )

    def display_amount(self) -> Decimal:
        """The amount with the currency's minor units (12.50 GBP, 1200 JPY), and more places
        only where the amount has them (a rate of 0.0125 GBP per second); never rounded."""
        exact = self.quantized().amount
        minor = Decimal(1).scaleb(-minor_units(self.currency))
        at_minor = exact.quantize(minor)
        return at_minor if at_minor == exact else exact.normalize()

    def as_json(self) -> dict[str, str]:
        return {"amount": f"{self.display_amount():f}", "currency": self.currency}

    def __str__(self) -> str:
        return self.format()
