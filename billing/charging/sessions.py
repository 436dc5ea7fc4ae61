"""Session charging (voice seconds, data bytes) in the shape of Diameter Gy's credit control.

- initiate: the line is checked (unknown, barred), then a quota is reserved: from an allowance
  bucket that has units left (up to the quota asked), else the quota's price from the line's
  money buckets, halved until the money covers it (down to one second, or one kilobyte).
- update: what was used is committed (units from the allowance held; money at the price of the
  session's usage so far less what was already charged, so a connect fee or a first block is
  charged once), the rest released, and a new quota reserved.
- terminate: the last use is committed and the rest released; the session closes.

Every request carries its own id (claimed first, like event charging): a repeat returns the
first answer and changes nothing. A session not updated before `expires_at` is expired by a
scheduled task, its reservations released. Usage beyond the quota granted is not charged
(the network enforces the quota); the answer says so.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.balances.services import (
    BalanceRefused,
    IdempotencyConflict,
    money_reserve,
    reservation_settle,
    units_reserve,
)
from billing.charging.models import ChargingRequest, ChargingSession, Reservation
from billing.charging.services import line_for_charging, tariff_for_plan
from billing.rating.plan import SECOND
from billing.usage import lines as line_rating
from billing.usage.parsers import Numbers
from billing.usage.services import usage_records_charged_online
from common.actors import system_actor
from crm.models import Subscriber

SESSION_SERVICES = ("voice", "data")
SMALLEST_QUOTA = {"voice": Decimal(1), "data": Decimal(1000)}
MONEY_STEP = Decimal("0.0001")
Step = ChargingRequest.Step


def _claim(
    *, client: Any, request_id: str, step: str, body: dict[str, Any]
) -> tuple[ChargingRequest, bool]:
    """The request's row, claimed; (the first answer, False) when the id was used before."""
    fingerprint = hashlib.sha256(
        json.dumps({"step": step, **body}, sort_keys=True, default=str).encode()
    ).hexdigest()
    claim = ChargingRequest(
        client=client,
        request_id=request_id,
        fingerprint=fingerprint,
        step=step,
        service=str(body.get("service", "")),
        occurred_at=timezone.now(),
        result=ChargingRequest.Result.DENIED,
    )
    try:
        with transaction.atomic():
            claim.save(force_insert=True)
    except IntegrityError:
        first = ChargingRequest.objects.get(client=client, request_id=request_id)
        if first.fingerprint != fingerprint:
            raise IdempotencyConflict(
                "This request id was used for a different request.",
                fields={"request_id": ["Already used for another request."]},
            ) from None
        return first, False
    return claim, True


@transaction.atomic
def session_initiate(
    *,
    client: Any,
    request_id: str,
    session_id: str,
    msisdn: str,
    service: str,
    destination: str = "",
    requested: Decimal | None = None,
) -> ChargingRequest:
    body = {"session_id": session_id, "msisdn": msisdn, "service": service,
            "destination": destination, "requested": requested}  # fmt: skip
    claim, fresh = _claim(client=client, request_id=request_id, step=Step.INITIATE, body=body)
    if not fresh:
        return claim
    now = timezone.now()
    line, refusal = line_for_charging(msisdn)
    claim.subscriber = line
    if line is None or refusal is not None:
        assert refusal is not None
        return _deny(claim, *refusal)
    if ChargingSession.objects.filter(client=client, session_id=session_id).exists():
        return _deny(claim, "session_exists", "This session was initiated before.")
    session = ChargingSession.objects.create(
        client=client, session_id=session_id, subscriber=line, service=service,
        destination=destination[:100], currency=line.account.currency, started_at=now,
        updated_at=now, expires_at=now + _validity(),
    )  # fmt: skip
    claim.session = session
    if line.account.payment_type != "prepaid":
        return _grant(claim, session, requested or _default_quota(service), "Postpaid line.")
    answer = _reserve_and_answer(claim, session, line, requested, now)
    if answer.result == ChargingRequest.Result.DENIED:  # nothing reserved: no session goes on
        session.status = ChargingSession.Status.CLOSED
        session.save()
    return answer


