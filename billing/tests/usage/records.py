"""Usage records written straight into the table, for tests that need an exact data set
(itemised usage, re-rating, reconciliation) rather than a file through the pipeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing.usage.models import UsageBatch, UsageRecord


def batch(source: str = "switch-a", **counts: Any) -> UsageBatch:
    return UsageBatch.objects.create(
        source_kind=UsageBatch.SourceKind.FILE,
        source_name=source,
        format=UsageBatch.Format.ASTERISK,
        status=UsageBatch.Status.DONE,
        **counts,
    )


def record(
    line: Any,
    *,
    started_at: datetime,
    batch_of: UsageBatch | None = None,
    service: str = "voice",
    direction: str = "originating",
    status: str = "rated",
    called: str = "+447700900123",
    calling: str | None = None,
    seconds: int = 60,
    parts: int = 0,
    bytes_down: int = 0,
    charge: str | None = "0.1000",
    allowance_units: str = "0",
    rated_units: str | None = None,
    destination_class: str = "off_net",
    reject_reason: str = "",
    tariff_version_id: int | None = 7,
    created_at: datetime | None = None,
) -> UsageRecord:
    if rated_units is None:
        if service == "voice":
            rated_units = str(Decimal(seconds) / 60)
        elif service in ("sms", "mms"):
            rated_units = str(parts or 1)
        else:
            rated_units = str(Decimal(bytes_down) / 1_000_000)
    guided = status not in ("received",)
    return UsageRecord.objects.create(
        dedup_key=uuid.uuid4(),
        batch_id=(batch_of.pk if batch_of else 0),
        status=status,
        reject_reason=reject_reason,
        service=service,
        direction=direction,
        calling_number=calling or line.msisdn,
        calling_e164=calling or line.msisdn,
        called_number=called,
        called_e164=called if called.startswith("+") else "",
        started_at=started_at,
        answered_at=started_at if service == "voice" else None,
        duration_seconds=seconds if service == "voice" else 0,
        billable_seconds=seconds if service == "voice" else 0,
        disposition="answered" if service == "voice" else "",
        delivery_status="delivered" if service in ("sms", "mms") else "",
        message_parts=parts,
        bytes_down=bytes_down,
        destination_class=destination_class,
        subscriber_id=line.pk if guided else None,
        account_id=line.account_id if guided else None,
        payment_type=line.account.payment_type if guided else "",
        charge_amount=Decimal(charge) if charge is not None else None,
        currency=line.account.currency if charge is not None else "",
        allowance_units=Decimal(allowance_units),
        rated_units=Decimal(rated_units),
        tariff_version_id=tariff_version_id,
        rating_trace={"steps": []},
        rated_at=started_at if status in ("rated", "billed", "rerated") else None,
        created_at=created_at or timezone.now(),
    )
