"""Subscribers (lines): the crm side of each change to a line.

Every business change to a line (connect, activate, suspend, resume, terminate, change plan,
swap SIM) is one order, placed through orders.lines or orders.placing by every door (console,
API, partner portal, self-care, scheduled jobs) and applied by orders.services. These functions
write only the line's own columns and status events, each under the line's row lock; they are
called by that order completion and by nothing that bypasses it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import ApplicationError, FieldErrors, InvalidTransition
from common.parsing import reason_parse
from crm.models import Account, Interaction, Subscriber, SubscriberEvent, User
from crm.validators import iccid_clean, imsi_clean, msisdn_clean

if TYPE_CHECKING:
    from orders.catalog.models import PricePlan

_UNIQUE_FIELDS = {
    "msisdn": "This MSISDN belongs to another live subscriber.",
    "iccid": "This SIM (ICCID) belongs to another live subscriber.",
    "imsi": "This IMSI belongs to another live subscriber.",
}


def subscriber_get_locked(subscriber: Subscriber) -> Subscriber:
    """The line's row, fresh and locked FOR UPDATE; call inside a transaction."""
    return Subscriber.objects.select_for_update().select_related("account").get(pk=subscriber.pk)


@transaction.atomic
def subscriber_create(
    *,
    account: Account,
    actor: User,
    msisdn: str,
    iccid: str,
    imsi: str,
    reason: str,
    plan: PricePlan | None = None,
    status: str = Subscriber.Status.ACTIVE,
) -> Subscriber:
    """Connect a line to an account: validated identifiers, one live owner per number and SIM.

    Called when a new-connection order completes, after the order has taken the number and
    SIM out of stock; a concurrent sale of the same number loses on the live-line uniqueness.
    """
    errors = FieldErrors()
    values = {
        "msisdn": errors.clean("msisdn", msisdn_clean, msisdn),
        "iccid": errors.clean("iccid", iccid_clean, iccid),
        "imsi": errors.clean("imsi", imsi_clean, imsi),
    }
    if account.status != Account.Status.ACTIVE:
        errors.add("account", f"Account {account.number} is {account.status}.")
    if status not in (Subscriber.Status.ACTIVE, Subscriber.Status.PENDING):
        errors.add("status", "A new line is active, or pending until it is activated.")
    errors.raise_if_any()
    live = Subscriber.objects.exclude(status=Subscriber.Status.TERMINATED)
    for name, message in _UNIQUE_FIELDS.items():
        if live.filter(**{name: values[name]}).exists():
            errors.add(name, message)
    errors.raise_if_any()
    now = timezone.now()
    try:
        with transaction.atomic():  # a concurrent sale of the same number loses here, cleanly
            subscriber = Subscriber.objects.create(
                account=account,
                status=status,
                status_changed_at=now,
                plan=plan,
                plan_started_on=timezone.localdate() if plan is not None else None,
                **values,
            )
    except IntegrityError as exc:
        text = str(exc)
        fields = {n: [m] for n, m in _UNIQUE_FIELDS.items() if f"live_{n}_unique" in text}
        raise ApplicationError(
            "The number or SIM was taken by another sale a moment ago.",
            code="conflict",
            fields=fields or {"msisdn": [_UNIQUE_FIELDS["msisdn"]]},
        ) from exc
    SubscriberEvent.objects.create(
        subscriber=subscriber,
        old_status="",
        new_status=status,
        actor=actor,
        reason=reason_parse(reason),
        created_at=now,
    )
    return subscriber


@transaction.atomic
def subscriber_status_change(
    *, subscriber: Subscriber, new_status: str, actor: User, reason: str
) -> Subscriber:
    """Move the line to `new_status` as Subscriber.TRANSITIONS allows, with its event row."""
    reason = reason_parse(reason)
    locked = subscriber_get_locked(subscriber)
    old_status = locked.status
    if new_status not in locked.allowed_transitions():
        raise InvalidTransition(
            f"{locked.msisdn_display} is {old_status}; it cannot become {new_status}."
        )
    now = timezone.now()
    locked.status = new_status
    locked.status_changed_at = now
    locked.save(update_fields=["status", "status_changed_at", "updated_at"])
    SubscriberEvent.objects.create(
        subscriber=locked,
        old_status=old_status,
        new_status=new_status,
        actor=actor,
        reason=reason,
        created_at=now,
    )
    return locked


@transaction.atomic
def subscriber_plan_set(
    *, subscriber: Subscriber, plan: PricePlan, actor: User, since: date
) -> Subscriber:
    """Put the line on `plan` from `since` (the first day of its new recurring periods)."""
    locked = subscriber_get_locked(subscriber)
    if locked.status == Subscriber.Status.TERMINATED:
        raise InvalidTransition(f"{locked.msisdn_display} is terminated; its plan cannot change.")
    locked.plan = plan
    locked.plan_started_on = since
    locked.save(update_fields=["plan", "plan_started_on", "updated_at"])
    return locked


@transaction.atomic
def subscriber_sim_change(
    *, subscriber: Subscriber, iccid: str, imsi: str, actor: User, reason: str
) -> Subscriber:
    """Put the line on another SIM (a swap): it keeps its number and status. The stock has
    already moved the cards (orders.inventory's sim_swap_inventory); the customer's timeline
    records the swap."""
    reason = reason_parse(reason)
    line = subscriber_get_locked(subscriber)
    if line.status == Subscriber.Status.TERMINATED:
        raise InvalidTransition(f"{line.msisdn_display} is terminated; its SIM cannot change.")
    holder = (
        Subscriber.objects.exclude(status=Subscriber.Status.TERMINATED)
        .exclude(pk=line.pk)
        .filter(iccid=iccid)
        .first()
    )
    if holder is not None:
        message = f"SIM {iccid} is the SIM of line {holder.msisdn_display}."
        raise ApplicationError(message, code="conflict", fields={"iccid": [message]})
    old_iccid = line.iccid
    try:
        with transaction.atomic():
            Subscriber.objects.filter(pk=line.pk).update(
                iccid=iccid, imsi=imsi, updated_at=timezone.now()
            )
    except IntegrityError as exc:
        message = f"SIM {iccid} or its IMSI belongs to another live line."
        raise ApplicationError(message, code="conflict", fields={"iccid": [message]}) from exc
    Interaction.objects.create(
        customer=line.account.customer,
        kind=Interaction.Kind.NOTE,
        direction=Interaction.Direction.INTERNAL,
        subject="SIM swapped",
        body=f"SIM of {line.msisdn_display} swapped from {old_iccid} to {iccid}: {reason}",
        author=actor,
    )
    line.iccid, line.imsi = iccid, imsi
    return line
