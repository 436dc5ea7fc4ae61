"""The usage reconciliation report on a crafted data set: two sources, one clean batch and one
whose counters disagree with its records, a stuck record, a rated record without a charge, and
usage on a line after its termination."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from billing.tests.usage.records import batch, record
from billing.usage.reconciliation import usage_reconcile
from billing.usage.rerating_models import RerateRun

pytestmark = pytest.mark.django_db

NOV: dict[str, Any] = {"period_from": date(2026, 11, 1), "period_to": date(2026, 11, 30)}


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def crafted(line: Any) -> dict[str, Any]:
    from crm.tests.factories import SubscriberFactory

    prepaid = SubscriberFactory(
        account__customer=line.account.customer, account__payment_type="prepaid",
        msisdn="+447400123457", imsi="234100000000002", status="active",
    )  # fmt: skip
    ended = SubscriberFactory(
        account__customer=line.account.customer, msisdn="+447400123458",
        imsi="234100000000003", status="terminated", status_changed_at=at(10),
    )  # fmt: skip
    clean = batch(
        "switch-a", received_count=6, rated_count=4, rejected_count=1, duplicate_count=1,
        total_duration_seconds=240, reject_reasons={"unknown_line": 1},
    )  # fmt: skip
    clean.created_at = at(20)
    clean.save()
    record(line, batch_of=clean, started_at=at(2), seconds=60, charge="0.1000")
    record(line, batch_of=clean, started_at=at(3), seconds=120, charge="0.2000", status="billed")
    record(prepaid, batch_of=clean, started_at=at(4), service="sms", charge="0.0500")
    record(line, batch_of=clean, started_at=at(5), status="rejected", charge=None,
           reject_reason="unknown_line")  # fmt: skip
    record(ended, batch_of=clean, started_at=at(12), seconds=60, charge="0.1000")
    api = batch("api-x", received_count=3, rated_count=3)
    api.created_at = at(21)
    api.save()
    record(line, batch_of=api, started_at=at(6), seconds=30, charge=None)
    record(line, batch_of=api, started_at=at(7), status="guided", charge=None,
           created_at=timezone.now() - timedelta(hours=2))  # fmt: skip
    record(line, batch_of=api, started_at=at(8), seconds=180, charge="0.3000")
    outside = batch("switch-a", received_count=1, rated_count=1)
    outside.created_at = datetime(2026, 10, 31, 23, tzinfo=UTC)
    outside.save()
    return {"clean": clean, "api": api, "ended": ended}


def test_figures_per_source_and_in_total(crafted: Any) -> None:
    # when
    report = usage_reconcile(**NOV)
    # then
    api, switch = report.sources
    assert (switch.source, switch.batches, switch.received, switch.rated) == ("switch-a", 1, 6, 4)
    assert (switch.rejected, switch.duplicate, switch.received_minutes) == (1, 1, Decimal("4.00"))
    assert (switch.records, switch.records_rated, switch.records_billed) == (5, 3, 1)
    assert switch.record_reject_reasons == {"unknown_line": 1}
    assert switch.rated_minutes == Decimal("4.00")
    assert switch.rated_amounts == {"GBP": Decimal("0.4500")}
    assert switch.billed_amounts == {"GBP": Decimal("0.2000")}
    assert switch.prepaid_awaiting_debit == {"GBP": Decimal("0.0500")}
    assert switch.postpaid_awaiting_bill == {"GBP": Decimal("0.2000")}
    assert (api.records, api.records_rated, api.records_in_flight) == (3, 2, 1)
    assert api.rated_amounts == {"GBP": Decimal("0.3000")}
    assert report.total.received == 9
    assert report.total.rated_amounts == {"GBP": Decimal("0.7500")}
    assert not report.invoicing_exists


def test_every_discrepancy_is_listed(crafted: Any) -> None:
    # when
    report = usage_reconcile(**NOV)
    # then
    found = {(d.kind, d.subject.split(" · ")[0], d.expected, d.found) for d in report.discrepancies}
    assert found == {
        ("counter_vs_records", "api-x", "rated: 3 (batch counter)", "2 in the records table"),
        ("stuck", "api-x", "0", "1"),
        ("no_charge", "api-x", "0", "1"),
        ("after_termination", "+447400123458", "0", "1"),
    }


def test_one_source_only(crafted: Any) -> None:
    # when
    report = usage_reconcile(**NOV, source="switch-a")
    # then
    assert [f.source for f in report.sources] == ["switch-a"]
    assert [d.kind for d in report.discrepancies] == ["after_termination"]


def test_page_and_csv_show_the_figures(client: Any, admin: Any, crafted: Any) -> None:
    # given
    client.force_login(admin)
    query = {"period_from": "2026-11-01", "period_to": "2026-11-30"}
    # when
    page = client.get(reverse("reconciliation:report"), query)
    sheet = client.get(reverse("reconciliation:report-csv"), query)
    # then
    assert page.status_code == 200
    body = page.content.decode()
    assert "Discrepancies (4)" in body
    assert "No invoices yet" in body
    rows = list(csv.reader(io.StringIO(b"".join(sheet.streaming_content).decode())))
    assert rows[0][:3] == ["source", "batches", "received"]
    assert rows[1][:6] == ["api-x", "1", "3", "0", "3", "0"]
    assert rows[3][0] == "All sources"
    assert rows[3][15] == "0.7500 GBP"
    assert len([r for r in rows if r and r[0].startswith("Batch counter disagrees")]) == 1


@pytest.mark.parametrize(
    ("_case", "actor", "status"),
    [("admin", "admin", 200), ("CSR", "csr", 200), ("reseller", "reseller_a", 403),
     ("subscriber", "subscriber", 403)],
)  # fmt: skip
def test_report_is_for_staff_who_see_usage(
    _case: str, actor: str, status: int, request: Any, client: Any
) -> None:
    # given
    client.force_login(request.getfixturevalue(actor))
    # when
    r = client.get(reverse("reconciliation:report"))
    # then
    assert r.status_code == status


def test_report_refuses_a_reversed_period(client: Any, admin: Any) -> None:
    # given
    client.force_login(admin)
    # when
    r = client.get(
        reverse("reconciliation:report"), {"period_from": "2026-11-30", "period_to": "2026-11-01"}
    )
    # then
    assert "The end of the period is before its start." in r.content.decode()


def test_command_prints_the_same_figures(crafted: Any) -> None:
    # given
    out = io.StringIO()
    # when
    call_command("usage_reconcile", "--from", "2026-11-01", "--to", "2026-11-30", stdout=out)
    # then
    text = out.getvalue()
    assert "switch-a" in text
    assert "api-x" in text
    assert "Discrepancies: 4" in text
    assert RerateRun.objects.count() == 0
