"""Orders: every change to a line's services, quoted as a draft, then submitted and completed.

Completing an order applies all its effects in one transaction (line status and plan,
allowances, inventory, charges for the bill) and cannot be applied twice: the order row is
locked, its status checked against Order.TRANSITIONS, and every charge and allowance carries
a unique key derived from the order line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import AllowanceGrant, Charge
from common.errors import ApplicationError, InvalidTransition
from common.money import Money
from crm import services as crm_services
from crm.models import Account, Subscriber, User
from orders.inventory import services as inventory
from orders.models import (
    Allowance,
    DeviceItem,
    Msisdn,
    Order,
    OrderEvent,
    OrderLine,
    PricePlan,
    SimCard,
    SubscriberAddOn,
)
from orders.proration import bill_period_containing

LIVE_LINE = (Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED)


# --- quotes -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quote:
    """What the customer is told before submitting: one-time total, the new recurring charge,
    and each proration line with its days and formula."""

    currency: str
    one_time: list[OrderLine]
    recurring: list[OrderLine]
    proration: list[OrderLine]
    one_time_total: Money
    recurring_total: Money
    proration_total: Money
    due_now: Money = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "due_now", self.one_time_total + self.proration_total)


def order_quote(*, order: Order) -> Quote:
    lines = list(order.lines.all())
    currency = order.account.currency
    proration_kinds = {OrderLine.Kind.PRORATION_CREDIT, OrderLine.Kind.PRORATION_DEBIT}
    proration = [line for line in lines if line.kind in proration_kinds]
    one_time = [line for line in lines if line.kind not in proration_kinds and line.one_time_amount]
    recurring = [line for line in lines if line.recurring_amount]

    def total(rows: Iterable[OrderLine], attribute: str) -> Money:
        return sum((Money(getattr(row, attribute), currency) for row in rows), Money.zero(currency))

    return Quote(
        currency=currency,
        one_time=one_time,
        recurring=recurring,
        proration=proration,
        one_time_total=total(one_time, "one_time_amount"),
        recurring_total=total(recurring, "recurring_amount"),
        proration_total=total(proration, "one_time_amount"),
    )


# --- the state machine --------------------------------------------------------------------------


def _transition(
    order: Order, new_status: str, *, actor: User, reason: str, **updates: Any
) -> Order:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if new_status not in locked.allowed_transitions():
        raise InvalidTransition(
            f"Order {locked.number} is {locked.get_status_display().lower()}; "
            f"it cannot become {Order.Status(new_status).label.lower()}."
        )
    old = locked.status
    locked.status = new_status
    for name, value in updates.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", *updates, "updated_at"])
    OrderEvent.objects.create(
        order=locked,
        old_status=old,
        new_status=new_status,
        actor=actor,
        reason=reason[:200],
        created_at=timezone.now(),
    )
    return locked


@transaction.atomic
def order_submit(*, order: Order, actor: User) -> Order:
    """Confirm a quoted draft; nothing is applied yet (see order_place)."""
    return _transition(
        order, Order.Status.SUBMITTED, actor=actor, reason="Submitted", submitted_at=timezone.now()
    )


def order_place(*, order: Order, actor: User) -> Order:
    """Submit a draft and, when it takes effect today, complete it at once; a plan change at
    the next bill date waits for that day (orders_due_complete). A completion the inventory or
    the line's state refuses (say the reservation expired and the number was sold) fails the
    order with the reason and releases what it still holds: it never half-applies."""
    order = order_submit(order=order, actor=actor)
    if order.effective_on is not None and order.effective_on > timezone.localdate():
        return order
    try:
        return order_complete(order=order, actor=actor)
    except ApplicationError as exc:
        return order_fail(order=order, actor=actor, reason=exc.message)


def _release_reservations(order: Order, actor: User, reason: str) -> None:
    """Give back what this order still holds; a lapsed hold since taken by another sale is
    that sale's now and is left alone."""
    number = Msisdn.objects.filter(pk=order.msisdn_id).first() if order.msisdn_id else None
    if number is not None and (number.status, number.reservation_ref) == (
        Msisdn.Status.RESERVED,
        order.number,
    ):
        inventory.msisdn_release(msisdn=number, actor=actor, reason=reason, ref=order.number)
    sim = SimCard.objects.filter(pk=order.sim_id).first() if order.sim_id else None
    if sim is not None and (sim.status, sim.reservation_ref) == (
        SimCard.Status.RESERVED,
        order.number,
    ):
        inventory.sim_release(sim=sim, actor=actor, reason=reason, ref=order.number)
    DeviceItem.objects.filter(
        reservation_ref=order.number, status=DeviceItem.Status.RESERVED
    ).update(status=DeviceItem.Status.IN_STOCK, reservation_ref="")


