"""Bill periods: the days one monthly fee pays for, from the account's bill cycle day.

Shared by proration (orders) and by the usage rating's charging tiers, which count a line's
usage within the same period.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


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
