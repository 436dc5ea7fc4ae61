"""Rejected records are recycled once their cause is fixed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.tests.usage.conftest import asterisk_row, at, csv_text, write
from billing.usage.models import UsageBatch, UsageRecord
from billing.usage.selectors import usage_reject_queue
from billing.usage.services import usage_batch_ingest_file, usage_recycle
from common.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_an_unknown_line_is_rated_once_the_line_exists(customer, plan, admin, tmp_path):
    # given: a call from a number no line has yet
    path = write(
        tmp_path,
        "Master.csv",
        csv_text(
            [asterisk_row("07400555000", "07700900123", start=at(), billsec=120, uniqueid="3.1")]
        ),
    )
    batch = usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx", actor=admin)
    assert usage_reject_queue(actor=admin, reason="unknown_line").count() == 1
    from crm.tests.factories import SubscriberFactory

    line = SubscriberFactory(account__customer=customer, msisdn="+447400555000", plan=plan)
    # when
    counts = usage_recycle(
        records=usage_reject_queue(actor=admin), actor=admin, reason="line provisioned late"
    )
    # then
    assert counts == {"rated": 1, "rejected": 0, "skipped": 0}
    record = UsageRecord.objects.get()
    assert (record.status, record.subscriber_id, record.reject_reason) == ("rated", line.pk, "")
    assert record.charge_amount == Decimal("0.2000")
    assert record.rating_trace["recycled"][0]["previous_reason"] == "unknown_line"
    assert record.rating_trace["recycled"][0]["reason"] == "line provisioned late"
    batch.refresh_from_db()
    assert (batch.rated_count, batch.rejected_count, batch.received_count) == (1, 0, 1)
    assert batch.reject_reasons == {}
    assert batch.total_amount == Decimal("0.2000")
    assert usage_reject_queue(actor=admin).count() == 0


def test_a_record_still_unusable_is_rejected_again_with_its_new_reason(
    line, admin, tmp_path, settings
):
    # given: a call rejected for want of a rate
    path = write(
        tmp_path,
        "Master.csv",
        csv_text([asterisk_row("07400123456", "+99912345678", start=at(), billsec=60)]),
    )
    batch = usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx", actor=admin)
    assert UsageRecord.objects.get().reject_reason == "no_rate"
    # when: recycled before any tariff covers it, and the line was terminated meanwhile
    line.status = "terminated"
    line.status_changed_at = at(days_ago=3)
    line.save()
    counts = usage_recycle(records=UsageRecord.objects.all(), actor=admin, reason="retry")
    # then
    assert counts["rejected"] == 1
    record = UsageRecord.objects.get()
    assert (record.status, record.reject_reason) == ("rejected", "unknown_line")
    batch.refresh_from_db()
    assert batch.reject_reasons == {"unknown_line": 1}
    assert batch.received_count == batch.rated_count + batch.rejected_count + batch.duplicate_count


def test_records_not_rejected_are_left_alone(line, admin, tmp_path):
    # given
    path = write(
        tmp_path,
        "Master.csv",
        csv_text([asterisk_row("07400123456", "07700900123", start=at(), billsec=60)]),
    )
    usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx", actor=admin)
    # when
    counts = usage_recycle(records=UsageRecord.objects.all(), actor=admin, reason="again")
    # then
    assert counts == {"rated": 0, "rejected": 0, "skipped": 1}
    assert UsageRecord.objects.get().charge_amount == Decimal("0.1000")


def test_recycling_needs_a_reason(admin):
    with pytest.raises(ApplicationError):
        usage_recycle(records=UsageRecord.objects.none(), actor=admin, reason=" ")


def test_the_reject_queue_is_hidden_from_who_may_not_see_usage(line, subscriber, admin, tmp_path):
    # given
    path = write(
        tmp_path, "Master.csv", csv_text([asterisk_row("07999888777", "07700900123", start=at())])
    )
    usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx", actor=admin)
    # when / then
    assert usage_reject_queue(actor=subscriber).count() == 0
    assert usage_reject_queue(actor=admin).count() == 1
    assert UsageBatch.objects.count() == 1