@transaction.atomic
def order_cancel(*, order: Order, actor: User, reason: str) -> Order:
    """Cancel before completion; the reserved number, SIM and devices go back to stock."""
    if not reason.strip():
        raise ApplicationError("Say why the order is cancelled.", fields={"reason": ["Required."]})
    order = _transition(order, Order.Status.CANCELLED, actor=actor, reason=reason)
    _release_reservations(order, actor, f"Order {order.number} cancelled")
    return order


@transaction.atomic
def order_fail(*, order: Order, actor: User, reason: str) -> Order:
    order = _transition(
        order, Order.Status.FAILED, actor=actor, reason=reason, failure_reason=reason[:200]
    )
    _release_reservations(order, actor, f"Order {order.number} failed")
    return order


def _period_end(account: Account, on: date) -> datetime:
    period = bill_period_containing(on, bill_cycle_day=account.bill_cycle_day)
    return timezone.make_aware(datetime.combine(period.end, time.min))


def _grant(
    subscriber: Subscriber,
    allowance: Allowance,
    *,
    key: str,
    until: datetime,
    description: str,
    actor: User,
) -> None:
    AllowanceGrant.objects.create(
        subscriber=subscriber,
        service=allowance.service,
        scope=allowance.scope,
        zone=allowance.zone,
        quantity=allowance.quantity,
        valid_from=timezone.now(),
        valid_until=until,
        source_key=key,
        source_description=description,
        granted_by=actor,
    )


def _plan_grants(order: Order, line: Subscriber, plan: PricePlan, actor: User) -> None:
    now = timezone.now()
    AllowanceGrant.objects.filter(
        subscriber=line, source_key__startswith="plan:", valid_until__gt=now
    ).update(valid_until=now)
    until = _period_end(order.account, timezone.localdate())
    for allowance in plan.allowances.all():
        _grant(
            line,
            allowance,
            key=f"plan:{order.number}:{allowance.pk}",
            until=until,
            description=f"{plan.name} ({order.number})",
            actor=actor,
        )


def _charges(order: Order, subscriber: Subscriber | None) -> None:
    kinds: dict[str, str] = {
        OrderLine.Kind.PRORATION_CREDIT: Charge.Kind.PRORATION_CREDIT,
        OrderLine.Kind.PRORATION_DEBIT: Charge.Kind.PRORATION_DEBIT,
    }
    for line in order.lines.all():
        if not line.one_time_amount:
            continue
        Charge.objects.create(
            account=order.account,
            subscriber=subscriber,
            kind=kinds.get(line.kind, Charge.Kind.ONE_TIME),
            description=f"{line.description} ({order.number})",
            amount=line.one_time_amount,
            currency=line.currency,
            details=line.details,
            period_start=line.details.get("period_start"),
            period_end=line.details.get("period_end"),
            source_key=f"order-line:{line.pk}",
        )


@transaction.atomic
def order_complete(*, order: Order, actor: User) -> Order:
    """Apply every effect of a submitted order in one transaction, exactly once."""
    order = _transition(order, Order.Status.IN_PROGRESS, actor=actor, reason="Applying")
    line = _apply(order, actor)
    _charges(order, line)
    return _transition(
        order,
        Order.Status.COMPLETED,
        actor=actor,
        reason="Completed",
        completed_at=timezone.now(),
        subscriber=line,
    )