@transaction.atomic
def session_update(
    *,
    client: Any,
    request_id: str,
    session_id: str,
    used: Decimal,
    requested: Decimal | None = None,
) -> ChargingRequest:
    body = {"session_id": session_id, "used": used, "requested": requested}
    claim, fresh = _claim(client=client, request_id=request_id, step=Step.UPDATE, body=body)
    if not fresh:
        return claim
    session = _open_session(client, session_id)
    if session is None:
        return _deny(claim, "unknown_session", "No open session has this id.")
    claim.session, claim.subscriber = session, session.subscriber
    now = timezone.now()
    note = _commit(session, used, now, reference=f"session {session_id}")
    session.expires_at = now + _validity()
    if session.subscriber.account.payment_type != "prepaid":
        return _grant(claim, session, requested or _default_quota(session.service), note)
    return _reserve_and_answer(claim, session, session.subscriber, requested, now, note=note)


@transaction.atomic
def session_terminate(
    *, client: Any, request_id: str, session_id: str, used: Decimal
) -> ChargingRequest:
    body = {"session_id": session_id, "used": used}
    claim, fresh = _claim(client=client, request_id=request_id, step=Step.TERMINATE, body=body)
    if not fresh:
        return claim
    session = _open_session(client, session_id)
    if session is None:
        return _deny(claim, "unknown_session", "No open session has this id.")
    claim.session, claim.subscriber = session, session.subscriber
    now = timezone.now()
    note = _commit(session, used, now, reference=f"session {session_id}")
    session.status = ChargingSession.Status.CLOSED
    session.updated_at = now
    session.save()
    return _grant(claim, session, Decimal(0), note)


