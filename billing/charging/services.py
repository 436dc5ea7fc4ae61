"""Event charging: one SMS, one MMS or a fixed-price service, checked and debited in one step.

The answer is stored under the client's request id (unique per client) in the transaction that
debits: a repeat, even one sent at the same instant, waits for the first to commit, finds its
answer, undoes its own work and returns the first answer, so nothing is debited twice. The
decision, in that transaction: the line (unknown, barred or suspended lines are denied), units
from an allowance bucket that holds them all, else the price from the line's tariff (or the
service's own price) taken from its money buckets, all or nothing (billing.balances). A
denial is an answer too, kept and repeated like a grant. Postpaid lines are granted without a
debit: their usage reaches the bill through the usage records.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from billing.balances.services import (
    BalanceRefused,
    IdempotencyConflict,
    money_take,
    units_take,
)
from billing.charging.models import ChargingRequest
from billing.usage import lines as line_rating
from billing.usage.parsers import Numbers
from crm.models import Account, Subscriber

SERVICES = ("sms", "mms", "service")
MONEY_STEP = Decimal("0.0001")


@dataclass(frozen=True)
class ChargingEvent:
    msisdn: str
    service: str  # sms, mms or service (a fixed-price service: `amount` says its price)
    quantity: int = 1  # messages (service events: 1)
    destination: str = ""
    amount: Decimal | None = None
    occurred_at: datetime | None = None

    def fingerprint(self) -> str:
        body = json.dumps(
            {
                "msisdn": self.msisdn, "service": self.service, "quantity": self.quantity,
                "destination": self.destination,
                "amount": None if self.amount is None else str(self.amount),
                "occurred_at": None if self.occurred_at is None else self.occurred_at.isoformat(),
            },
            sort_keys=True,
        )  # fmt: skip
        return hashlib.sha256(body.encode()).hexdigest()


class _Repeated(Exception):
    """The request id was answered by another transaction: undo this one's work."""


def event_charge(*, client: Any, request_id: str, event: ChargingEvent) -> ChargingRequest:
    """Answer one charging event (see the module docstring); the answer is the stored request.
    A request id used before with another event raises IdempotencyConflict.

    The event is decided and debited first and its answer inserted last, in one transaction:
    an answer already stored for the id (or being stored by a concurrent repeat, which the
    insert waits for) makes the insert do nothing, and the whole transaction, debits included,
    is undone and the first answer returned. A first request costs no extra statement."""
    fingerprint = event.fingerprint()
    at = event.occurred_at or timezone.now()
    claim = ChargingRequest(
        client=client,
        request_id=request_id,
        fingerprint=fingerprint,
        service=event.service,
        quantity=event.quantity,
        destination=event.destination[:40],
        occurred_at=at,
        result=ChargingRequest.Result.DENIED,
    )
    try:
        with transaction.atomic():
            _decide(claim, event, at=at, actor=client)
            if not _answer_insert(claim):
                raise _Repeated
            return claim
    except _Repeated:
        first = ChargingRequest.objects.get(client=client, request_id=request_id)
        if first.fingerprint != fingerprint:
            raise IdempotencyConflict(
                "This request id was used for a different event.",
                fields={"request_id": ["Already used for another event."]},
            ) from None
        return first


