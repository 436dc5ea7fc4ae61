"""FreeSWITCH `mod_cdr_csv` with its default template ("example" in cdr_csv.conf.xml):

    "${caller_id_name}","${caller_id_number}","${destination_number}","${context}",
    "${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}",
    "${hangup_cause}","${uuid}","${bleg_uuid}","${accountcode}","${read_codec}","${write_codec}"

Stamps are "YYYY-MM-DD HH:MM:SS" in the switch's local time; an unanswered leg has an empty
answer_stamp. The hangup cause gives the disposition; the uuid is the record's own id.
"""

from __future__ import annotations

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

COLUMNS = 15
HANGUP_CAUSES = {
    "NORMAL_CLEARING": "answered",
    "USER_BUSY": "busy",
    "NO_ANSWER": "no_answer",
    "NO_USER_RESPONSE": "no_answer",
    "ORIGINATOR_CANCEL": "no_answer",
}


def parse(
    lines: Iterable[str], *, first_line: int = 1, zone: tzinfo, **_: object
) -> Iterator[Record]:
    times = LocalTimes(zone)
    for number, fields, text in rows_with_text(lines, first_line=first_line):
        if len(fields) != COLUMNS:
            yield reject(
                MALFORMED_ROW,
                f"{len(fields)} columns; the default mod_cdr_csv template writes {COLUMNS}",
                text,
                number,
            )
            continue
        known = {"calling_number": fields[1], "called_number": fields[2], "service": "voice"}
        try:
            started = times.parse(fields[4])
            answered = times.parse(fields[5])
            ended = times.parse(fields[6])
        except ValueError:
            yield reject(
                BAD_TIME, f"start_stamp {fields[4]!r} is not a time", text, number, **known
            )
            continue
        if started is None:
            yield reject(BAD_TIME, "no start_stamp", text, number, **known)
            continue
        try:
            duration = int_field(fields[7], "duration")
            billsec = int_field(fields[8], "billsec")
        except ValueError as error:
            yield reject(MALFORMED_ROW, str(error), text, number, **known)
            continue
        cause = fields[9].strip().upper()
        disposition = HANGUP_CAUSES.get(cause, "failed")
        if disposition == "answered" and answered is None:
            disposition = "no_answer"
        yield {
            "line_number": number,
            "raw": text,
            "source_record_id": fields[10],
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
