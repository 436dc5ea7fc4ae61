"""Loading usage files: control totals, duplicates, rejects with their reasons, allowances,
tiers and the tariff, on PostgreSQL's partitioned table."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from billing.balances.models import BalanceDebt, LedgerEntry
from billing.balances.services import ledger_mismatches
from billing.tests.usage.conftest import (
    PerUnitEngine,
    asterisk_row,
    at,
    csv_text,
    freeswitch_row,
    grant_allowance,
    sms_record,
    sms_tiers,
    stamp,
    write,
)
from billing.usage.lines import trace_json
from billing.usage.models import UsageBatch, UsageRecord
from billing.usage.services import (
    usage_batch_ingest_file,
    usage_batch_ingest_records,
    usage_mapping_save,
)
from common.errors import ApplicationError

pytestmark = pytest.mark.django_db

ME = "07400123456"


def ingest(tmp_path, rows, *, actor, name="Master.csv", source="pbx1", format="asterisk", **kw):
    path = write(tmp_path, name, csv_text(rows))
    return usage_batch_ingest_file(
        path_or_file=path, format=format, source=source, actor=actor, **kw
    )


def assert_totals_add_up(batch):
    assert batch.received_count == batch.rated_count + batch.rejected_count + batch.duplicate_count


def test_asterisk_file_is_rated_with_control_totals(line, actor, tmp_path):
    # given
    rows = [
        asterisk_row(ME, "07700900123", start=at(), billsec=90, uniqueid="1.1"),
        asterisk_row(ME, "07700900124", start=at(), disposition="NO ANSWER", uniqueid="1.2"),
        asterisk_row(ME, "+33145678901", start=at(), billsec=30, uniqueid="1.3"),
    ]
    # when
    batch = ingest(tmp_path, rows, actor=actor)
    # then
    assert batch.status == UsageBatch.Status.DONE
    assert (batch.received_count, batch.rated_count, batch.rejected_count) == (3, 3, 0)
    assert batch.zero_charge_count == 1
    assert batch.total_amount == Decimal("0.2000")  # 90 s and 30 s at 0.10 a minute
    assert batch.currency == "GBP"
    assert_totals_add_up(batch)
    call = UsageRecord.objects.get(source_record_id="1.1")
    assert call.status == UsageRecord.Status.RATED
    assert call.subscriber_id == line.pk
    assert call.direction == "originating"
    assert call.calling_e164 == "+447400123456"
    assert call.called_e164 == "+447700900123"
    assert call.destination_class == "off_net"
    assert call.charge_amount == Decimal("0.1500")
    assert call.tariff_version_id == 7
    assert call.payment_type == "postpaid"
    assert call.rating_trace["steps"][0]["tariff"]["rate"] == "0.10/min"
    unanswered = UsageRecord.objects.get(source_record_id="1.2")
    assert (unanswered.status, unanswered.charge_amount) == ("rated", Decimal("0"))
    assert UsageRecord.objects.get(source_record_id="1.3").destination_class == "international"


def test_freeswitch_file_is_rated(line, actor, tmp_path):
    # given
    rows = [freeswitch_row("+447400123456", "07700900123", start=at(), billsec=60)]
    # when
    batch = ingest(tmp_path, rows, actor=actor, format="freeswitch", source="fs1")
    # then
    assert (batch.rated_count, batch.total_amount) == (1, Decimal("0.1000"))
    assert UsageRecord.objects.get().source_record_id == "a5f1c6de-0000-4000-8000-000000000001"


def test_a_call_to_the_line_is_terminating_and_free(line, actor, tmp_path):
    # given
    rows = [asterisk_row("07700900999", ME, start=at(), billsec=300)]
    # when
    batch = ingest(tmp_path, rows, actor=actor)
    # then
    record = UsageRecord.objects.get()
    assert (record.direction, record.charge_amount, record.subscriber_id) == (
        "terminating",
        Decimal("0"),
        line.pk,
    )
    assert batch.zero_charge_count == 1


def test_resending_the_same_file_counts_every_record_a_duplicate(line, actor, tmp_path):
    # given
    rows = [
        asterisk_row(ME, "07700900123", start=at(), billsec=60, uniqueid=f"9.{i}") for i in range(3)
    ]
    first = ingest(tmp_path, rows, actor=actor)
    # when
    again = ingest(tmp_path, rows, actor=actor)
    # then
    assert again.pk != first.pk
    assert again.duplicate_of == first
    assert (again.received_count, again.duplicate_count, again.rated_count) == (3, 3, 0)
    assert UsageRecord.objects.count() == 3
    assert sum(r.charge_amount for r in UsageRecord.objects.all()) == Decimal("0.3000")
    assert_totals_add_up(again)


def test_the_same_record_in_another_file_or_twice_in_one_is_a_duplicate(line, actor, tmp_path):
    # given
    call = asterisk_row(ME, "07700900123", start=at(), billsec=60, uniqueid="5.5")
    ingest(tmp_path, [call], actor=actor, name="a.csv")
    other = asterisk_row(ME, "07700900124", start=at(hour=11), billsec=60, uniqueid="5.6")
    # when
    batch = ingest(tmp_path, [call, other, other], actor=actor, name="b.csv")
    # then
    assert (batch.received_count, batch.rated_count, batch.duplicate_count) == (3, 1, 2)
    assert UsageRecord.objects.count() == 2


def test_rows_without_an_own_id_are_deduplicated_by_their_content(line, actor, tmp_path):
    # given
    call = asterisk_row(ME, "07700900123", start=at(), billsec=60)
    ingest(tmp_path, [call], actor=actor, name="a.csv")
    # when
    batch = ingest(tmp_path, [call], actor=actor, name="b.csv")
    # then
    assert batch.duplicate_count == 1
    assert UsageRecord.objects.count() == 1


def _every_reason_rows():
    good = asterisk_row(ME, "07700900123", start=at(), billsec=60)
    bad_time = list(good)
    bad_time[9] = "31/02/2026"
    negative = asterisk_row(ME, "07700900123", start=at(hour=8), billsec=60)
    negative[13] = "-5"
    backwards = asterisk_row(ME, "07700900123", start=at(hour=9), billsec=60)
    backwards[11] = stamp(at(hour=7))
    future = asterisk_row(ME, "07700900123", start=datetime.now(UTC) + timedelta(days=2))
    return {
        "malformed_row": ["only", "three", "columns"],
        "malformed_number": asterisk_row(ME, "07700-LOL", start=at(hour=5), billsec=60),
        "bad_time": bad_time,
        "negative_duration": negative,
        "end_before_start": backwards,
        "time_in_future": future,
        "unknown_line": asterisk_row("07999888777", "07700900123", start=at(hour=6)),
        "no_rate": asterisk_row(ME, "+99912345678", start=at(hour=4), billsec=60),
    }


def test_every_unusable_row_is_kept_with_its_reason_and_original_text(line, actor, tmp_path):
    # given
    rows = _every_reason_rows()
    # when
    batch = ingest(tmp_path, list(rows.values()), actor=actor)
    # then
    assert batch.rejected_count == len(rows)
    assert batch.reject_reasons == dict.fromkeys(rows, 1)
    assert_totals_add_up(batch)
    for reason, row in rows.items():
        record = UsageRecord.objects.get(reject_reason=reason)
        assert record.status == UsageRecord.Status.REJECTED
        assert record.raw == csv_text([row]).rstrip("\n")
        assert record.reject_detail


def test_a_row_with_a_nul_byte_tab_or_backslash_is_kept_not_a_failed_load(line, actor, tmp_path):
    # given: a NUL byte (no text column can hold one) and a tab and backslash in the caller id
    good = asterisk_row(ME, "07700900123", start=at(), billsec=60, uniqueid="3.1")
    odd = asterisk_row("074\x00001\t23\\", "07700900123", start=at(hour=11), uniqueid="3.2")
    # when
    batch = ingest(tmp_path, [good, odd], actor=actor)
    # then
    assert (batch.rated_count, batch.rejected_count) == (1, 1)
    reject = UsageRecord.objects.get(status="rejected")
    assert reject.reject_reason == "malformed_number"
    assert "\ufffd" in reject.raw
    assert "\t23\\" in reject.raw
    assert reject.calling_number == "074\ufffd001\t23\\"


def test_a_quoted_field_with_line_breaks_is_one_row_even_at_a_chunk_boundary(
    line, actor, tmp_path, settings
):
    # given: chunks of 2 lines, and a userfield of three lines in the second row
    settings.USAGE_CHUNK_SIZE = 2
    rows = [
        asterisk_row(ME, "07700900123", start=at(hour=h), uniqueid=f"4.{h}", userfield=note)
        for h, note in ((8, "plain"), (9, "first\nsecond\nthird"), (10, "plain"), (11, "x"))
    ]
    # when
    batch = ingest(tmp_path, rows, actor=actor)
    # then: four rows rated, each numbered by the line it starts on
    assert (batch.received_count, batch.rated_count, batch.rejected_count) == (4, 4, 0)
    numbers = list(UsageRecord.objects.order_by("started_at").values_list("line_number", flat=True))
    assert numbers == [1, 2, 5, 6]


def test_a_stray_quote_cannot_swallow_the_rest_of_the_file(line, actor, tmp_path, settings):
    # given: a row with an unbalanced quote, then 250 good rows, in chunks of 50 lines
    settings.USAGE_CHUNK_SIZE = 50
    good = [
        csv_text(
            [
                asterisk_row(
                    ME, "07700900123", start=at(minute=i % 60, hour=i // 60), uniqueid=f"6.{i}"
                )
            ]
        )
        for i in range(250)
    ]
    stray = '"","07400123456","unterminated\n'
    path = write(tmp_path, "Master.csv", stray + "".join(good))
    # when
    batch = usage_batch_ingest_file(
        path_or_file=path, format="asterisk", source="pbx1", actor=actor
    )
    # then: the load finishes and counts add up; the broken row took the next line with it
    # (kept in its raw text), and every row after that is rated
    assert batch.status == UsageBatch.Status.DONE
    assert_totals_add_up(batch)
    assert (batch.rated_count, batch.rejected_count) == (249, 1)
    assert good[0].rstrip("\n") in UsageRecord.objects.get(status="rejected").raw


def test_rejects_of_a_malformed_number_name_the_number(line, actor, tmp_path):
    # given / when
    ingest(tmp_path, [asterisk_row(ME, "07700-LOL", start=at(), billsec=60)], actor=actor)
    # then
    assert "07700-LOL" in UsageRecord.objects.get().reject_detail


def test_allowances_are_drawn_first_zone_then_net_then_all_soonest_expiring_first(
    line, actor, tmp_path
):
    # given: 2 minutes in a plan allowance ending later, 1 minute in one ending sooner
    start = at(days_ago=10)
    late = grant_allowance(
        subscriber=line,
        service="voice",
        quantity=Decimal("2"),
        valid_from=start,
        valid_until=start + timedelta(days=30),
        source_key="plan:late",
        source_description="x",
    )
    soon = grant_allowance(
        subscriber=line,
        service="voice",
        quantity=Decimal("1"),
        valid_from=start,
        valid_until=start + timedelta(days=20),
        source_key="addon:soon",
        source_description="x",
    )
    off_net = grant_allowance(
        subscriber=line,
        service="voice",
        scope="off_net",
        quantity=Decimal("1"),
        valid_from=start,
        valid_until=start + timedelta(days=30),
        source_key="plan:offnet",
        source_description="x",
    )
    rows = [
        asterisk_row(ME, "07700900123", start=at(hour=9), billsec=60, uniqueid="1.1"),
        asterisk_row(ME, "07700900123", start=at(hour=10), billsec=90, uniqueid="1.2"),
        asterisk_row(ME, "07700900123", start=at(hour=11), billsec=180, uniqueid="1.3"),
        asterisk_row(ME, "+33145678901", start=at(hour=12), billsec=60, uniqueid="1.4"),
    ]
    # when
    batch = ingest(tmp_path, rows, actor=actor)
    # then
    first, second, third, abroad = UsageRecord.objects.order_by("line_number")
    assert (first.allowance_grant_id, first.allowance_units, first.charge_amount) == (
        off_net.pk,
        Decimal("1.00"),
        Decimal("0"),
    )
    assert (second.allowance_grant_id, second.allowance_units) == (soon.pk, Decimal("1.50"))
    assert second.charge_amount == Decimal("0")
    assert third.allowance_units == Decimal("1.50")  # the 2 minutes' rest, then the tariff
    assert third.charge_amount == Decimal("0.1500")
    assert abroad.allowance_grant_id is None  # international never draws on allowances
    for grant, used in ((off_net, "1.00"), (soon, "1.00"), (late, "2.00")):
        grant.refresh_from_db()
        assert grant.used == Decimal(used)
    # each bucket drawn on got one usage entry for the chunk, in seconds, by the system actor
    usage = LedgerEntry.objects.filter(kind="usage").order_by("bucket_id")
    assert [(e.bucket_id, e.amount, e.unit) for e in usage] == sorted(
        [(late.pk, Decimal("-120"), "seconds"), (soon.pk, Decimal("-60"), "seconds"),
         (off_net.pk, Decimal("-60"), "seconds")]
    )  # fmt: skip
    assert {(e.actor.email, e.reference) for e in usage} == {
        ("system@telecrm.invalid", f"usage batch {batch.pk} chunk 0")
    }
    assert ledger_mismatches() == []
    assert_totals_add_up(batch)


def test_a_roaming_record_draws_only_on_its_zone(line, actor):
    # given
    start = at(days_ago=10)
    home = grant_allowance(
        subscriber=line,
        service="sms",
        quantity=Decimal("10"),
        valid_from=start,
        valid_until=None,
        source_key="plan:sms",
        source_description="x",
    )
    eu = grant_allowance(
        subscriber=line,
        service="sms",
        scope="zone",
        zone="eu",
        quantity=Decimal("5"),
        valid_from=start,
        valid_until=None,
        source_key="addon:eu",
        source_description="x",
    )
    records = [
        {
            "record_id": "r1",
            "service": "sms",
            "calling_number": "+447400123456",
            "called_number": "+447700900123",
            "started_at": at().isoformat(),
            "visited_mcc": "208",
            "visited_mnc": "01",
        },
        {
            "record_id": "r2",
            "service": "sms",
            "calling_number": "+447400123456",
            "called_number": "+447700900123",
            "started_at": at().isoformat(),
        },
    ]
    # when
    batch = usage_batch_ingest_records(records=records, source="smsc", actor=actor)
    # then
    roaming = UsageRecord.objects.get(source_record_id="r1")
    assert (roaming.roaming, roaming.roaming_zone, roaming.allowance_grant_id) == (
        True,
        "eu",
        eu.pk,
    )
    assert UsageRecord.objects.get(source_record_id="r2").allowance_grant_id == home.pk
    assert batch.rated_count == 2


def test_charging_tiers_price_by_cumulative_usage_in_the_bill_period(line, plan, actor):
    # given: the first 2 SMS at 0.10, then 0.02
    sms_tiers(plan, first=2, first_price="0.10", then_price="0.02")

    def sms(i):
        return sms_record(f"t{i}", hour=8 + i)

    usage_batch_ingest_records(records=[sms(0)], source="smsc", actor=actor)
    # when: two more in a later batch, one of two parts
    batch = usage_batch_ingest_records(
        records=[sms(1), {**sms(2), "message_parts": "2"}], source="smsc", actor=actor
    )
    # then
    charges = [r.charge_amount for r in UsageRecord.objects.order_by("started_at")]
    assert charges == [Decimal("0.1000"), Decimal("0.1000"), Decimal("0.0400")]
    assert batch.total_amount == Decimal("0.1400")
    assert PerUnitEngine.calls_seen >= 0


def test_tier_counters_hold_what_each_line_was_charged_in_the_period(line, plan, actor):
    # given: tiered SMS, and usage loaded before counters existed (no counter row)
    from billing.usage.models import UsageCounter

    sms_tiers(plan, first=3, first_price="0.10", then_price="0.01")

    def sms(i, parts=1):
        return sms_record(f"k{i}", hour=8 + i, parts=parts)

    usage_batch_ingest_records(records=[sms(0, parts=2)], source="smsc", actor=actor)
    UsageCounter.objects.all().delete()
    # when: the next record finds no counter, counts the period from its records, goes on
    usage_batch_ingest_records(records=[sms(1, parts=2)], source="smsc", actor=actor)
    usage_batch_ingest_records(records=[sms(2)], source="smsc", actor=actor)
    # then: 2 at 0.10, then 1 at 0.10 + 1 at 0.01, then 1 at 0.01
    charges = [r.charge_amount for r in UsageRecord.objects.order_by("started_at")]
    assert charges == [Decimal("0.2000"), Decimal("0.1100"), Decimal("0.0100")]
    counter = UsageCounter.objects.get()
    assert (counter.subscriber_id, counter.service, counter.units) == (line.pk, "sms", Decimal("5"))
    assert counter.period_start <= at(hour=8) < counter.period_end


def test_a_record_already_loaded_by_another_batch_draws_no_allowance_twice(line, actor, tmp_path):
    # given: 3 minutes of allowance, and a 1-minute call already loaded
    grant = grant_allowance(
        subscriber=line, service="voice", quantity=Decimal("3"), valid_from=at(days_ago=9),
        source_key="plan:dup", source_description="Bundle",
    )  # fmt: skip
    call = asterisk_row(ME, "07700900123", start=at(), billsec=60, uniqueid="7.1")
    ingest(tmp_path, [call], actor=actor, name="a.csv")
    # when: another file brings it again beside a new call
    new = asterisk_row(ME, "07700900123", start=at(hour=12), billsec=60, uniqueid="7.2")
    batch = ingest(tmp_path, [new, call], actor=actor, name="b.csv")
    # then
    assert (batch.rated_count, batch.duplicate_count) == (1, 1)
    grant.refresh_from_db()
    assert grant.used == Decimal("2.00")
    assert UsageRecord.objects.count() == 2


def test_the_original_row_of_a_rated_record_is_kept_only_when_the_setting_asks(
    line, actor, tmp_path, settings
):
    # given
    first = asterisk_row(ME, "07700900123", start=at(), billsec=60, uniqueid="8.1")
    second = asterisk_row(ME, "07700900123", start=at(hour=12), billsec=60, uniqueid="8.2")
    # when
    ingest(tmp_path, [first], actor=actor, name="a.csv")
    settings.USAGE_KEEP_RAW_OF_RATED = True
    ingest(tmp_path, [second], actor=actor, name="b.csv")
    # then
    assert UsageRecord.objects.get(source_record_id="8.1").raw == ""
    assert UsageRecord.objects.get(source_record_id="8.2").raw == csv_text([second]).rstrip("\n")


def test_prepaid_usage_is_rated_and_charged_to_the_balance_at_once(line, actor, tmp_path):
    # given: a prepaid line with no balance (billing/tests/usage/test_prepaid_debit.py has more)
    line.account.payment_type = "prepaid"
    line.account.save()
    # when
    ingest(tmp_path, [asterisk_row(ME, "07700900123", start=at(), billsec=60)], actor=actor)
    # then: billed (it waits for no bill) and owed, since nothing covered it
    record = UsageRecord.objects.get()
    assert (record.status, record.payment_type) == ("billed", "prepaid")
    assert BalanceDebt.objects.get(subscriber=line).amount == record.charge_amount


def test_message_content_is_kept_only_when_the_setting_asks(line, actor, settings):
    # given
    record = {
        "record_id": "c1",
        "service": "sms",
        "calling_number": "+447400123456",
        "called_number": "+447700900123",
        "started_at": at().isoformat(),
        "message_content": "meet at 6",
    }
    # when
    usage_batch_ingest_records(records=[record], source="smsc", actor=actor)
    settings.USAGE_STORE_MESSAGE_CONTENT = True
    usage_batch_ingest_records(records=[{**record, "record_id": "c2"}], source="smsc", actor=actor)
    # then
    assert UsageRecord.objects.get(source_record_id="c1").message_content == ""
    assert UsageRecord.objects.get(source_record_id="c2").message_content == "meet at 6"


def test_api_batch_with_the_same_idempotency_key_is_not_loaded_twice(line, actor):
    # given
    record = {
        "record_id": "k1",
        "service": "sms",
        "calling_number": "+447400123456",
        "called_number": "+447700900123",
        "started_at": at().isoformat(),
    }
    first = usage_batch_ingest_records(
        records=[record], source="smsc", actor=actor, idempotency_key="abc"
    )
    # when
    again = usage_batch_ingest_records(
        records=[record], source="smsc", actor=actor, idempotency_key="abc"
    )
    # then
    assert again.pk == first.pk
    assert UsageRecord.objects.count() == 1


def test_api_record_that_is_not_an_object_is_a_kept_reject(actor):
    # when
    batch = usage_batch_ingest_records(records=["nonsense"], source="smsc", actor=actor)
    # then
    record = UsageRecord.objects.get()
    assert (record.reject_reason, record.raw) == ("malformed_row", json.dumps("nonsense"))
    assert batch.rejected_count == 1


def test_generic_csv_through_a_saved_mapping(line, actor, tmp_path):
    # given
    mapping = usage_mapping_save(
        name="smsc",
        actor=actor,
        delimiter=";",
        columns={
            "record_id": "id",
            "service": "kind",
            "calling_number": "from",
            "called_number": "to",
            "started_at": "when",
        },
    )
    text = f"id;kind;from;to;when\nm1;sms;{ME};07700900123;{at().isoformat()}\n"
    path = write(tmp_path, "sms.csv", text)
    # when
    batch = usage_batch_ingest_file(
        path_or_file=path, format="csv", mapping=mapping, source="smsc", actor=actor
    )
    # then
    assert (batch.rated_count, batch.total_amount) == (1, Decimal("0.0500"))
    assert UsageRecord.objects.get().line_number == 2


def test_generic_csv_without_a_mapping_is_refused(actor, tmp_path):
    # when / then
    with pytest.raises(ApplicationError, match="mapping"):
        usage_batch_ingest_file(
            path_or_file=write(tmp_path, "x.csv", "a\n"), format="csv", source="x", actor=actor
        )


def test_an_uploaded_file_object_is_read_as_a_stream(line, actor):
    # given
    data = csv_text([asterisk_row(ME, "07700900123", start=at(), billsec=60)]).encode()
    upload = io.BytesIO(data)
    upload.name = "upload.csv"
    # when
    batch = usage_batch_ingest_file(
        path_or_file=upload, format="asterisk", source="pbx", actor=actor
    )
    # then
    assert (batch.source_kind, batch.file_name, batch.rated_count) == ("upload", "upload.csv", 1)


def test_records_land_in_their_month_partition(line, actor, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("monthly partitions are PostgreSQL's (CI runs this)")
    # given / when
    ingest(tmp_path, [asterisk_row(ME, "07700900123", start=at(), billsec=60)], actor=actor)
    # then
    month = at().strftime("%Y_%m")
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM billing_usagerecord")
        assert cursor.fetchone()[0] == f"billing_usagerecord_{month}"


def test_command_prints_the_control_totals(line, actor, tmp_path):
    # given
    rows = [
        asterisk_row(ME, "07700900123", start=at(), billsec=60),
        asterisk_row("07999888777", "07700900123", start=at()),
    ]
    path = write(tmp_path, "Master.csv", csv_text(rows))
    out = io.StringIO()
    # when
    call_command("ingest_usage", str(path), "--format", "asterisk", "--source", "pbx9", stdout=out)
    # then
    text = out.getvalue()
    assert "received   2" in text
    assert "rated      1" in text
    assert "unknown_line       1" in text
    assert "duplicate  0" in text
    assert "amount     0.1000 GBP" in text


def test_command_names_an_unknown_mapping(tmp_path):
    # when / then
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nope"):
        call_command(
            "ingest_usage",
            str(write(tmp_path, "x.csv", "")),
            "--format",
            "csv",
            "--mapping",
            "nope",
        )


def test_a_crashed_load_resumes_without_counting_twice(
    line, actor, tmp_path, settings, monkeypatch
):
    # given: chunks of 2 rows, and a crash in the second chunk
    settings.USAGE_CHUNK_SIZE = 2
    rows = [asterisk_row(ME, "07700900123", start=at(hour=h), billsec=60) for h in range(6)]
    path = write(tmp_path, "Master.csv", csv_text(rows))
    from billing.usage import imports

    real = imports.records_write
    crashed_once = []

    def crash_once(records, **kw):
        if not crashed_once and any(r["line_number"] == 3 for r in records):
            crashed_once.append(True)
            raise RuntimeError("worker lost")
        return real(records, **kw)

    monkeypatch.setattr(imports, "records_write", crash_once)
    with pytest.raises(RuntimeError):
        usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx", actor=actor)
    crashed = UsageBatch.objects.get()
    assert (crashed.status, crashed.received_count, crashed.chunks_done) == ("failed", 2, 1)
    # when: the same file again
    batch = usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx", actor=actor)
    # then
    assert batch.pk == crashed.pk
    assert (batch.status, batch.received_count, batch.rated_count) == ("done", 6, 6)
    assert batch.duplicate_count == 0
    assert UsageRecord.objects.count() == 6
    assert_totals_add_up(batch)


def test_a_large_file_streams_through_with_flat_memory(line, actor, tmp_path, settings):
    # given: 30,000 calls in chunks of 2,000
    import tracemalloc

    settings.USAGE_CHUNK_SIZE = 2000
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        for i in range(30_000):
            out.write(
                csv_text(
                    [
                        asterisk_row(
                            ME,
                            "07700900123",
                            start=at(hour=0) + timedelta(seconds=i),
                            billsec=30,
                            uniqueid=f"7.{i}",
                        )
                    ]
                )
            )
    # when
    tracemalloc.start()
    batch = usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx", actor=actor)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # then
    assert (batch.received_count, batch.rated_count, batch.chunk_count) == (30_000, 30_000, 15)
    assert peak < 40_000_000  # a chunk's worth, not the file's 8 MB times the record overhead


def test_partitions_are_made_ahead_of_the_data():
    if connection.vendor != "postgresql":
        pytest.skip("monthly partitions are PostgreSQL's (CI runs this)")
    # given
    from datetime import date

    from billing.usage.services import usage_partitions_ensure

    today = datetime.now(UTC).date()
    following = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    # when
    usage_partitions_ensure()
    # then
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"billing_usagerecord_{following:%Y_%m}"])
        assert cursor.fetchone()[0] is not None


def test_a_batchs_total_duration_counts_calls_only(line, actor):
    # given a call of 90 s and a data session that lasted an hour
    start = at()
    call = {
        "record_id": "d1",
        "service": "voice",
        "calling_number": "+447400123456",
        "called_number": "+447700900123",
        "started_at": start.isoformat(),
        "answered_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=90)).isoformat(),
        "disposition": "answered",
    }
    session = {
        "record_id": "d2",
        "service": "data",
        "calling_number": "+447400123456",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=1)).isoformat(),
        "duration_seconds": 3600,
        "bytes_down": 1_000_000,
    }
    # when
    batch = usage_batch_ingest_records(records=[call, session], source="mix", actor=actor)
    # then: minutes are the calls' minutes
    assert (batch.received_count, batch.rated_count) == (2, 2)
    assert batch.total_duration_seconds == 90


def test_a_duration_beyond_its_column_is_a_malformed_row_not_a_failed_load(line, actor, tmp_path):
    # given durations no column holds, beside a good call
    huge = asterisk_row(ME, "07700900123", start=at(), uniqueid="1764000000.21")
    huge[12] = "99999999999"
    infinite = asterisk_row(ME, "07700900123", start=at(), uniqueid="1764000000.22")
    infinite[13] = "1e400"
    good = asterisk_row(ME, "07700900123", start=at(), uniqueid="1764000000.23")
    # when
    batch = ingest(tmp_path, [huge, infinite, good], actor=actor)
    # then
    assert batch.status == UsageBatch.Status.DONE
    assert (batch.received_count, batch.rated_count, batch.rejected_count) == (3, 1, 2)
    assert batch.reject_reasons == {"malformed_row": 2}
    details = sorted(
        UsageRecord.objects.filter(status="rejected").values_list("reject_detail", flat=True)
    )
    assert details == ["billsec '1e400' is not a number", "duration '99999999999' is out of range"]


def test_a_trace_that_is_a_shared_tariff_summary_is_written_as_the_trace_it_is():
    # given: the engine's summary, shared by like calls, alone and with another step
    summary = {"subject": "bench", "cost": "0.1000", "usage_rated": 60_000_000_000}
    # when
    first = trace_json({"steps": [{"tariff": summary}]})
    again = trace_json({"steps": [{"tariff": summary}]})
    with_tiers = trace_json({"steps": [{"tariff": summary}, {"tiers": [], "period_used": "2"}]})
    # then
    assert json.loads(first) == json.loads(again) == {"steps": [{"tariff": summary}]}
    assert json.loads(with_tiers)["steps"][1] == {"tiers": [], "period_used": "2"}
