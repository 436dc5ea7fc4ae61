"""Worked proration examples, to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from common.money import Money
from orders.proration import BillPeriod, bill_period_containing, proration_lines

APRIL = BillPeriod(date(2026, 4, 1), date(2026, 5, 1))  # a 30-day bill period


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def test_upgrade_on_day_10_of_a_30_day_period():
    # given £30 → £45 effective on 10 April (days 10..30 left: 21 days)
    # when
    lines = proration_lines(
        period=APRIL,
        effective_on=date(2026, 4, 10),
        method="daily",
        old_fee=gbp("30.00"),
        new_fee=gbp("45.00"),
    )
    # then
    assert [(line.kind, line.days, line.amount) for line in lines] == [
        ("credit", 21, gbp("-21.00")),
        ("debit", 21, gbp("31.50")),
    ]
    assert lines[0].formula == "-30 × 21 / 30 days = -21.0000 → -21.00 GBP"
    assert lines[1].formula == "45 × 21 / 30 days = 31.5000 → 31.50 GBP"
    assert sum((line.amount for line in lines), gbp("0")) == gbp("10.50")


def test_amounts_that_do_not_divide_evenly_round_half_up_per_line():
    # given £25 → £40 on 10 January in a 31-day period: 22 days left
    january = bill_period_containing(date(2026, 1, 10), bill_cycle_day=1)
    lines = proration_lines(
        period=january,
        effective_on=date(2026, 1, 10),
        method="daily",
        old_fee=gbp("25.00"),
        new_fee=gbp("40.00"),
    )
    # then 25×22/31 = 17.7419… and 40×22/31 = 28.3870…
    assert [line.amount for line in lines] == [gbp("-17.74"), gbp("28.39")]


def test_downgrade_at_the_period_end_prorates_nothing():
    # the change takes effect on the next bill date: the next bill charges the new fee in full
    next_bill_date = APRIL.end
    assert (
        proration_lines(
            period=APRIL,
            effective_on=next_bill_date,
            method="daily",
            old_fee=gbp("45.00"),
            new_fee=gbp("30.00"),
        )
        == []
    )
    assert (
        proration_lines(
            period=APRIL,
            effective_on=APRIL.start,
            method="daily",
            old_fee=gbp("45.00"),
            new_fee=gbp("30.00"),
        )
        == []
    )


def test_mid_period_termination_credits_the_unused_days():
    # terminated on 16 April: 16..30 = 15 days unused of a £30 plan
    lines = proration_lines(
        period=APRIL, effective_on=date(2026, 4, 16), method="daily", old_fee=gbp("30.00")
    )
    assert [(line.kind, line.days, line.amount) for line in lines] == [
        ("credit", 15, gbp("-15.00"))
    ]


def test_plans_without_proration_charge_whole_periods_only():
    assert (
        proration_lines(
            period=APRIL,
            effective_on=date(2026, 4, 10),
            method="none",
            old_fee=gbp("30.00"),
            new_fee=gbp("45.00"),
        )
        == []
    )


@pytest.mark.parametrize(
    ("day", "cycle_day", "start", "end", "days"),
    [
        (date(2026, 4, 10), 1, date(2026, 4, 1), date(2026, 5, 1), 30),
        (date(2026, 1, 10), 15, date(2025, 12, 15), date(2026, 1, 15), 31),
        (date(2026, 2, 28), 28, date(2026, 2, 28), date(2026, 3, 28), 28),
        (date(2026, 12, 20), 5, date(2026, 12, 5), date(2027, 1, 5), 31),
    ],
)
def test_bill_period_starts_on_the_bill_cycle_day(day, cycle_day, start, end, days):
    period = bill_period_containing(day, bill_cycle_day=cycle_day)
    assert (period.start, period.end, period.days) == (start, end, days)
    assert day in period


def test_bill_cycle_day_outside_1_to_28_is_refused():
    with pytest.raises(ValueError, match="between 1 and 28"):
        bill_period_containing(date(2026, 1, 1), bill_cycle_day=31)