def sessions_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Close the sessions not heard from in time, releasing what they hold (their unreported
    usage is not charged). Re-runnable; returns how many expired."""
    at = now or timezone.now()
    due = list(
        ChargingSession.objects.filter(status=ChargingSession.Status.OPEN, expires_at__lte=at)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    actor = system_actor()
    for pk in due:
        with transaction.atomic():
            session = (
                ChargingSession.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=ChargingSession.Status.OPEN, expires_at__lte=at)
                .first()
            )
            if session is None:
                continue
            for held in session.reservations.order_by("bucket_id"):
                reservation_settle(
                    bucket_pk=held.bucket_id, held=held.amount, used=Decimal(0), actor=actor,
                    reference=f"session {session.session_id} expired", at=at,
                )  # fmt: skip
            session.reservations.all().delete()
            session.status = ChargingSession.Status.EXPIRED
            session.quota = Decimal(0)
            session.updated_at = at
            session.save()
            expired += 1
    return expired


# --- the parts ---------------------------------------------------------------------------------


def _validity() -> timedelta:
    return timedelta(seconds=settings.CHARGING_RESERVATION_SECONDS)


def _default_quota(service: str) -> Decimal:
    return Decimal(settings.CHARGING_DEFAULT_QUOTA[service])


def _open_session(client: Any, session_id: str) -> ChargingSession | None:
    # only the session's row is locked (of="self"): locking its line too would deadlock with
    # requests inserting rows that refer to the line while they hold its money buckets
    return (
        ChargingSession.objects.select_for_update(of=("self",))
        .select_related("subscriber", "subscriber__account")
        .filter(client=client, session_id=session_id, status=ChargingSession.Status.OPEN)
        .first()
    )


def _reserve_and_answer(
    claim: ChargingRequest,
    session: ChargingSession,
    line: Subscriber,
    requested: Decimal | None,
    now: datetime,
    *,
    note: str = "",
) -> ChargingRequest:
    quota = requested or _default_quota(session.service)
    destination_class = _destination_class(session, line)
    held = units_reserve(
        subscriber=line,
        service=session.service,
        destination_class=destination_class,
        requested=quota,
        at=now,
    )
    if held is not None:
        bucket, amount = held
        Reservation.objects.create(session=session, bucket=bucket, amount=amount)
        return _grant(claim, session, amount, note)
    while quota >= SMALLEST_QUOTA[session.service]:
        price = _price(session, line, session.used, session.used + quota)
        if isinstance(price, str):
            session.save()
            return _deny(claim, "no_rate", price)
        if price == 0:
            return _grant(claim, session, quota, note)
        try:
            with transaction.atomic():
                holds = money_reserve(
                    subscriber=line, amount=price, currency=session.currency, at=now
                )
        except BalanceRefused:
            quota = (quota / 2).to_integral_value()
            continue
        Reservation.objects.bulk_create(
            Reservation(session=session, bucket=bucket, amount=amount) for bucket, amount in holds
        )
        return _grant(claim, session, quota, note)
    session.save()
    return _deny(claim, "insufficient_balance", "The balance cannot pay for any more usage.")


def _commit(session: ChargingSession, used: Decimal, now: datetime, *, reference: str) -> str:
    """Charge what was used of the quota held, release the rest; a note when usage went beyond
    the quota granted (not charged)."""
    note = ""
    if used > session.quota:
        note = f"Usage beyond the {session.quota} granted was not charged."
        used = session.quota
    holds = list(session.reservations.select_related("bucket").order_by("pk"))
    money_due = Decimal(0)
    if holds and holds[0].bucket.unit == "money":
        price = _price(session, session.subscriber, session.used, session.used + used)
        money_due = price if isinstance(price, Decimal) else Decimal(0)
    actor = system_actor()
    left = money_due
    for held in holds:
        if held.bucket.unit == "money":
            take = min(left, held.amount)
            left -= take
        else:
            take = min(used, held.amount)
        reservation_settle(
            bucket_pk=held.bucket_id, held=held.amount, used=take, actor=actor,
            reference=reference, at=now,
        )  # fmt: skip
    session.reservations.all().delete()
    session.used += used
    session.charged += money_due - left
    session.quota = Decimal(0)
    session.updated_at = now
    return note


def _destination_class(session: ChargingSession, line: Subscriber) -> str:
    if session.service == "data":
        return "data"
    record = _record(session, line)
    return str(record.get("destination_class", ""))


def _record(session: ChargingSession, line: Subscriber) -> dict[str, Any]:
    called, _ = Numbers().normalise(session.destination) if session.service == "voice" else ("", "")
    record: dict[str, Any] = {
        "service": session.service,
        "direction": "originating",
        "calling_e164": line.msisdn,
        "called_number": session.destination if session.service == "voice" else "",
        "called_e164": called,
        "apn": session.destination if session.service == "data" else "",
        "started_at": session.started_at,
    }
    line_rating.destination_class(record, line_rating.Prefixes.from_settings())
    return record


def _price(
    session: ChargingSession, line: Subscriber, before: Decimal, after: Decimal
) -> Decimal | str:
    """What the session's usage from `before` to `after` costs: the price of all of it less the
    price of what came before, both from the call's start (why it was refused, as text)."""
    tariff = tariff_for_plan(line.plan_id)
    if tariff is None:
        return "The line's plan has no tariff."
    if tariff.currency != session.currency:
        return f"The tariff is priced in {tariff.currency}; the account is in {session.currency}."
    record = _record(session, line)
    costs = []
    for usage in (before, after):
        if usage <= 0:
            costs.append(Decimal(0))
            continue
        units = int(usage) * SECOND if session.service == "voice" else int(usage)
        call = tariff.describe(
            tenant=tariff.tenant or str(settings.OPERATOR_NAME),
            category=tariff.categories.get(session.service, "call"),
            subject=tariff.subject,
            destination=(record.get("called_e164", "").lstrip("+") or record["called_number"])
            if session.service == "voice"
            else (session.destination or "*any"),
            answer_time=session.started_at,
            usage=units,
            tor="*" + session.service,
        )
        result = tariff.engine.rate_many([call])[0]
        cost = getattr(result, "cost", None)
        if cost is None:
            return str(getattr(result, "reason", result))
        costs.append(Decimal(cost))
    return (costs[1] - costs[0]).quantize(MONEY_STEP, ROUND_HALF_UP)


