"""Asterisk `cdr_csv` (Master.csv).

Columns (cdr/cdr_csv.c, build_csv_record): accountcode, src, dst, dcontext, clid, channel,
dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags;
then uniqueid when `loguniqueid` is set and userfield when `loguserfield` is set (in that
order), then peeraccount, linkedid, sequence when `newcdrcolumns` is set. Times are
"%Y-%m-%d %T" in the PBX's local time (UTC with `usegmtime`); an unanswered call has an empty
answer time. The layout is told from the column count; with a single optional column, an
"epoch.sequence" value is the uniqueid, anything else the userfield.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import tzinfo

from billing.usage.parsers.common import (
    BAD_TIME,
    MALFORMED_ROW,
    LocalTimes,
    Record,
    int_field,
    reject,
    rows_with_text,
)

BASE_COLUMNS = 16
UNIQUEID = re.compile(r"[0-9]+\.[0-9]+", re.ASCII)
DISPOSITIONS = {
    "ANSWERED": "answered",
    "NO ANSWER": "no_answer",
    "BUSY": "busy",
    "FAILED": "failed",
    "CONGESTION": "failed",
}


def _optional(fields: list[str]) -> tuple[str, str]:
    """(uniqueid, userfield) from the columns after amaflags."""
    extra = fields[BASE_COLUMNS:]
    count = len(extra)
    if count in (0, 3):  # none, or only newcdrcolumns
        return "", ""
    if count in (1, 4):
        value = extra[0]
        return (value, "") if UNIQUEID.fullmatch(value) else ("", value)
    return extra[0], extra[1]  # 2 or 5: uniqueid and userfield


def parse(
    lines: Iterable[str], *, first_line: int = 1, zone: tzinfo, **_: object
) -> Iterator[Record]:
    times = LocalTimes(zone)
    for number, fields, text in rows_with_text(lines, first_line=first_line):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            yield reject(MALFORMED_ROW, "empty line", text, number)
            continue
        if not BASE_COLUMNS <= len(fields) <= BASE_COLUMNS + 5:
            yield reject(
                MALFORMED_ROW,
                f"{len(fields)} columns; Master.csv rows have 16 to 21",
                text,
                number,
            )
            continue
        uniqueid, _userfield = _optional(fields)
        known = {"calling_number": fields[1], "called_number": fields[2], "service": "voice"}
        try:
            started = times.parse(fields[9])
            answered = times.parse(fields[10])
            ended = times.parse(fields[11])
        except ValueError:
            yield reject(BAD_TIME, f"start {fields[9]!r} is not a time", text, number, **known)
            continue
        if started is None:
            yield reject(BAD_TIME, "no start time", text, number, **known)
            continue
        try:
            duration = int_field(fields[12], "duration")
            billsec = int_field(fields[13], "billsec")
        except ValueError as error:
            yield reject(MALFORMED_ROW, str(error), text, number, **known)
            continue
        disposition = DISPOSITIONS.get(fields[14].strip().upper(), "failed")
        yield {
            "line_number": number,
            "raw": text,
            "source_record_id": uniqueid,
            "service": "voice",
            "direction": "",
            "calling_number": fields[1],
            "called_number": fields[2],
            "started_at": started,
            "answered_at": answered,
            "ended_at": ended,
            "duration_seconds": duration,
            "billable_seconds": billsec if disposition == "answered" else 0,
            "disposition": disposition,
        }
