"""Guiding a usage record to the line it belongs to, and classing its destination."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection

from billing.usage.parsers import Record
from crm.models import Subscriber

UNKNOWN_LINE = "unknown_line"
MALFORMED_NUMBER = "malformed_number"


# --- lines ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Line:
    subscriber_id: int
    account_id: int
    msisdn: str
    imsi: str
    status: str
    status_changed_at: datetime | None
    plan_id: int | None
    payment_type: str
    currency: str
    bill_cycle_day: int

    def live_at(self, moment: datetime) -> bool:
        """A terminated line's number may belong to someone else after it ended."""
        if self.status != Subscriber.Status.TERMINATED:
            return True
        return self.status_changed_at is not None and self.status_changed_at > moment


class LineDirectory:
    """The lines a batch's records name, loaded a chunk's worth of numbers at a time with one
    query and kept for the batch (a number not found is remembered as not found)."""

    def __init__(self) -> None:
        self.by_msisdn: dict[str, list[Line]] = {}
        self.by_imsi: dict[str, list[Line]] = {}

    def load(self, msisdns: Iterable[str], imsis: Iterable[str]) -> None:
        numbers = {n for n in msisdns if n and n not in self.by_msisdn}
        identities = {i for i in imsis if i and i not in self.by_imsi}
        if not numbers and not identities:
            return
        for number in numbers:
            self.by_msisdn[number] = []
        for identity in identities:
            self.by_imsi[identity] = []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.id, s.account_id, s.msisdn, s.imsi, s.status, s.status_changed_at, "
                "s.plan_id, a.payment_type, a.currency, a.bill_cycle_day "
                "FROM crm_subscriber s JOIN crm_account a ON a.id = s.account_id "
                + (
                    "WHERE s.msisdn = ANY(%s::text[]) OR s.imsi = ANY(%s::text[])"
                    if connection.vendor == "postgresql"
                    else "WHERE s.msisdn IN (SELECT value FROM json_each(%s)) "
                    "OR s.imsi IN (SELECT value FROM json_each(%s))"
                ),
                _text_arrays(sorted(numbers), sorted(identities)),
            )
            rows = cursor.fetchall()
        for row in rows:
            line = Line(*row)
            changed = line.status_changed_at
            if changed is not None and changed.tzinfo is None:  # SQLite's raw rows: UTC, naive
                line.status_changed_at = changed.replace(tzinfo=UTC)
            if line.msisdn in numbers:
                self.by_msisdn[line.msisdn].append(line)
            if line.imsi in identities:
                self.by_imsi[line.imsi].append(line)

    @staticmethod
    def _at(candidates: list[Line] | None, moment: datetime) -> Line | None:
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0] if candidates[0].live_at(moment) else None
        live = [line for line in candidates if line.live_at(moment)]
        # A reused number: the line terminated after the call is the one that made it.
        live.sort(key=lambda line: line.status_changed_at or datetime.max.replace(tzinfo=UTC))
        return live[0] if live else None

    def msisdn_at(self, number: str, moment: datetime) -> Line | None:
        return self._at(self.by_msisdn.get(number), moment)

    def imsi_at(self, identity: str, moment: datetime) -> Line | None:
        return self._at(self.by_imsi.get(identity), moment)


def _text_arrays(*groups: list[str]) -> list[str]:
    """Lists of plain tokens (digits, "+") as array literals (PostgreSQL) or JSON (SQLite)."""
    if connection.vendor == "postgresql":
        return ["{" + ",".join(group) + "}" for group in groups]
    return [json.dumps(group) for group in groups]


def records_guide(records: Sequence[Record], directory: LineDirectory) -> dict[int, Line]:
    """Match each record to its line (by MSISDN, or IMSI for data) as of the record's time and
    set its direction; a record no line owns is rejected `unknown_line`, one whose deciding
    number is not a number `malformed_number`. Returns the lines by subscriber pk."""
    directory.load(
        (n for r in records for n in (r.get("calling_e164", ""), r.get("called_e164", ""))),
        (r.get("imsi", "") for r in records),
    )
    found: dict[int, Line] = {}
    for record in records:
        if "reject_reason" in record:
            continue
        moment = record["started_at"]
        direction = record.get("direction", "")
        line: Line | None = None
        if record.get("imsi"):
            line = directory.imsi_at(record["imsi"], moment)
            direction = direction or "originating"
        if line is None and direction != "terminating" and record["calling_e164"]:
            line = directory.msisdn_at(record["calling_e164"], moment)
            if line is not None:
                direction = "originating"
        if line is None and direction != "originating" and record["called_e164"]:
            line = directory.msisdn_at(record["called_e164"], moment)
            if line is not None:
                direction = "terminating"
        if line is None:
            problem = record.get("calling_problem") or record.get("called_problem")
            if problem:
                record["reject_reason"] = MALFORMED_NUMBER
                record["reject_detail"] = problem
            else:
                record["reject_reason"] = UNKNOWN_LINE
                number = record.get("imsi") or record["calling_e164"] or record["called_number"]
                record["reject_detail"] = f"no line has {number} at {moment.isoformat()}"
            continue
        if (
            direction == "originating"
            and record["service"] != "data"
            and record.get("called_problem")
        ):
            record["reject_reason"] = MALFORMED_NUMBER
            record["reject_detail"] = record["called_problem"]
            continue
        record["direction"] = direction
        record["subscriber_id"] = line.subscriber_id
        record["account_id"] = line.account_id
        record["payment_type"] = line.payment_type
        record["currency"] = line.currency
        found[line.subscriber_id] = line
    return found


# --- destinations --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prefixes:
    on_net: tuple[str, ...]
    premium: tuple[str, ...]
    home_code: str
    home_mcc: str
    zones: dict[str, str]
    default_zone: str

    @classmethod
    def from_settings(cls) -> Prefixes:
        from billing.usage.parsers import Numbers

        return cls(
            on_net=tuple(p.lstrip("+") for p in settings.USAGE_ONNET_PREFIXES),
            premium=tuple(p.lstrip("+") for p in settings.USAGE_PREMIUM_PREFIXES),
            home_code=Numbers().country_code,
            home_mcc=settings.OPERATOR_MCC,
            zones=dict(settings.USAGE_ROAMING_ZONES),
            default_zone=settings.USAGE_ROAMING_DEFAULT_ZONE,
        )


def destination_class(record: Record, prefixes: Prefixes) -> None:
    """Set `destination_class`, `roaming` and `roaming_zone` from the configured prefix lists
    (settings.USAGE_ONNET_PREFIXES, USAGE_PREMIUM_PREFIXES, USAGE_ROAMING_ZONES)."""
    mcc = record.get("visited_mcc", "")
    if mcc and mcc != prefixes.home_mcc:
        record["roaming"] = True
        record["roaming_zone"] = prefixes.zones.get(mcc, prefixes.default_zone)
    elif record.get("roaming"):
        record["roaming_zone"] = prefixes.default_zone
    if record["service"] == "data":
        record["destination_class"] = "data"
        return
    digits = record.get("called_e164", "")[1:]
    if not digits:
        record["destination_class"] = "short_code"
    elif digits.startswith(prefixes.premium):
        record["destination_class"] = "premium"
    elif not digits.startswith(prefixes.home_code):
        record["destination_class"] = "international"
    elif digits.startswith(prefixes.on_net):
        record["destination_class"] = "on_net"
    else:
        record["destination_class"] = "off_net"
