"""Chunks loaded at the same instant by two workers (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections

from billing.tests.usage.conftest import at, grant_allowance, sms_record, sms_tiers
from billing.usage.models import UsageRecord
from billing.usage.services import usage_batch_ingest_records


def _run_together(jobs):
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_chunks_never_over_consume_an_allowance(customer, plan, admin):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    # given: one minute left, and two workers each loading a one-minute call of the line
    from crm.tests.factories import SubscriberFactory

    line = SubscriberFactory(account__customer=customer, msisdn="+447400123456", plan=plan)
    grant = grant_allowance(
        subscriber=line,
        service="voice",
        quantity=Decimal("1"),
        valid_from=at(days_ago=5),
        valid_until=None,
        source_key="plan:1",
        source_description="x",
    )

    def call(i):
        return {
            "record_id": f"c{i}",
            "calling_number": "+447400123456",
            "called_number": "+447700900123",
            "started_at": at(hour=9 + i).isoformat(),
            "answered_at": at(hour=9 + i).isoformat(),
            "ended_at": (at(hour=9 + i) + timedelta(seconds=60)).isoformat(),
        }

    # when
    _run_together(
        [
            lambda: usage_batch_ingest_records(records=[call(0)], source="msc-a", actor=admin),
            lambda: usage_batch_ingest_records(records=[call(1)], source="msc-b", actor=admin),
        ]
    )
    # then
    grant.refresh_from_db()
    assert grant.used == Decimal("1.00")
    charges = sorted(r.charge_amount for r in UsageRecord.objects.all())
    assert charges == [Decimal("0"), Decimal("0.1000")]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_same_record_loaded_by_two_workers_at_once_is_stored_once(
    customer, plan, admin, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("unique index races need PostgreSQL")
    # given
    from crm.tests.factories import SubscriberFactory

    SubscriberFactory(account__customer=customer, msisdn="+447400123456", plan=plan)
    record = {
        "record_id": "same",
        "service": "sms",
        "calling_number": "+447400123456",
        "called_number": "+447700900123",
        "started_at": at().isoformat(),
    }
    batches = []
    # both workers have found the record new (a first try does not look it up) and are about
    # to write it
    from billing.usage import imports

    real_write = imports.records_write
    both_ready = threading.Barrier(2)
    local = threading.local()

    def write_at_the_same_time(records, **kwargs):
        if not getattr(local, "met", False):
            local.met = True
            both_ready.wait()
        return real_write(records, **kwargs)

    monkeypatch.setattr(imports, "records_write", write_at_the_same_time)
    # when
    _run_together(
        [
            lambda: batches.append(
                usage_batch_ingest_records(records=[record], source="smsc", actor=admin)
            )
            for _ in range(2)
        ]
    )
    # then
    assert UsageRecord.objects.count() == 1
    assert sorted((b.rated_count, b.duplicate_count) for b in batches) == [(0, 1), (1, 0)]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_chunks_count_charging_tiers_exactly(customer, plan, admin):
    if connection.vendor != "postgresql":
        pytest.skip("locks need PostgreSQL")
    # given: the first SMS of the bill period at 0.10, every later one at 0.02, and two workers
    # each loading one SMS of the line at the same instant
    from crm.tests.factories import SubscriberFactory

    SubscriberFactory(account__customer=customer, msisdn="+447400123456", plan=plan)
    sms_tiers(plan, first=1, first_price="0.10", then_price="0.02")

    def sms(i):
        return sms_record(f"s{i}", hour=9 + i)

    # when
    _run_together(
        [
            lambda: usage_batch_ingest_records(records=[sms(0)], source="smsc-a", actor=admin),
            lambda: usage_batch_ingest_records(records=[sms(1)], source="smsc-b", actor=admin),
        ]
    )
    # then: one SMS is the period's first, the other is not
    charges = sorted(r.charge_amount for r in UsageRecord.objects.all())
    assert charges == [Decimal("0.0200"), Decimal("0.1000")]