def _grant(
    claim: ChargingRequest, session: ChargingSession, quota: Decimal, note: str
) -> ChargingRequest:
    session.quota = quota
    session.save()
    claim.result = ChargingRequest.Result.GRANTED
    claim.granted_units = quota
    claim.units_charged = session.used
    claim.amount_charged = session.charged
    claim.currency = session.currency
    claim.detail = note[:200]
    claim.save()
    return claim


def _deny(claim: ChargingRequest, reason: str, detail: str) -> ChargingRequest:
    claim.result = ChargingRequest.Result.DENIED
    claim.reason = reason
    claim.detail = detail[:200]
    claim.save()
    return claim


# --- what was charged becomes usage records ------------------------------------------------------

ONLINE_SOURCE = "online-charging"


def charged_usage_record(*, limit: int = 5000) -> int:
    """Keep what online charging charged prepaid lines as usage records (itemised usage,
    reconciliation): granted SMS and MMS events, and ended sessions that used something, as
    one batch of records written as charged (billing.usage; never rated or debited again).
    Fixed-price service events stay in their answers and the ledger. Re-runnable; returns how
    many records were written."""
    now = timezone.now()
    with transaction.atomic():
        events = list(
            ChargingRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscriber", "subscriber__account")
            .filter(step=Step.EVENT, result=ChargingRequest.Result.GRANTED, usage_recorded_at=None)
            .order_by("created_at")[:limit]
        )
        sessions = list(
            ChargingSession.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscriber", "subscriber__account")
            .filter(
                status__in=[ChargingSession.Status.CLOSED, ChargingSession.Status.EXPIRED],
                usage_recorded_at=None,
            )
            .order_by("updated_at")[:limit]
        )
        records = [
            _event_record(event)
            for event in events
            if event.service in ("sms", "mms")
            and event.subscriber is not None
            and event.subscriber.account.payment_type == "prepaid"
        ]
        records += [
            _session_record(session)
            for session in sessions
            if session.used > 0 and session.subscriber.account.payment_type == "prepaid"
        ]
        if records:
            usage_records_charged_online(records=records, source=ONLINE_SOURCE)
        ChargingRequest.objects.filter(pk__in=[e.pk for e in events]).update(usage_recorded_at=now)
        ChargingSession.objects.filter(pk__in=[s.pk for s in sessions]).update(
            usage_recorded_at=now
        )
    return len(records)


def _line_fields(line: Subscriber) -> dict[str, Any]:
    return {
        "subscriber_id": line.pk,
        "account_id": line.account_id,
        "payment_type": line.account.payment_type,
        "calling_number": line.msisdn,
        "calling_e164": line.msisdn,
        "direction": "originating",
    }


def _event_record(event: ChargingRequest) -> dict[str, Any]:
    assert event.subscriber is not None
    called, _ = Numbers().normalise(event.destination) if event.destination else ("", "")
    record: dict[str, Any] = {
        **_line_fields(event.subscriber),
        "source_record_id": f"{event.client_id}:{event.request_id}",
        "service": event.service,
        "called_number": event.destination,
        "called_e164": called,
        "started_at": event.occurred_at,
        "message_parts": event.quantity,
        "delivery_status": "delivered",
        "charge_amount": event.amount_charged,
        "currency": event.currency or event.subscriber.account.currency,
        "allowance_units": event.units_charged,
        "rating_trace": {"online": {"request": event.request_id}},
    }
    line_rating.destination_class(record, line_rating.Prefixes.from_settings())
    return record


def _session_record(session: ChargingSession) -> dict[str, Any]:
    line = session.subscriber
    record: dict[str, Any] = {
        **_line_fields(line),
        **_record(session, line),
        "source_record_id": f"{session.client_id}:session:{session.session_id}",
        "charge_amount": session.charged,
        "currency": session.currency,
        "rating_trace": {"online": {"session": session.session_id, "used": str(session.used)}},
    }
    used = int(session.used)
    if session.service == "voice":
        record.update(
            answered_at=session.started_at,
            ended_at=session.started_at + timedelta(seconds=used),
            duration_seconds=used,
            billable_seconds=used,
            disposition="answered",
        )
    else:
        record.update(bytes_down=used)
    return record
