"""Usage-ingestion fixtures: a postpaid line on a plan, a tariff engine that prices calls
and messages simply, and writers of CDR files in the switches' real formats."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from billing.rating.plan import SECOND


@dataclass(frozen=True)
class Call:
    tenant: str
    category: str
    subject: str
    destination: str
    answer_time: datetime
    usage: int
    tor: str = "*voice"


@dataclass(frozen=True)
class Priced:
    cost: Decimal
    trace: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    reason: str


class PerUnitEngine:
    """0.10 a minute per second, 0.05 a message; destinations starting 99 have no rate."""

    calls_seen = 0

    def rate_many(self, calls: list[Call]) -> list[Priced | Refused]:
        PerUnitEngine.calls_seen += len(calls)
        results: list[Priced | Refused] = []
        for call in calls:
            if call.destination.startswith("99"):
                results.append(Refused("no_destination"))
            elif call.tor == "*voice":
                seconds = Decimal(call.usage) / SECOND
                cost = (seconds * Decimal("0.10") / 60).quantize(Decimal("0.0001"), ROUND_UP)
                results.append(Priced(cost, {"rate": "0.10/min", "seconds": str(seconds)}))
            else:
                results.append(Priced(Decimal("0.05") * call.usage, {"rate": "0.05/msg"}))
        return results


def fake_resolver(*, plan_id: int | None) -> Any:
    from billing.usage.lines import Tariff

    return Tariff(version_id=7, engine=PerUnitEngine(), currency="GBP", describe=Call)


@pytest.fixture(autouse=True)
def _usage_settings(settings: Any) -> None:
    from billing.usage import imports
    from billing.usage.lines import rating

    settings.USAGE_TARIFF_RESOLVER = "billing.tests.usage.conftest.fake_resolver"
    settings.TIME_ZONE = "UTC"
    rating.tiers_clear()
    rating._plan_currency.cache_clear()
    rating._operator_zone.cache_clear()
    imports.partitions_forget()
    imports.contexts_forget()


@pytest.fixture
def plan(db: None) -> Any:
    from orders.tests.factories import PricePlanFactory

    return PricePlanFactory(code="talk", currency="GBP")


@pytest.fixture
def line(customer: Any, plan: Any) -> Any:
    """An active postpaid line on `plan`: +44 7400 123456 (on-net range)."""
    from crm.tests.factories import SubscriberFactory

    return SubscriberFactory(
        account__customer=customer,
        account__currency="GBP",
        msisdn="+447400123456",
        imsi="234100000000001",
        status="active",
        plan=plan,
    )


@pytest.fixture
def actor(admin: Any) -> Any:
    return admin


def at(days_ago: int = 1, hour: int = 10, minute: int = 0) -> datetime:
    base = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return base - timedelta(days=days_ago)


def stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def asterisk_row(
    src: str,
    dst: str,
    *,
    start: datetime,
    billsec: int = 60,
    ring: int = 5,
    disposition: str = "ANSWERED",
    uniqueid: str | None = None,
    userfield: str | None = None,
) -> list[str]:
    """A Master.csv row as cdr_csv writes it (uniqueid, then userfield, when enabled)."""
    answered = start + timedelta(seconds=ring) if disposition == "ANSWERED" else None
    end = start + timedelta(seconds=ring + (billsec if answered else 0))
    row = [
        "",
        src,
        dst,
        "from-internal",
        f'"Ada" <{src}>',
        "SIP/100-00000001",
        "SIP/trunk-00000002",
        "Dial",
        f"SIP/trunk/{dst},60",
        stamp(start),
        stamp(answered),
        stamp(end),
        str(ring + (billsec if answered else 0)),
        str(billsec if answered else 0),
        disposition,
        "DOCUMENTATION",
    ]
    if uniqueid is not None:
        row.append(uniqueid)
    if userfield is not None:
        row.append(userfield)
    return row


def freeswitch_row(
    src: str,
    dst: str,
    *,
    start: datetime,
    billsec: int = 60,
    cause: str = "NORMAL_CLEARING",
    uuid: str = "a5f1c6de-0000-4000-8000-000000000001",
) -> list[str]:
    answered = start + timedelta(seconds=3) if cause == "NORMAL_CLEARING" else None
    end = start + timedelta(seconds=3 + (billsec if answered else 0))
    return [
        "Ada",
        src,
        dst,
        "default",
        stamp(start),
        stamp(answered),
        stamp(end),
        str(3 + (billsec if answered else 0)),
        str(billsec if answered else 0),
        cause,
        uuid,
        "",
        "",
        "PCMA",
        "PCMA",
    ]


def csv_text(rows: list[list[str]]) -> str:
    """Every field quoted, as both switches write them."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sms_record(record_id: str, *, hour: int, parts: int | None = None) -> dict[str, Any]:
    """An SMS sent by the `line` fixture's number, as an API client sends it."""
    record = {
        "record_id": record_id,
        "service": "sms",
        "calling_number": "+447400123456",
        "called_number": "+447700900123",
        "started_at": at(hour=hour).isoformat(),
    }
    if parts is not None:
        record["message_parts"] = str(parts)
    return record


def sms_tiers(plan: Any, *, first: int, first_price: str, then_price: str) -> None:
    """The plan's SMS charging tiers: the first `first` messages at one price, then another."""
    from orders.catalog.models import ChargingTier

    ChargingTier.objects.create(
        plan=plan, service="sms", from_quantity=0, to_quantity=first,
        unit_price_amount=Decimal(first_price),
    )  # fmt: skip
    ChargingTier.objects.create(
        plan=plan, service="sms", from_quantity=first, unit_price_amount=Decimal(then_price)
    )


def grant_allowance(
    *,
    subscriber: Any,
    service: str,
    quantity: Decimal,
    source_key: str,
    source_description: str = "Bundle",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    scope: str = "all",
    zone: str = "",
) -> Any:
    """An allowance bucket for a line, opened through the service orders use."""
    from billing.services import allowance_grant
    from common.actors import system_actor

    return allowance_grant(
        subscriber=subscriber,
        service=service,
        quantity=quantity,
        source_key=source_key,
        description=source_description,
        actor=system_actor(),
        valid_from=valid_from,
        valid_until=valid_until,
        scope=scope,
        zone=zone,
    )
