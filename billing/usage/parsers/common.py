"""What every usage parser shares: reading CSV rows with their original text, reading times
and numbers, and the checks every record passes whatever its source.

A parsed record is a plain dict with the field names of `UsageRecord` (`started_at` … as aware
UTC datetimes); a row that cannot be used is a dict with `reject_reason`, `reject_detail` and
`raw` (the original text, exactly), so nothing that arrives is dropped.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings

Record = dict[str, Any]

MALFORMED_ROW = "malformed_row"
MALFORMED_NUMBER = "malformed_number"
BAD_TIME = "bad_time"
NEGATIVE_DURATION = "negative_duration"
END_BEFORE_START = "end_before_start"
TIME_IN_FUTURE = "time_in_future"

SERVICES = ("voice", "sms", "mms", "data")


class MappingError(ValueError):
    """A column mapping does not fit the file (a named column is missing, a field unknown)."""


def rows_with_text(
    lines: Iterable[str], *, first_line: int = 1, **csv_options: Any
) -> Iterator[tuple[int, list[str], str]]:
    """CSV rows as (the line the row starts on, its fields, the exact text it came from): a
    quoted field may span lines, and the rows after it keep their own line numbers.

    Reads line by line: memory holds one row, never the file."""
    taken: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            taken.append(line)
            yield line

    number = first_line
    for fields in csv.reader(feed(), **csv_options):
        text = "".join(taken).rstrip("\r\n")
        yield number, fields, text
        number += len(taken)
        taken.clear()


def reject(reason: str, detail: str, raw: str, line_number: int, **known: Any) -> Record:
    return {
        "reject_reason": reason,
        "reject_detail": detail[:300],
        "raw": raw,
        "line_number": line_number,
        **known,
    }


def dedup_key(source: str, own_id: str) -> str:
    """The record's identity: (sending system, the record's own id) hashed into a UUID, as its
    32 hex digits (what the uuid column reads; no UUID object per record on the hot path)."""
    return hashlib.md5(f"{source}\x1f{own_id}".encode()).hexdigest()


# --- times ---------------------------------------------------------------------------------------


class LocalTimes:
    """Reads "YYYY-MM-DD HH:MM:SS" written in a zone (Asterisk, FreeSWITCH) as UTC.

    The zone's offset is looked up once per hour of the clock and cached: converting through
    zoneinfo for every one of millions of stamps costs more than the parsing itself."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.offsets: dict[str, timedelta] = {}

    def parse(self, value: str) -> datetime | None:
        """None for an empty value; ValueError when it is not a time."""
        if not value:
            return None
        naive = datetime.fromisoformat(value)
        if naive.tzinfo is not None:
            return naive.astimezone(UTC)
        hour = value[:13]
        offset = self.offsets.get(hour)
        if offset is None:
            offset = naive.replace(tzinfo=self.zone).utcoffset() or timedelta(0)
            if len(self.offsets) > 100_000:
                self.offsets.clear()
            self.offsets[hour] = offset
        return (naive - offset).replace(tzinfo=UTC)


def zone_named(name: str | None) -> tzinfo:
    if not name or name.upper() == "UTC":
        return UTC
    return ZoneInfo(name)


# --- numbers -------------------------------------------------------------------------------------

_PUNCTUATION = str.maketrans("", "", " -().\t/")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


class Numbers:
    """Normalises telephone numbers to E.164 ("+447400123456") with the operator's country
    (settings.OPERATOR_COUNTRY) as the default region.

    `normalise(raw)` returns (e164, problem): e164 is "" for a short code (kept as received)
    and for a value that is not a number, which has a problem. International ("+…", "00…"),
    national ("0…") and country-code-first digits take a fast path from the country's
    numbering metadata; anything else goes through phonenumbers and must be a valid number.
    Results are cached per raw value (bounded)."""

    def __init__(self, region: str | None = None) -> None:
        self.region = region or settings.OPERATOR_COUNTRY
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(self.region)
        self.country_code = str(metadata.country_code) if metadata else ""
        self.trunk_prefix = (metadata.national_prefix or "") if metadata else ""
        self.international_prefix = (metadata.international_prefix or "00") if metadata else "00"
        if not _DIGITS.fullmatch(self.international_prefix):
            self.international_prefix = "00"
        self.short_max = settings.USAGE_SHORT_CODE_MAX_DIGITS
        self.cache: dict[str, tuple[str, str]] = {}

    def normalise(self, raw: str) -> tuple[str, str]:
        found = self.cache.get(raw)
        if found is None:
            found = self._normalise(raw)
            if len(self.cache) > 200_000:
                self.cache.clear()
            self.cache[raw] = found
        return found

    def _normalise(self, raw: str) -> tuple[str, str]:
        value = raw.strip().replace("(0)", "").translate(_PUNCTUATION)
        if not value:
            return "", "no number"
        international = value.startswith("+")
        digits = value[1:] if international else value
        if not _DIGITS.fullmatch(digits):
            return "", f"{raw!r} is not a telephone number"
        if not international and digits.startswith(self.international_prefix):
            international, digits = True, digits[len(self.international_prefix) :]
        if international:
            if 8 <= len(digits) <= 15 and digits[0] != "0":
                return "+" + digits, ""
            return "", f"{raw!r} is not an international number"
        if len(digits) <= self.short_max:
            return "", ""  # a short code or service number: kept as received
        if self.trunk_prefix and digits.startswith(self.trunk_prefix):
            national = digits[len(self.trunk_prefix) :]
            if 6 <= len(national) <= 15 - len(self.country_code) and national[0] != "0":
                return "+" + self.country_code + national, ""
        elif digits.startswith(self.country_code) and 10 <= len(digits) <= 15:
            return "+" + digits, ""
        try:
            number = phonenumbers.parse(value, self.region)
        except phonenumbers.NumberParseException:
            return "", f"{raw!r} is not a telephone number"
        if not phonenumbers.is_valid_number(number):
            return "", f"{raw!r} is not a valid number"
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