def _answer_insert(claim: ChargingRequest) -> bool:
    """Insert the answer unless the client's request id has one (ON CONFLICT DO NOTHING: a
    concurrent insert of the same id is waited for). Whether it was inserted."""
    fields = [f for f in ChargingRequest._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = [f.get_db_prep_save(f.pre_save(claim, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{ChargingRequest._meta.db_table}" ({columns}) '
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            "ON CONFLICT (client_id, request_id) DO NOTHING RETURNING id",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return False
    claim.pk = row[0]
    claim._state.adding = False
    return True


def line_for_charging(msisdn: str) -> tuple[Subscriber | None, tuple[str, str] | None]:
    """The line of `msisdn`, and why it may not be charged (reason, detail) if so: an unknown
    number, or a line (or account) that is not active."""
    e164, problem = Numbers().normalise(msisdn)
    line = (
        Subscriber.objects.select_related("account").filter(msisdn=e164).first()
        if not problem
        else None
    )
    if line is None:
        return None, ("unknown_subscriber", f"No line has the number {msisdn!r}.")
    if line.status != Subscriber.Status.ACTIVE:
        return line, ("line_barred", f"The line is {line.get_status_display().lower()}.")
    if line.account.status != Account.Status.ACTIVE:
        state = line.account.get_status_display().lower()
        return line, ("line_barred", f"The line's account is {state}.")
    return line, None


def _decide(claim: ChargingRequest, event: ChargingEvent, *, at: datetime, actor: Any) -> None:
    line, refusal = line_for_charging(event.msisdn)
    claim.subscriber = line
    if line is None or refusal is not None:
        assert refusal is not None
        _deny(claim, *refusal)
        return
    if line.account.payment_type != Account.PaymentType.PREPAID:
        claim.result = ChargingRequest.Result.GRANTED
        claim.detail = "Postpaid line: charged through its usage records and bill."
        return
    reference = f"event {claim.request_id}"[:120]
    record = _record(event, line, at)
    if event.service in ("sms", "mms"):
        taken = units_take(
            subscriber=line,
            service="sms",
            quantity=Decimal(event.quantity),
            destination_class=record.get("destination_class", ""),
            actor=actor,
            reference=reference,
            at=at,
        )
        if taken is not None:
            claim.result = ChargingRequest.Result.GRANTED
            claim.units_charged = -taken.amount
            return
    price = _price(event, line, record)
    if isinstance(price, str):
        _deny(claim, "no_rate", price)
        return
    amount, currency = price
    try:  # money_take refuses before it writes anything: no savepoint needed
        money_take(
            subscriber=line,
            amount=amount,
            currency=currency,
            actor=actor,
            reference=reference,
            at=at,
        )
    except BalanceRefused as refused:
        _deny(claim, refused.code, refused.message)
        return
    claim.result = ChargingRequest.Result.GRANTED
    claim.amount_charged = amount
    claim.currency = currency


def _record(event: ChargingEvent, line: Subscriber, at: datetime) -> dict[str, Any]:
    """The event as a usage record, classed like rated usage (on-net, off-net, international,
    premium): the same rules price it."""
    numbers = Numbers()
    called, _ = numbers.normalise(event.destination) if event.destination else ("", "")
    record: dict[str, Any] = {
        "service": "sms" if event.service == "service" else event.service,
        "direction": "originating",
        "calling_e164": line.msisdn,
        "called_number": event.destination,
        "called_e164": called,
        "started_at": at,
        "message_parts": event.quantity,
    }
    line_rating.destination_class(record, line_rating.Prefixes.from_settings())
    return record


def _price(
    event: ChargingEvent, line: Subscriber, record: dict[str, Any]
) -> tuple[Decimal, str] | str:
    """(amount, currency) of the event, or why it has no price."""
    currency = line.account.currency
    if event.service == "service":
        if event.amount is None:
            return "A service event needs its price."
        return event.amount, currency
    tariff = tariff_for_plan(line.plan_id)
    if tariff is None:
        return "The line's plan has no tariff."
    if tariff.currency != currency:
        return f"The tariff is priced in {tariff.currency}; the account is in {currency}."
    call = line_rating.call_descriptor(tariff, record, Decimal(event.quantity))
    result = tariff.engine.rate_many([call])[0]
    cost = getattr(result, "cost", None)
    if cost is None:
        return str(getattr(result, "reason", result))
    return Decimal(cost).quantize(MONEY_STEP, ROUND_HALF_UP), currency


# A plan's tariff (its versions and compiled engines) is kept a minute per worker process: read
# afresh for every event it would cost more than the rest of the request. A version published
# now rates from the next minute on.
TARIFF_SECONDS = 60.0
_TARIFFS: dict[int | None, tuple[float, Any]] = {}


def tariff_for_plan(plan_id: int | None) -> Any:
    now = time.monotonic()
    kept = _TARIFFS.get(plan_id)
    if kept is not None and now - kept[0] < TARIFF_SECONDS:
        return kept[1]
    tariff = line_rating.tariff_resolver()(plan_id=plan_id)
    if len(_TARIFFS) > 1000:
        _TARIFFS.clear()
    _TARIFFS[plan_id] = (now, tariff)
    return tariff


def tariffs_forget() -> None:
    """Forget kept tariffs (tests change settings and tariffs)."""
    _TARIFFS.clear()


def _deny(claim: ChargingRequest, reason: str, detail: str) -> None:
    claim.result = ChargingRequest.Result.DENIED
    claim.reason = reason
    claim.detail = detail[:200]
