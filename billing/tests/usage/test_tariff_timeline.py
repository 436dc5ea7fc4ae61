"""Usage rated by the tariffs stored in the database: the plan's tariff, the version in force
at each call's time, exactly the cost that the quote gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.rating.demo import tariffs_demo_ensure
from billing.rating.models import TariffVersion
from billing.rating.plan import SECOND, TariffPlan
from billing.rating.services import (
    rating_quote,
    tariff_version_content_replace,
    tariff_version_draft,
    tariff_version_publish,
)
from billing.tests.usage.conftest import asterisk_row, csv_text, write
from billing.usage.models import UsageRecord
from billing.usage.services import usage_batch_ingest_file

pytestmark = pytest.mark.django_db

ME = "07400123456"
HOLIDAYS = {(12, 25), (12, 26), (1, 1)}


@pytest.fixture(autouse=True)
def _stored_tariffs(settings):
    settings.USAGE_TARIFF_RESOLVER = "billing.rating.timeline.usage_tariff_for_plan"


@pytest.fixture
def tariffs(admin):
    return tariffs_demo_ensure(admin)


@pytest.fixture
def plan(db, tariffs):
    from orders.tests.factories import PricePlanFactory

    return PricePlanFactory(code="talk", currency="GBP", tariff=tariffs["postpaid-standard"])


def weekday_at_ten(days_back: int = 1) -> datetime:
    """10:00 UTC (peak; the tests run with TIME_ZONE UTC) on a working day in the past."""
    moment = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    moment -= timedelta(days=days_back)
    while moment.isoweekday() > 5 or (moment.month, moment.day) in HOLIDAYS:
        moment -= timedelta(days=1)
    return moment


def ingest(tmp_path, rows, actor):
    path = write(tmp_path, "Master.csv", csv_text(rows))
    return usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx1", actor=actor)


def test_a_call_is_rated_by_the_plans_stored_tariff_as_the_quote_prices_it(
    line, admin, tariffs, tmp_path
):
    # given a 90 s peak call to another network's mobile
    start = weekday_at_ten()
    rows = [
        asterisk_row(ME, "07700900123", start=start, billsec=90, ring=0, uniqueid="1764000000.1")
    ]
    # when
    batch = ingest(tmp_path, rows, admin)
    # then: 3p to connect, the first minute as a block at 15p, then 30 s per second at 15p/min
    record = UsageRecord.objects.get(source_record_id="1764000000.1")
    assert record.status == UsageRecord.Status.RATED
    assert record.charge_amount == Decimal("0.2550")
    version = tariffs["postpaid-standard"].versions.get(status=TariffVersion.Status.PUBLISHED)
    assert record.tariff_version_id == version.pk
    quote = rating_quote(
        tariff=tariffs["postpaid-standard"],
        category="call",
        destination="447700900123",
        answer_time=start,
        usage=90 * SECOND,
        subject="talk",
    )
    assert quote.cost.amount == record.charge_amount
    assert batch.total_amount == Decimal("0.2550")


def test_a_corrected_version_rates_only_calls_from_its_start(line, admin, tariffs, tmp_path):
    # given a correction of the mobile peak price, in force from two days ago
    tariff = tariffs["postpaid-standard"]
    draft = tariff_version_draft(tariff=tariff, actor=admin, reason="Peak price correction")
    content = draft.content
    for rate in content["rates"]:
        if rate["id"] == "RT_MOBILE_PEAK":
            for slot in rate["slots"]:
                slot["price"] = "0.1200"
    draft = tariff_version_content_replace(
        version=draft, actor=admin, plan=TariffPlan.from_dict(content), summary="12p peak"
    )
    corrected_from = weekday_at_ten(1).replace(hour=0) - timedelta(days=1)
    tariff_version_publish(
        version=draft, actor=admin, reason="Peak price correction", valid_from=corrected_from
    )
    old_call = corrected_from - timedelta(days=3)
    while old_call.isoweekday() > 5 or (old_call.month, old_call.day) in HOLIDAYS:
        old_call -= timedelta(days=1)
    old_call = old_call.replace(hour=10)
    rows = [
        asterisk_row(
            ME, "07700900123", start=old_call, billsec=60, ring=0, uniqueid="1764000000.11"
        ),
        asterisk_row(
            ME, "07700900123", start=weekday_at_ten(), billsec=60, ring=0, uniqueid="1764000000.12"
        ),
    ]
    # when
    ingest(tmp_path, rows, admin)
    # then
    old = UsageRecord.objects.get(source_record_id="1764000000.11")
    new = UsageRecord.objects.get(source_record_id="1764000000.12")
    assert old.charge_amount == Decimal("0.1800")  # 0.03 + 0.15
    assert new.charge_amount == Decimal("0.1500")  # 0.03 + 0.12
    assert old.tariff_version_id != new.tariff_version_id == draft.pk


def test_a_call_before_any_version_is_in_force_is_rejected_with_the_reason(
    line, admin, tariffs, tmp_path
):
    # given a tariff whose only version starts tomorrow
    tariff = tariffs["postpaid-standard"]
    TariffVersion.objects.filter(tariff=tariff).update(
        valid_from=datetime.now(UTC) + timedelta(days=1)
    )
    rows = [
        asterisk_row(ME, "07700900123", start=weekday_at_ten(), billsec=60, uniqueid="1764000000.2")
    ]
    # when
    batch = ingest(tmp_path, rows, admin)
    # then: kept, not free
    record = UsageRecord.objects.get(source_record_id="1764000000.2")
    assert (record.status, record.reject_reason) == ("rejected", "no_rate")
    assert "no_tariff_in_force" in record.reject_detail or "in force" in record.reject_detail
    assert batch.rejected_count == 1
    assert batch.received_count == batch.rated_count + batch.rejected_count + batch.duplicate_count


def test_a_plan_without_a_tariff_rejects_usage_beyond_allowances(customer, admin, tmp_path):
    # given a line whose plan has no tariff and no tiers
    from crm.tests.factories import SubscriberFactory
    from orders.tests.factories import PricePlanFactory

    SubscriberFactory(
        account__customer=customer,
        account__currency="GBP",
        msisdn="+447400123456",
        imsi="234100000000001",
        status="active",
        plan=PricePlanFactory(code="bare", currency="GBP"),
    )
    rows = [
        asterisk_row(ME, "07700900123", start=weekday_at_ten(), billsec=60, uniqueid="1764000000.3")
    ]
    # when
    ingest(tmp_path, rows, admin)
    # then
    record = UsageRecord.objects.get(source_record_id="1764000000.3")
    assert (record.status, record.reject_reason) == ("rejected", "no_rate")
