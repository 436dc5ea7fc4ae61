"""Proration by day within the bill period, with the formula a customer can check.

A plan change or termination part-way through a paid period credits the old recurring fee for
the days left and debits the new one for the same days:

    credit = -old_fee × days_left / days_in_period
    debit  =  new_fee × days_left / days_in_period

`days_left` counts from the day the change takes effect to the end of the period, that day
included. Each line is rounded to the currency's minor unit with settings.INVOICE_ROUNDING
(lines become invoice lines, the only place rounding happens).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from common.money import Money


class ProrationMethod(StrEnum):
    NONE = "none"
    DAILY = "daily"


@dataclass(frozen=True, slots=True)
class BillPeriod:
    """[start, end): the days one recurring fee pays for."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end


def _cycle_date(year: int, month: int, cycle_day: int) -> date:
    return date(year, month, min(cycle_day, calendar.monthrange(year, month)[1]))


def bill_period_containing(day: date, *, bill_cycle_day: int) -> BillPeriod:
    """The monthly period that starts on the account's bill cycle day and contains `day`."""
    if not 1 <= bill_cycle_day <= 28:
        raise ValueError("The bill cycle day is between 1 and 28.")
    start = _cycle_date(day.year, day.month, bill_cycle_day)
    if start > day:
        previous = date(day.year, day.month, 1) - timedelta(days=1)
        start = _cycle_date(previous.year, previous.month, bill_cycle_day)
    following = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return BillPeriod(start, _cycle_date(following.year, following.month, bill_cycle_day))


@dataclass(frozen=True, slots=True)
class ProrationLine:
    kind: str  # "credit" | "debit"
    description: str
    amount: Money
    days: int
    period: BillPeriod
    formula: str


def _line(kind: str, label: str, fee: Money, days: int, period: BillPeriod) -> ProrationLine:
    sign = Decimal("-1") if kind == "credit" else Decimal("1")
    exact = Money(sign * fee.amount * days / period.days, fee.currency)
    rounded = exact.rounded()
    op = "-" if kind == "credit" else ""
    formula = (
        f"{op}{fee.amount.normalize():f} × {days} / {period.days} days "
        f"= {op}{abs(exact.amount).quantize(Decimal('0.0001')):f} → {rounded.amount:f} "
        f"{fee.currency}"
    )
    return ProrationLine(kind, label, rounded, days, period, formula)


def proration_lines(
    *,
    period: BillPeriod,
    effective_on: date,
    method: ProrationMethod | str,
    old_fee: Money | None = None,
    new_fee: Money | None = None,
    old_label: str = "current plan",
    new_label: str = "new plan",
) -> list[ProrationLine]:
    """Credit for the old fee's unused days and debit for the new fee's days, or nothing.

    Nothing is prorated with method "none", when the change takes effect on the first day of a
    period (the next bill charges the new fee in full) or outside the period.
    """
    if ProrationMethod(method) is ProrationMethod.NONE:
        return []
    if effective_on == period.start or effective_on not in period:
        return []
    days_left = (period.end - effective_on).days
    lines = []
    if old_fee is not None and old_fee.amount:
        lines.append(
            _line("credit", f"Unused {days_left} days of {old_label}", old_fee, days_left, period)
        )
    if new_fee is not None and new_fee.amount:
        lines.append(_line("debit", f"{days_left} days of {new_label}", new_fee, days_left, period))
    return lines
