"""Generic CSV files read through a saved column mapping, and JSON records from the API: both
name usage fields directly, so both go through `record_from_values`.

Fields: record_id, service (voice/sms/mms/data), direction (originating/terminating, MO/MT,
out/in), calling_number, called_number, started_at, answered_at, ended_at, duration_seconds,
billable_seconds, disposition, delivery_status, message_parts, message_content, bytes_up,
bytes_down, apn, roaming, visited_mcc, visited_mnc, cell_id, imsi.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from billing.usage.parsers.common import (
    BAD_TIME,
    MALFORMED_ROW,
    LocalTimes,
    MappingError,
    Record,
    int_field,
    reject,
    rows_with_text,
)

FIELDS = (
    "record_id",
    "service",
    "direction",
    "calling_number",
    "called_number",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "billable_seconds",
    "disposition",
    "delivery_status",
    "message_parts",
    "message_content",
    "bytes_up",
    "bytes_down",
    "apn",
    "roaming",
    "visited_mcc",
    "visited_mnc",
    "cell_id",
    "imsi",
)
TIME_FIELDS = ("started_at", "answered_at", "ended_at")
INT_FIELDS = ("duration_seconds", "billable_seconds", "message_parts", "bytes_up", "bytes_down")
SERVICES = {
    "voice": "voice", "call": "voice", "sms": "sms", "text": "sms",
    "mms": "mms", "data": "data", "gprs": "data",
}  # fmt: skip
DIRECTIONS = {
    "originating": "originating", "mo": "originating", "out": "originating",
    "outgoing": "originating", "terminating": "terminating", "mt": "terminating",
    "in": "terminating", "incoming": "terminating", "": "",
}  # fmt: skip
DISPOSITIONS = {
    "answered": "answered", "busy": "busy", "no_answer": "no_answer", "no answer": "no_answer",
    "failed": "failed", "congestion": "failed", "": "",
}  # fmt: skip
DELIVERY = {"delivered": "delivered", "failed": "failed", "pending": "pending", "": ""}
TRUE = {"1", "true", "yes", "y", "t"}


class FieldProblem(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def time_reader(time_format: str, zone: tzinfo) -> Callable[[str], datetime | None]:
    """How a mapping's times are read: "iso", "epoch" or a strptime format, in `zone` when
    the value carries no offset."""
    local = LocalTimes(zone)
    if time_format == "iso":
        return lambda value: local.parse(value.strip().replace("T", " ", 1)) if value else None
    if time_format == "epoch":
        return lambda value: datetime.fromtimestamp(float(value), UTC) if value else None

    def parse(value: str) -> datetime | None:
        if not value:
            return None
        moment = datetime.strptime(value, time_format)  # noqa: DTZ007 (zone applied below)
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
        return local.parse(moment.isoformat(sep=" "))

    return parse


def record_from_values(
    values: Mapping[str, Any], read_time: Callable[[str], datetime | None]
) -> Record:
    """A usage record from named values; FieldProblem names the field at fault."""
    record: Record = {}
    service = SERVICES.get(str(values.get("service") or "voice").strip().lower())
    if service is None:
        raise FieldProblem(MALFORMED_ROW, f"service {values.get('service')!r} is not known")
    record["service"] = service
    direction = DIRECTIONS.get(str(values.get("direction") or "").strip().lower())
    if direction is None:
        raise FieldProblem(MALFORMED_ROW, f"direction {values.get('direction')!r} is not known")
    record["direction"] = direction
    for name in ("calling_number", "called_number", "apn", "visited_mcc", "visited_mnc"):
        record[name] = str(values.get(name) or "").strip()
    record["cell_id"] = str(values.get("cell_id") or "").strip()
    record["imsi"] = str(values.get("imsi") or "").strip()
    record["source_record_id"] = str(values.get("record_id") or "").strip()[:100]
    record["message_content"] = str(values.get("message_content") or "")
    for name in TIME_FIELDS:
        raw = values.get(name)
        try:
            record[name] = read_time(str(raw).strip()) if raw not in (None, "") else None
        except (ValueError, OverflowError, OSError):
            raise FieldProblem(BAD_TIME, f"{name} {raw!r} is not a time") from None
    if record["started_at"] is None:
        raise FieldProblem(BAD_TIME, "started_at is missing")
    for name in INT_FIELDS:
        try:
            record[name] = int_field(str(values.get(name) or "").strip(), name)
        except ValueError as error:
            raise FieldProblem(MALFORMED_ROW, str(error)) from None
    disposition = DISPOSITIONS.get(str(values.get("disposition") or "").strip().lower())
    if disposition is None:
        raise FieldProblem(MALFORMED_ROW, f"disposition {values.get('disposition')!r} is not known")
    delivery = DELIVERY.get(str(values.get("delivery_status") or "").strip().lower())
    if delivery is None:
        raise FieldProblem(
            MALFORMED_ROW, f"delivery_status {values.get('delivery_status')!r} is not known"
        )
    if service == "voice":
        if not disposition:
            disposition = "answered" if record["answered_at"] or record["billable_seconds"] else ""
            disposition = disposition or "no_answer"
        if record["answered_at"] and record["ended_at"] and not values.get("billable_seconds"):
            record["billable_seconds"] = int(
                (record["ended_at"] - record["answered_at"]).total_seconds()
            )
        if record["ended_at"] and not values.get("duration_seconds"):
            record["duration_seconds"] = int(
                (record["ended_at"] - record["started_at"]).total_seconds()
            )
        if disposition != "answered":
            record["billable_seconds"] = 0
    elif service in ("sms", "mms"):
        delivery = delivery or "delivered"
        record["message_parts"] = record["message_parts"] or 1
    record["disposition"] = disposition if service == "voice" else ""
    record["delivery_status"] = delivery if service in ("sms", "mms") else ""
    record["roaming"] = str(values.get("roaming") or "").strip().lower() in TRUE
    return record


def parse(
    lines: Iterable[str],
    *,
    first_line: int = 1,
    zone: tzinfo,
    columns: Mapping[str, str | int],
    time_format: str = "iso",
    delimiter: str = ",",
    header: list[str] | None = None,
    defaults: Mapping[str, Any] | None = None,
    **_: object,
) -> Iterator[Record]:
    """Rows of a generic CSV file; `header` is the file's first row when it has one (the
    caller reads it once, so a chunk in the middle of the file parses alike)."""
    positions = mapping_positions(columns, header)
    read_time = time_reader(time_format, zone)
    width = max(positions.values(), default=0) + 1
    fixed = dict(defaults or {})
    for number, fields, text in rows_with_text(lines, first_line=first_line, delimiter=delimiter):
        if len(fields) < width:
            yield reject(
                MALFORMED_ROW, f"{len(fields)} columns; the mapping reads {width}", text, number
            )
            continue
        values = {**fixed, **{name: fields[index] for name, index in positions.items()}}
        try:
            record = record_from_values(values, read_time)
        except FieldProblem as problem:
            known = {
                "calling_number": str(values.get("calling_number") or ""),
                "called_number": str(values.get("called_number") or ""),
            }
            yield reject(problem.reason, problem.detail, text, number, **known)
            continue
        record["line_number"] = number
        record["raw"] = text
        yield record


def mapping_positions(columns: Mapping[str, str | int], header: list[str] | None) -> dict[str, int]:
    """Record field -> column index; MappingError names what does not fit."""
    positions: dict[str, int] = {}
    for name, column in columns.items():
        if name not in FIELDS:
            raise MappingError(f"{name!r} is not a usage field (known: {', '.join(FIELDS)})")
        if isinstance(column, int) or (isinstance(column, str) and column.isdigit()):
            positions[name] = int(column)
        elif header is None:
            raise MappingError(f"{name} maps to column {column!r}, but the file has no header")
        elif column not in header:
            raise MappingError(f"{name} maps to column {column!r}, which the header lacks")
        else:
            positions[name] = header.index(column)
    if "started_at" not in positions:
        raise MappingError("the mapping must name the started_at column")
    return positions