def _apply(order: Order, actor: User) -> Subscriber | None:
    reason = f"Order {order.number}"
    if order.type == Order.Type.NEW_CONNECTION:
        assert order.msisdn
        assert order.sim
        assert order.plan
        number = inventory.msisdn_assign(msisdn=order.msisdn, ref=order.number, actor=actor)
        sim = inventory.sim_assign(sim=order.sim, ref=order.number, actor=actor)
        line = crm_services.subscriber_create(
            account=order.account,
            actor=actor,
            msisdn=number.number,
            iccid=sim.iccid,
            imsi=sim.imsi,
            activate=True,
            reason=f"New connection ({order.number})",
        )
        Subscriber.objects.filter(pk=line.pk).update(plan=order.plan)
        line.plan = order.plan
        _plan_grants(order, line, order.plan, actor)
        _addon_holdings(order, line, actor)
        DeviceItem.objects.filter(reservation_ref=order.number).update(
            status=DeviceItem.Status.SOLD
        )
        return line
    assert order.subscriber_id is not None
    line = Subscriber.objects.select_for_update().get(pk=order.subscriber_id)
    if order.type == Order.Type.PLAN_CHANGE:
        assert order.plan
        Subscriber.objects.filter(pk=line.pk).update(plan=order.plan)
        _plan_grants(order, line, order.plan, actor)
    elif order.type == Order.Type.ADD_ON:
        _addon_holdings(order, line, actor)
    elif order.type == Order.Type.SIM_SWAP:
        assert order.sim
        line = inventory.sim_swap_inventory(
            subscriber=line,
            new_sim=order.sim,
            actor=actor,
            reason=order.reason or reason,
            ref=order.number,
        )
    elif order.type == Order.Type.SUSPEND:
        line = crm_services.subscriber_suspend(subscriber=line, actor=actor, reason=order.reason)
    elif order.type == Order.Type.RESUME:
        line = crm_services.subscriber_resume(subscriber=line, actor=actor, reason=order.reason)
    elif order.type == Order.Type.TERMINATE:
        line = crm_services.subscriber_terminate(subscriber=line, actor=actor, reason=order.reason)
        pooled = Msisdn.objects.filter(number=line.msisdn, status=Msisdn.Status.ASSIGNED).first()
        if pooled is not None:  # numbers from before the pool existed have nothing to rest
            inventory.msisdn_quarantine(msisdn=pooled, actor=actor, reason=reason)
        AllowanceGrant.objects.filter(subscriber=line, valid_until__gt=timezone.now()).update(
            valid_until=timezone.now()
        )
    return line


def _addon_holdings(order: Order, line: Subscriber, actor: User) -> None:
    now = timezone.now()
    for row in order.lines.filter(kind=OrderLine.Kind.ADD_ON).select_related("addon"):
        addon = row.addon
        assert addon is not None
        expires = now + timedelta(days=addon.validity_days)
        SubscriberAddOn.objects.create(
            subscriber=line, addon=addon, order=order, activated_at=now, expires_at=expires
        )
        for allowance in addon.allowances.all():
            _grant(
                line,
                allowance,
                key=f"addon:{row.pk}:{allowance.pk}",
                until=expires,
                description=f"{addon.name} ({order.number})",
                actor=actor,
            )


def orders_stale_drafts_cancel(*, older_than: timedelta | None = None) -> int:
    """Cancel quotes nobody submitted: once their reservations lapse the number and SIM are
    back on sale, so the draft could no longer be honoured. Acts as the person who placed it."""
    age = older_than or timedelta(minutes=settings.INVENTORY_RESERVATION_MINUTES)
    stale = Order.objects.filter(
        status=Order.Status.DRAFT, created_at__lt=timezone.now() - age
    ).select_related("placed_by")
    done = 0
    for order in stale.order_by("pk"):
        try:
            order_cancel(order=order, actor=order.placed_by, reason="Quote expired unsubmitted")
        except InvalidTransition:  # submitted or cancelled by someone meanwhile
            continue
        done += 1
    return done


def orders_due_complete(*, on: date | None = None) -> int:
    """Complete submitted orders whose effective date has come (plan changes at the bill date),
    each in its own transaction, acting as the person who placed it."""
    day = on or timezone.localdate()
    done = 0
    due = Order.objects.filter(status=Order.Status.SUBMITTED, effective_on__lte=day)
    for order in due.select_related("placed_by").order_by("pk"):
        order_complete(order=order, actor=order.placed_by)
        done += 1
    return done
