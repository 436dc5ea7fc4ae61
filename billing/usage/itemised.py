"""A line's itemised usage: the records of one line in one period, filtered, totalled, a page at
a time and as CSV, for the CSR console, the API and self-care alike.

Every read is bound by the line and the period, so on PostgreSQL the (subscriber_id,
started_at) index serves it and only the months asked for are scanned (the record table is
partitioned by month on `started_at`). Pages use a keyset cursor on (started_at, id), newest
first: one query per page whatever the depth, never an OFFSET over millions of rows.
"""

from __future__ import annotations

import base64
import binascii
import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.utils import timezone

from billing.usage.models import UsageRecord
from common.errors import ApplicationError
from common.models import DecimalSum
from common.types import Actor
from crm.models import Subscriber
from crm.permissions import CrmPerm
from crm.selectors import subscriber_get_for

VIEW_USAGE = "billing.view_usage"
MAX_PERIOD_DAYS = 366
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
ZERO = Decimal("0")
CSV_COLUMNS = (
    "started_at",
    "service",
    "direction",
    "calling_number",
    "called_number",
    "destination_class",
    "roaming_zone",
    "duration_seconds",
    "billable_seconds",
    "message_parts",
    "bytes_up",
    "bytes_down",
    "status",
    "reject_reason",
    "allowance_units",
    "rated_units",
    "charge_amount",
    "currency",
)


def usage_line_get_for(actor: Actor, public_id: Any) -> Subscriber:
    """The line whose usage `actor` may read, or 404: the line must be visible to them
    (crm scoping: staff see all, a reseller its own customers' lines, a subscriber their own),
    and staff must also hold billing.view_usage. A scoped user (reseller, subscriber) reads the
    usage of the lines they can see."""
    subscriber = subscriber_get_for(actor, public_id)
    if actor.has_perm(CrmPerm.VIEW_ANY_CUSTOMER) and not actor.has_perm(VIEW_USAGE):
        raise Http404("No such line.")
    return subscriber


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of `day`'s month."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def this_month() -> tuple[date, date]:
    return month_of(timezone.now().astimezone(_zone()).date())


