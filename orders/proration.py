"""Proration by day within a plan's own recurring period, with the formula a customer can check.

A plan change or termination part-way through a paid period credits the old recurring fee for
the days left and debits the new one for the days left of its period:

    credit = -old_fee × days_left / days_in_period
    debit  =  new_fee × days_left / days_in_period

`days_left` counts from the day the change takes effect to the end of the period, that day
included. A plan's period follows its recurring period (PricePlan.Period):

- month: from the account's bill cycle day to the same day next month (28 to 31 days);
- week: 7 days, and 30d: 30 days, counted from the day the line started the plan.

A plan that starts today on a week or 30-day period starts a whole period, so nothing is
prorated; its first fee is a recurring charge like every other.

Lines keep the exact amount (at rating precision). Rounding to the currency's minor unit
happens once, when the charge is posted (billing.services.charge_post, by the named rule
settings.MONEY_ROUNDING); the formula shows both, so the customer sees what will be charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from billing.periods import BillPeriod, bill_period_containing
from common.money import Money


class ProrationMethod(StrEnum):
    NONE = "none"
    DAILY = "daily"


class FeePeriod(StrEnum):
    """The same values as PricePlan.Period."""

    MONTH = "month"
    WEEK = "week"
    DAYS_30 = "30d"


FIXED_PERIOD_DAYS = {FeePeriod.WEEK: 7, FeePeriod.DAYS_30: 30}


def fee_period_containing(
    day: date, *, period: str, bill_cycle_day: int, started_on: date | None
) -> BillPeriod:
    """The recurring period of a plan that contains `day`: a month from the account's bill
    cycle day, or a week or 30 days counted from `started_on` (the day the line started the
    plan; `day` itself when unknown or later)."""
    kind = FeePeriod(period)
    if kind is FeePeriod.MONTH:
        return bill_period_containing(day, bill_cycle_day=bill_cycle_day)
    length = FIXED_PERIOD_DAYS[kind]
    anchor = started_on if started_on is not None and started_on <= day else day
    elapsed = (day - anchor).days // length
    start = anchor + timedelta(days=elapsed * length)
    return BillPeriod(start, start + timedelta(days=length))


@dataclass(frozen=True, slots=True)
class ProrationLine:
    kind: str  # "credit" | "debit"
    description: str
    amount: Money  # exact, at rating precision
    days: int
    period: BillPeriod
    formula: str

    @property
    def charged(self) -> Money:
        """What the bill will carry: the amount rounded by the named rule."""
        return self.amount.rounded()


def _line(kind: str, label: str, fee: Money, days: int, period: BillPeriod) -> ProrationLine:
    sign = Decimal("-1") if kind == "credit" else Decimal("1")
    exact = Money(sign * fee.amount * days / period.days, fee.currency).quantized()
    op = "-" if kind == "credit" else ""
    formula = (
        f"{op}{fee.amount.normalize():f} × {days} / {period.days} days "
        f"= {op}{abs(exact.amount):f} → {exact.rounded().amount:f} {fee.currency}"
    )
    return ProrationLine(kind, label, exact, days, period, formula)


def proration_lines(
    *,
    effective_on: date,
    method: ProrationMethod | str,
    old_fee: Money | None = None,
    old_period: BillPeriod | None = None,
    new_fee: Money | None = None,
    new_period: BillPeriod | None = None,
    old_label: str = "current plan",
    new_label: str = "new plan",
    period: BillPeriod | None = None,
) -> list[ProrationLine]:
    """Credit for the old fee's unused days of its period and debit for the new fee's days
    of its period, or nothing.

    `period` stands for both when the old and the new fee share one. Nothing is prorated with
    method "none", and a side whose period starts on `effective_on` (a whole period is then
    charged in full) or does not contain it prorates nothing.
    """
    if ProrationMethod(method) is ProrationMethod.NONE:
        return []
    old_period = old_period or period
    new_period = new_period or period
    lines = []
    for kind, fee, fee_period, label in (
        ("credit", old_fee, old_period, old_label),
        ("debit", new_fee, new_period, new_label),
    ):
        if fee is None or not fee.amount or fee_period is None:
            continue
        if effective_on == fee_period.start or effective_on not in fee_period:
            continue
        days_left = (fee_period.end - effective_on).days
        description = (
            f"Unused {days_left} days of {label}"
            if kind == "credit"
            else f"{days_left} days of {label}"
        )
        lines.append(_line(kind, description, fee, days_left, fee_period))
    return lines
