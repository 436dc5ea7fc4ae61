"""Worked proration examples, to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from common.money import Money
from orders.proration import (
    BillPeriod,
    bill_period_containing,
    fee_period_containing,
    proration_lines,
)

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
    assert [(line.kind, line.days, line.charged) for line in lines] == [
        ("credit", 21, gbp("-21.00")),
        ("debit", 21, gbp("31.50")),
    ]
    assert lines[0].formula == "-30 × 21 / 30 days = -21.0000 → -21.00 GBP"
    assert lines[1].formula == "45 × 21 / 30 days = 31.5000 → 31.50 GBP"
    assert sum((line.charged for line in lines), gbp("0")) == gbp("10.50")


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
    # then 25×22/31 = 17.7419… and 40×22/31 = 28.3870…: kept exact at rating precision, and
    # rounded half up only to say what the bill will carry
    assert [line.amount for line in lines] == [gbp("-17.7419"), gbp("28.3871")]
    assert [line.charged for line in lines] == [gbp("-17.74"), gbp("28.39")]


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
    assert [(line.kind, line.days, line.charged) for line in lines] == [
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


# --- each plan period, to the cent -----------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "day", "started_on", "start", "end"),
    [
        # a month runs from the account's bill cycle day (5), whatever the plan's start
        ("month", date(2026, 4, 10), date(2026, 3, 20), date(2026, 4, 5), date(2026, 5, 5)),
        # a week runs from the day the line started the plan (a Friday): Fri..Thu
        ("week", date(2026, 4, 10), date(2026, 3, 20), date(2026, 4, 10), date(2026, 4, 17)),
        ("week", date(2026, 4, 12), date(2026, 3, 20), date(2026, 4, 10), date(2026, 4, 17)),
        # 30 days from the start: 20 Mar + 30 = 19 Apr
        ("30d", date(2026, 4, 10), date(2026, 3, 20), date(2026, 3, 20), date(2026, 4, 19)),
        ("30d", date(2026, 4, 19), date(2026, 3, 20), date(2026, 4, 19), date(2026, 5, 19)),
        # unknown start: the period starts on the day asked about
        ("week", date(2026, 4, 10), None, date(2026, 4, 10), date(2026, 4, 17)),
    ],
)
def test_a_plans_period_follows_its_recurring_period(period, day, started_on, start, end):
    # when
    found = fee_period_containing(day, period=period, bill_cycle_day=5, started_on=started_on)
    # then
    assert (found.start, found.end) == (start, end)
    assert day in found


def test_a_weekly_plan_is_prorated_over_its_7_days():
    # given a £7 weekly plan started on Friday 10 April, ended on Sunday 12 April: 5 days left
    week = fee_period_containing(
        date(2026, 4, 12), period="week", bill_cycle_day=1, started_on=date(2026, 4, 10)
    )
    # when
    [credit] = proration_lines(
        effective_on=date(2026, 4, 12), method="daily", old_fee=gbp("7"), old_period=week
    )
    # then: never "7 × 21 / 30 days"
    assert (credit.days, credit.period.days, credit.charged) == (5, 7, gbp("-5.00"))
    assert credit.formula == "-7 × 5 / 7 days = -5.0000 → -5.00 GBP"


def test_a_30_day_plan_is_prorated_over_its_30_days():
    # given a £9.99 plan on a 30-day period started 20 March; changed on 12 April: 7 days left
    period = fee_period_containing(
        date(2026, 4, 12), period="30d", bill_cycle_day=1, started_on=date(2026, 3, 20)
    )
    # when
    [credit] = proration_lines(
        effective_on=date(2026, 4, 12), method="daily", old_fee=gbp("9.99"), old_period=period
    )
    # then 9.99 × 7 / 30 = 2.331 → 2.33
    assert (credit.days, credit.period.days) == (7, 30)
    assert (credit.amount, credit.charged) == (gbp("-2.3310"), gbp("-2.33"))
    assert credit.formula == "-9.99 × 7 / 30 days = -2.3310 → -2.33 GBP"


def test_a_plan_starting_on_a_week_or_30_day_period_starts_a_whole_period():
    # a new weekly plan starting today has nothing to prorate: its first fee is a whole week
    today = date(2026, 4, 12)
    week = fee_period_containing(today, period="week", bill_cycle_day=1, started_on=today)
    assert (
        proration_lines(effective_on=today, method="daily", new_fee=gbp("7"), new_period=week) == []
    )


def test_moving_from_a_monthly_to_a_weekly_plan_prorates_each_by_its_own_period():
    # given a £30 monthly plan (bill cycle day 1) replaced by a £7 weekly plan on 10 April
    today = date(2026, 4, 10)
    month = fee_period_containing(today, period="month", bill_cycle_day=1, started_on=None)
    week = fee_period_containing(today, period="week", bill_cycle_day=1, started_on=today)
    # when
    lines = proration_lines(
        effective_on=today,
        method="daily",
        old_fee=gbp("30"),
        old_period=month,
        new_fee=gbp("7"),
        new_period=week,
    )
    # then the month's 21 unused days are credited; the week starts whole
    assert [(line.kind, line.days, line.charged) for line in lines] == [
        ("credit", 21, gbp("-21.00"))
    ]


def test_rounding_follows_the_named_rule(settings):
    # given 25 × 22 / 31 = 17.7419…, 0.5 cases need a rule: 10.125 → ?
    period = BillPeriod(date(2026, 4, 1), date(2026, 4, 9))  # 8 days
    settings.MONEY_ROUNDING = "ROUND_HALF_EVEN"
    [debit] = proration_lines(
        effective_on=date(2026, 4, 8), method="daily", new_fee=gbp("81"), new_period=period
    )
    # then 81 × 1 / 8 = 10.125: half-even keeps 10.12, half-up would give 10.13
    assert (debit.amount, debit.charged) == (gbp("10.1250"), gbp("10.12"))
    settings.MONEY_ROUNDING = "ROUND_HALF_UP"
    assert debit.charged == gbp("10.13")