# --- checks every record passes ------------------------------------------------------------------


def future_limit(now: datetime) -> datetime:
    """The latest start a record may have (settings.USAGE_FUTURE_TOLERANCE_SECONDS ahead)."""
    return now + timedelta(seconds=settings.USAGE_FUTURE_TOLERANCE_SECONDS)


def record_check(record: Record, *, limit: datetime) -> Record:
    """Turn a parsed record into a reject when its values cannot be true: a negative
    duration, an end before its start, a start in the future (beyond
    settings.USAGE_FUTURE_TOLERANCE_SECONDS). Number problems are judged when the record is
    guided to its line, since which number matters depends on the call's direction."""
    if "reject_reason" in record:
        return record
    started = record["started_at"]
    for name, bound in _COLUMN_LIMITS.items():
        number = record.get(name, 0)
        if not -bound <= number <= bound:  # e.g. worked out from times centuries apart
            record[name] = 0  # the row is kept (its original text in raw), its column stored
            return _refused(record, MALFORMED_ROW, f"{name} {number} is beyond any real value")
    if record.get("duration_seconds", 0) < 0 or record.get("billable_seconds", 0) < 0:
        return _refused(record, NEGATIVE_DURATION, "duration or billable seconds below zero")
    if record.get("bytes_up", 0) < 0 or record.get("bytes_down", 0) < 0:
        return _refused(record, NEGATIVE_DURATION, "data volume below zero")
    ended = record.get("ended_at")
    if ended is not None and ended < started:
        return _refused(record, END_BEFORE_START, f"ends {ended.isoformat()} before it starts")
    answered = record.get("answered_at")
    if answered is not None and (answered < started or (ended is not None and answered > ended)):
        return _refused(record, END_BEFORE_START, "answered outside its start and end")
    if started > limit:
        return _refused(record, TIME_IN_FUTURE, f"starts {started.isoformat()}, in the future")
    if record.get("billable_seconds", 0) > record.get("duration_seconds", 0):
        return _refused(record, NEGATIVE_DURATION, "billable seconds exceed the duration")
    return record


# The columns' ranges: a value beyond them cannot be stored (nor be true).
_COLUMN_LIMITS = {
    "duration_seconds": 2**31 - 1,
    "billable_seconds": 2**31 - 1,
    "message_parts": 2**15 - 1,
    "bytes_up": 2**63 - 1,
    "bytes_down": 2**63 - 1,
}


def _refused(record: Record, reason: str, detail: str) -> Record:
    record["reject_reason"] = reason
    record["reject_detail"] = detail
    return record


# What each integer column holds: a larger value is a malformed row, never a failed load.
INT_LIMITS = {"message_parts": 32_767, "bytes_up": 2**63 - 1, "bytes_down": 2**63 - 1}
INT_LIMIT = 2**31 - 1  # durations, in seconds


def int_field(value: str, name: str) -> int:
    """An integer column; a ValueError names the column (not a number, or beyond what the
    column holds)."""
    try:
        number = int(value) if value else 0
    except ValueError:
        try:
            number = int(float(value))
        except (ValueError, OverflowError):
            raise ValueError(f"{name} {value!r} is not a number") from None
    if abs(number) > INT_LIMITS.get(name, INT_LIMIT):
        raise ValueError(f"{name} {value!r} is out of range")
    return number
