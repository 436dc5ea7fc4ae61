"""A line's itemised usage: filters, totals, cursor pages and CSV, in the console and the API,
scoped like the line."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from billing.tests.usage.records import record
from billing.usage.itemised import UsageFilter, usage_page, usage_totals
from billing.usage.models import UsageRecord
from common.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client() -> Any:
    from rest_framework.test import APIClient

    return APIClient()


NOV: dict[str, Any] = {"period_from": date(2026, 11, 1), "period_to": date(2026, 11, 30)}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def usage(line: Any) -> list[UsageRecord]:
    return [
        record(line, started_at=at(2), seconds=90, charge="0.1500"),
        record(line, started_at=at(3), seconds=30, charge="0.0500", called="+33123456789",
               destination_class="international"),
        record(line, started_at=at(4), service="sms", parts=2, charge="0.1000"),
        record(line, started_at=at(5), service="data", bytes_down=2_500_000, charge="0.2500",
               destination_class="data"),
        record(line, started_at=at(6), direction="terminating", called=line.msisdn,
               calling="+447700900555", charge="0.0000"),
        record(line, started_at=at(7), status="rejected", reject_reason="no_rate", charge=None,
               called="+99123"),
        # outside the period: December
        record(line, started_at=datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC), charge="9.0000"),
    ]  # fmt: skip


def test_totals_count_minutes_messages_megabytes_and_charge(line: Any, usage: Any) -> None:
    # given
    filters = UsageFilter(**NOV)
    # when
    totals = usage_totals(subscriber=line, filters=filters)
    # then: 4 voice calls of 90+30+60+60 s (the terminating and the rejected are voice too)
    assert totals.count == 6
    assert totals.seconds == 240
    assert totals.minutes == Decimal("4.00")
    assert totals.messages == 2
    assert totals.megabytes == Decimal("2.50")
    assert totals.charges == {"GBP": Decimal("0.5500")}


@pytest.mark.parametrize(
    ("filters", "count", "charge"),
    [
        ({"service": "voice"}, 4, Decimal("0.2000")),
        ({"service": "sms"}, 1, Decimal("0.1000")),
        ({"direction": "terminating"}, 1, Decimal("0.0000")),
        ({"status": "rejected"}, 1, None),
        ({"destination_class": "international"}, 1, Decimal("0.0500")),
        ({"number": "3312345"}, 1, Decimal("0.0500")),
        ({"number": "900555"}, 1, Decimal("0.0000")),
        ({"period_from": date(2026, 11, 4), "period_to": date(2026, 11, 5)}, 2, Decimal("0.3500")),
    ],
)
def test_each_filter_narrows_records_and_totals(
    line: Any, usage: Any, filters: dict[str, Any], count: int, charge: Decimal | None
) -> None:
    # given
    chosen = UsageFilter(**{**NOV, **filters})
    # when
    totals = usage_totals(subscriber=line, filters=chosen)
    page = usage_page(subscriber=line, filters=chosen)
    # then
    assert totals.count == count == len(page.records)
    assert totals.charges.get("GBP") == charge


def test_cursor_pages_walk_every_record_once_newest_first(line: Any, usage: Any) -> None:
    # given
    filters = UsageFilter(**NOV)
    seen: list[int] = []
    cursor = ""
    # when
    while True:
        page = usage_page(subscriber=line, filters=filters, cursor=cursor, size=4)
        seen += [r.pk for r in page.records]
        cursor = page.next_cursor
        if not cursor:
            break
    # then
    expected = [r.pk for r in sorted(usage[:6], key=lambda r: r.started_at, reverse=True)]
    assert seen == expected


def test_a_bad_filter_names_the_field() -> None:
    # when
    with pytest.raises(ApplicationError) as caught:
        UsageFilter(period_from=date(2026, 11, 5), period_to=date(2026, 11, 1), service="fax")
    # then
    assert set(caught.value.fields) == {"period_to", "service"}


def test_console_page_shows_filtered_records_and_totals(client: Any, csr: Any, line: Any,
                                                          usage: Any) -> None:  # fmt: skip
    # given
    client.force_login(csr)
    url = reverse("crm:line-usage", args=[line.public_id])
    # when
    r = client.get(url, {**NOV, "service": "sms"}, headers={"HX-Request": "true"})
    # then
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="usage-results"' in body
    assert "<html" not in body
    assert 'data-total="count">1<' in body
    assert 'data-total="messages">2<' in body
    assert "£0.10" in body


def test_customer_page_links_each_line_to_its_usage(client: Any, csr: Any, line: Any) -> None:
    # given
    client.force_login(csr)
    # when
    r = client.get(reverse("crm:customer-detail", args=[line.account.customer.public_id]))
    # then
    assert reverse("crm:line-usage", args=[line.public_id]) in r.content.decode()


def test_console_refuses_bad_filters_with_the_reason(client: Any, csr: Any, line: Any) -> None:
    # given
    client.force_login(csr)
    # when
    r = client.get(
        reverse("crm:line-usage", args=[line.public_id]),
        {"period_from": "2026-11-05", "period_to": "2026-11-01"},
    )
    # then
    assert r.status_code == 200
    assert "The end of the period is before its start." in r.content.decode()


def test_console_csv_has_every_filtered_record(client: Any, csr: Any, line: Any,
                                               usage: Any) -> None:  # fmt: skip
    # given
    client.force_login(csr)
    # when
    r = client.get(
        reverse("crm:line-usage-csv", args=[line.public_id]), {**NOV, "service": "voice"}
    )
    # then
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert "usage-447400123456-20261101-20261130.csv" in r["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert [row["started_at"] for row in rows] == [
        "2026-11-07T10:00:00Z", "2026-11-06T10:00:00Z", "2026-11-03T10:00:00Z",
        "2026-11-02T10:00:00Z",
    ]  # fmt: skip
    assert rows[3]["charge_amount"] == "0.1500"
    assert rows[3]["currency"] == "GBP"
    assert rows[3]["billable_seconds"] == "90"
    assert rows[0]["reject_reason"] == "no_rate"
    assert rows[0]["charge_amount"] == ""


def test_csv_defuses_a_formula_in_a_number(client: Any, csr: Any, line: Any) -> None:
    # given
    record(line, started_at=at(8), called="=HYPERLINK(1)")
    client.force_login(csr)
    # when
    r = client.get(reverse("crm:line-usage-csv", args=[line.public_id]), NOV)
    # then
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert rows[0]["called_number"] == "'=HYPERLINK(1)"
    assert rows[0]["calling_number"] == "+447400123456"


@pytest.mark.parametrize(
    ("_case", "actor", "status"),
    [
        ("CSR", "csr", 200),
        ("supervisor", "supervisor", 200),
        ("own subscriber", "subscriber", 200),
        ("reseller of the customer", "reseller_a", 200),
        ("other reseller", "reseller_b", 404),
        ("other subscriber", "other_subscriber", 404),
    ],
)
def test_api_usage_is_scoped_like_the_line(
    _case: str, actor: str, status: int, request: Any, api_client: Any, line: Any, usage: Any
) -> None:
    # given
    user = request.getfixturevalue(actor)
    api_client.force_authenticate(user)
    before = UsageRecord.objects.count()
    base = f"/api/v1/subscribers/{line.public_id}/usage"
    # when
    answers = [
        api_client.get(f"{base}/", {"period_from": "2026-11-01", "period_to": "2026-11-30"}),
        api_client.get(f"{base}/totals/", {"period_from": "2026-11-01"}),
        api_client.get(f"{base}.csv", {"period_from": "2026-11-01"}),
    ]
    # then
    assert [a.status_code for a in answers] == [status] * 3
    assert UsageRecord.objects.count() == before
    if status == 404:
        assert answers[0].json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("_case", "actor", "status"),
    [
        ("CSR", "csr", 200),
        ("other subscriber", "other_subscriber", 404),
        ("reseller_b", "reseller_b", 404),
    ],
)
def test_console_usage_page_is_scoped(
    _case: str, actor: str, status: int, request: Any, client: Any, line: Any
) -> None:
    # given
    user = request.getfixturevalue(actor)
    client.force_login(user)
    # when
    r = client.get(reverse("crm:line-usage", args=[line.public_id]))
    # then: the console is closed to resellers and subscribers (403), and shows CSRs any line
    assert r.status_code in ((status,) if status == 200 else (403, 404))


def test_api_pages_with_a_cursor_and_totals(api_client: Any, csr: Any, line: Any,
                                            usage: Any) -> None:  # fmt: skip
    # given
    api_client.force_authenticate(csr)
    url = f"/api/v1/subscribers/{line.public_id}/usage/"
    query = {"period_from": "2026-11-01", "period_to": "2026-11-30", "page_size": 4}
    # when
    first = api_client.get(url, query).json()
    second = api_client.get(url, {**query, "cursor": first["next"]}).json()
    totals = api_client.get(f"{url}totals/", {**query, "service": "voice"}).json()
    # then
    assert len(first["results"]) == 4
    assert len(second["results"]) == 2
    assert second["next"] is None
    assert first["results"][0]["started_at"] == "2026-11-07T10:00:00Z"
    assert totals["count"] == 4
    assert totals["minutes"] == "4.00"
    assert totals["charges"] == [{"amount": "0.2000", "currency": "GBP"}]


def test_api_refuses_a_bad_cursor_and_bad_period(api_client: Any, csr: Any, line: Any) -> None:
    # given
    api_client.force_authenticate(csr)
    url = f"/api/v1/subscribers/{line.public_id}/usage/"
    # when
    bad_cursor = api_client.get(url, {"cursor": "not-a-cursor"})
    bad_period = api_client.get(url, {"period_from": "2026-11-05", "period_to": "2026-11-01"})
    # then
    assert bad_cursor.status_code == 422
    assert "cursor" in bad_cursor.json()["extra"]["fields"]
    assert bad_period.status_code == 422
    assert "period_to" in bad_period.json()["extra"]["fields"]


def test_api_takes_one_month_from_one_end_and_refuses_blank_choices(
    api_client: Any, csr: Any, line: Any, usage: Any
) -> None:
    # given
    api_client.force_authenticate(csr)
    url = f"/api/v1/subscribers/{line.public_id}/usage/totals/"
    # when
    from_only = api_client.get(url, {"period_from": "2026-11-01"}).json()
    to_only = api_client.get(url, {"period_to": "2026-11-30"}).json()
    too_long = api_client.get(url, {"period_from": "2000-01-01", "period_to": "2026-11-30"})
    blank = api_client.get(url, {"status": ""})
    csv_accepted = api_client.get(
        f"/api/v1/subscribers/{line.public_id}/usage.csv",
        {"period_from": "2026-11-01"},
        HTTP_ACCEPT="text/csv",
    )
    # then
    assert (from_only["period_to"], from_only["count"]) == ("2026-11-30", 6)
    assert (to_only["period_from"], to_only["count"]) == ("2026-11-01", 6)
    assert too_long.status_code == 422
    assert blank.status_code == 400
    assert blank.json()["extra"]["fields"] == {"status": ["May not be empty."]}
    assert csv_accepted.status_code == 200
    assert csv_accepted["Content-Type"].startswith("text/csv")


def test_a_csr_without_view_usage_gets_404(api_client: Any, csr: Any, line: Any) -> None:
    # given
    from django.contrib.auth.models import Permission

    csr.groups.clear()
    from crm.permissions import CrmPerm

    csr.user_permissions.add(
        Permission.objects.get(codename=CrmPerm.VIEW_ANY_CUSTOMER.split(".")[1])
    )
    api_client.force_authenticate(csr)
    # when
    r = api_client.get(f"/api/v1/subscribers/{line.public_id}/usage/")
    # then
    assert r.status_code == 404


def test_a_page_reads_only_the_months_asked_for(line: Any) -> None:
    # given: monthly partitions for October and November, a record in each
    from django.db import connection

    from billing.usage.imports import partitions_ensure
    from billing.usage.itemised import usage_records_filtered

    if connection.vendor != "postgresql":
        pytest.skip("partitions are a PostgreSQL feature")
    partitions_ensure([date(2026, 10, 1), date(2026, 11, 1)])
    record(line, started_at=datetime(2026, 10, 20, tzinfo=UTC))
    record(line, started_at=at(20))
    records = usage_records_filtered(subscriber=line, filters=UsageFilter(**NOV))
    # when
    plan = records[:51].explain()
    # then
    assert "billing_usagerecord_2026_11" in plan
    assert "billing_usagerecord_2026_10" not in plan
    assert "default" not in plan.lower()