def period_bounds(period_from: date, period_to: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the days from `period_from` to `period_to` inclusive, in the
    operator's time zone."""
    zone = _zone()
    start = datetime.combine(period_from, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(period_to + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


@dataclass(frozen=True, slots=True)
class UsageFilter:
    """What the console form and the API query parameters narrow a line's usage to."""

    period_from: date
    period_to: date
    service: str = ""
    direction: str = ""
    status: str = ""
    destination_class: str = ""
    number: str = ""

    def __post_init__(self) -> None:
        problems: dict[str, list[str]] = {}
        if self.period_to < self.period_from:
            problems["period_to"] = ["The end of the period is before its start."]
        elif (self.period_to - self.period_from).days >= MAX_PERIOD_DAYS:
            problems["period_to"] = [f"A period is at most {MAX_PERIOD_DAYS} days."]
        choices = {
            "service": UsageRecord.Service.values,
            "direction": UsageRecord.Direction.values,
            "status": UsageRecord.Status.values,
            "destination_class": UsageRecord.DestinationClass.values,
        }
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value and value not in allowed:
                problems[name] = [f"{value!r} is not one of: {', '.join(allowed)}."]
        if len(self.number) > 40:
            problems["number"] = ["At most 40 characters."]
        if problems:
            raise ApplicationError("Some filters are not valid.", code="invalid", fields=problems)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return period_bounds(self.period_from, self.period_to)


def usage_records_filtered(
    *, subscriber: Subscriber, filters: UsageFilter
) -> QuerySet[UsageRecord]:
    """The line's records in the period matching the filters (all statuses unless one is
    asked for), newest first."""
    since, until = filters.bounds
    records = UsageRecord.objects.filter(
        subscriber_id=subscriber.pk, started_at__gte=since, started_at__lt=until
    )
    if filters.service:
        records = records.filter(service=filters.service)
    if filters.direction:
        records = records.filter(direction=filters.direction)
    if filters.status:
        records = records.filter(status=filters.status)
    if filters.destination_class:
        records = records.filter(destination_class=filters.destination_class)
    if filters.number:
        digits = filters.number.strip()
        records = records.filter(
            Q(called_number__icontains=digits)
            | Q(calling_number__icontains=digits)
            | Q(called_e164__contains=digits)
            | Q(calling_e164__contains=digits)
        )
    return records.order_by("-started_at", "-id")


@dataclass(slots=True)
class UsageTotals:
    count: int = 0
    seconds: int = 0
    messages: int = 0
    data_bytes: int = 0
    charges: dict[str, Decimal] = field(default_factory=dict)

    @property
    def minutes(self) -> Decimal:
        return (Decimal(self.seconds) / 60).quantize(Decimal("0.01"))

    @property
    def megabytes(self) -> Decimal:
        return (Decimal(self.data_bytes) / 1_000_000).quantize(Decimal("0.01"))


def usage_totals(*, subscriber: Subscriber, filters: UsageFilter) -> UsageTotals:
    """Count, billable minutes, messages (SMS and MMS parts), data volume and charge per
    currency of the filtered records: one aggregate query, grouped by currency."""
    rows = (
        usage_records_filtered(subscriber=subscriber, filters=filters)
        .order_by()
        .values("currency")
        .annotate(
            n=Count("id"),
            seconds=Coalesce(Sum("billable_seconds", filter=Q(service="voice")), 0),
            messages=Coalesce(
                Sum(
                    Greatest(F("message_parts"), Value(1)),
                    filter=Q(service__in=["sms", "mms"]),
                ),
                0,
            ),
            data_bytes=Coalesce(
                Sum(F("bytes_up") + F("bytes_down"), filter=Q(service="data")), Value(0)
            ),
            charge=DecimalSum(
                Case(When(charge_amount__isnull=False, then=F("charge_amount")), default=None)
            ),
        )
    )
    totals = UsageTotals()
    for row in rows:
        totals.count += row["n"]
        totals.seconds += int(row["seconds"])
        totals.messages += int(row["messages"])
        totals.data_bytes += int(row["data_bytes"])
        if row["currency"] and row["charge"] is not None:
            totals.charges[row["currency"]] = (
                totals.charges.get(row["currency"], ZERO) + row["charge"]
            )
    return totals


# --- cursor pages -----------------------------------------------------------------------------


def cursor_encode(record: UsageRecord) -> str:
    raw = f"{record.started_at.isoformat()}|{record.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """The (started_at, id) a page continues after; a cursor not made here is a field error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        started = datetime.fromisoformat(moment)
        if started.tzinfo is None:
            raise ValueError(moment)
        return started, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ApplicationError(
            "The cursor is not valid.",
            code="invalid",
            fields={"cursor": ["Use the `next` cursor of a previous page, unchanged."]},
        ) from exc


@dataclass(frozen=True, slots=True)
class UsagePage:
    records: list[UsageRecord]
    next_cursor: str


def usage_page(
    *, subscriber: Subscriber, filters: UsageFilter, cursor: str = "", size: int = PAGE_SIZE
) -> UsagePage:
    """One page of the filtered records after `cursor`, newest first, in one query (it reads
    one row more than the page to know whether another page follows)."""
    records = usage_records_filtered(subscriber=subscriber, filters=filters)
    if cursor:
        started, pk = cursor_decode(cursor)
        records = records.filter(Q(started_at__lt=started) | Q(started_at=started, id__lt=pk))
    found = list(records[: size + 1])
    more = len(found) > size
    found = found[:size]
    return UsagePage(found, cursor_encode(found[-1]) if more and found else "")


# --- CSV ---------------------------------------------------------------------------------------


def usage_csv_rows(*, subscriber: Subscriber, filters: UsageFilter) -> Iterator[list[str]]:
    """The header, then every filtered record as CSV cells, streamed from a server-side cursor
    a couple of thousand rows at a time (never the whole period in memory)."""
    yield list(CSV_COLUMNS)
    records = usage_records_filtered(subscriber=subscriber, filters=filters).values_list(
        *CSV_COLUMNS
    )
    for row in records.iterator(chunk_size=2000):
        yield [_cell(value) for value in row]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A number as received could be a spreadsheet formula: "=cmd|..." is shown, never run.
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(".", "", 1).isdigit()
    ):
        return "'" + text
    return text


def usage_csv_name(*, subscriber: Subscriber, filters: UsageFilter) -> str:
    number = subscriber.msisdn.lstrip("+")
    return f"usage-{number}-{filters.period_from:%Y%m%d}-{filters.period_to:%Y%m%d}.csv"
