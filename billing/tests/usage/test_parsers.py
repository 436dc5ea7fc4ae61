"""The parsers read the switches' real formats, line by line."""

from __future__ import annotations

import io
import tracemalloc
from datetime import UTC, datetime

import pytest

from billing.tests.usage.conftest import asterisk_row, csv_text, freeswitch_row
from billing.usage.parsers import MappingError, Numbers, asterisk, freeswitch, generic

START = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def lines_of(text: str) -> list[str]:
    return io.StringIO(text).readlines()


def test_asterisk_row_without_optional_columns_is_an_answered_call():
    # given
    text = csv_text([asterisk_row("07400123456", "07700900123", start=START, billsec=75)])
    # when
    (record,) = asterisk.parse(lines_of(text), zone=UTC)
    # then
    assert record["calling_number"] == "07400123456"
    assert record["called_number"] == "07700900123"
    assert record["started_at"] == START
    assert record["billable_seconds"] == 75
    assert record["disposition"] == "answered"
    assert record["source_record_id"] == ""
    assert record["raw"] == text.rstrip("\n")


def test_asterisk_uniqueid_then_userfield_are_read_when_logged():
    # given: loguniqueid and loguserfield on (cdr_csv writes uniqueid first)
    row = asterisk_row(
        "07400123456", "07700900123", start=START, uniqueid="1732699800.42", userfield="campaign-7"
    )
    # when
    (record,) = asterisk.parse(lines_of(csv_text([row])), zone=UTC)
    # then
    assert record["source_record_id"] == "1732699800.42"


@pytest.mark.parametrize(
    ("extra", "uniqueid"),
    [({"uniqueid": "1732699800.7"}, "1732699800.7"), ({"userfield": "vip"}, "")],
)
def test_asterisk_one_optional_column_is_told_apart(extra, uniqueid):
    # given
    row = asterisk_row("07400123456", "07700900123", start=START, **extra)
    # when
    (record,) = asterisk.parse(lines_of(csv_text([row])), zone=UTC)
    # then
    assert record["source_record_id"] == uniqueid


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [("NO ANSWER", "no_answer"), ("BUSY", "busy"), ("FAILED", "failed"), ("CONGESTION", "failed")],
)
def test_asterisk_unanswered_calls_have_no_answer_time_nor_billable_seconds(disposition, expected):
    # given
    row = asterisk_row("07400123456", "07700900123", start=START, disposition=disposition)
    # when
    (record,) = asterisk.parse(lines_of(csv_text([row])), zone=UTC)
    # then
    assert record["disposition"] == expected
    assert record["answered_at"] is None
    assert record["billable_seconds"] == 0


def test_asterisk_local_times_are_stored_in_utc():
    # given: a PBX logging London time in summer (UTC+1)
    row = asterisk_row("07400123456", "07700900123", start=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    from zoneinfo import ZoneInfo

    # when
    (record,) = asterisk.parse(lines_of(csv_text([row])), zone=ZoneInfo("Europe/London"))
    # then
    assert record["started_at"] == datetime(2026, 7, 1, 11, 0, tzinfo=UTC)


def test_asterisk_wrong_column_count_and_bad_times_are_rejects_with_the_row():
    # given
    good = asterisk_row("07400123456", "07700900123", start=START)
    bad_time = list(good)
    bad_time[9] = "yesterday"
    text = csv_text([["too", "short"], bad_time])
    # when
    short, timeless = asterisk.parse(lines_of(text), zone=UTC)
    # then
    assert short["reject_reason"] == "malformed_row"
    assert short["raw"] == '"too","short"'
    assert short["line_number"] == 1
    assert timeless["reject_reason"] == "bad_time"
    assert timeless["line_number"] == 2
    assert "yesterday" in timeless["raw"]


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        ("NORMAL_CLEARING", "answered"),
        ("USER_BUSY", "busy"),
        ("NO_ANSWER", "no_answer"),
        ("NO_USER_RESPONSE", "no_answer"),
        ("ORIGINATOR_CANCEL", "no_answer"),
        ("CALL_REJECTED", "failed"),
    ],
)
def test_freeswitch_default_template_and_hangup_causes(cause, expected):
    # given
    row = freeswitch_row("+447400123456", "07700900123", start=START, billsec=42, cause=cause)
    # when
    (record,) = freeswitch.parse(lines_of(csv_text([row])), zone=UTC)
    # then
    assert record["disposition"] == expected
    assert record["source_record_id"] == "a5f1c6de-0000-4000-8000-000000000001"
    assert record["billable_seconds"] == (42 if expected == "answered" else 0)
    assert record["started_at"] == START


def test_freeswitch_row_of_another_template_is_malformed():
    # given
    row = freeswitch_row("+447400123456", "07700900123", start=START)[:13]
    # when
    (record,) = freeswitch.parse(lines_of(csv_text([row])), zone=UTC)
    # then
    assert record["reject_reason"] == "malformed_row"
    assert "15" in record["reject_detail"]


def test_generic_csv_reads_columns_by_header_name():
    # given
    text = (
        "id;kind;from;to;when;state\n"
        "m-1;sms;+447400123456;07700900123;2026-11-20T09:30:00Z;failed\n"
    )
    lines = lines_of(text)
    header = lines[0].strip().split(";")
    columns = {
        "record_id": "id",
        "service": "kind",
        "calling_number": "from",
        "called_number": "to",
        "started_at": "when",
        "delivery_status": "state",
    }
    # when
    (record,) = generic.parse(
        lines[1:], first_line=2, zone=UTC, columns=columns, delimiter=";", header=header
    )
    # then
    assert record["service"] == "sms"
    assert record["delivery_status"] == "failed"
    assert record["message_parts"] == 1
    assert record["started_at"] == START
    assert record["source_record_id"] == "m-1"
    assert record["line_number"] == 2


def test_generic_mapping_naming_a_missing_column_is_refused():
    # when / then
    with pytest.raises(MappingError, match="header lacks"):
        list(generic.parse([], zone=UTC, columns={"started_at": "time"}, header=["when"]))


@pytest.mark.parametrize(
    ("raw", "e164", "problem"),
    [
        ("07400 123456", "+447400123456", False),
        ("+44 (0)7400-123456", "+447400123456", False),
        ("+44 7400 12345X", "", True),
        ("00447400123456", "+447400123456", False),
        ("447400123456", "+447400123456", False),
        ("+33145678901", "+33145678901", False),
        ("123", "", False),
        ("anonymous", "", True),
        ("0740", "", False),
    ],
)
def test_numbers_become_e164_with_the_operator_country(raw, e164, problem):
    # when
    found, why = Numbers("GB").normalise(raw)
    # then
    assert found == e164
    assert bool(why) is problem


def test_parsing_a_large_file_keeps_memory_flat():
    # given: 50,000 rows (about 12 MB of CDRs) generated on the fly, never held whole
    row = csv_text([asterisk_row("07400123456", "07700900123", start=START, uniqueid="1.1")])

    def rows():
        for _ in range(50_000):
            yield row

    # when
    tracemalloc.start()
    count = sum(1 for _ in asterisk.parse(rows(), zone=UTC))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # then
    assert count == 50_000
    assert peak < 2_000_000  # bytes: one row at a time, whatever the file's size
