"""Orders: every change to a line's services, quoted as a draft, then submitted and completed.

Completing an order applies all its effects in one transaction and cannot be applied twice: the
order row is locked, its status checked against Order.TRANSITIONS, the line is locked and
checked again (it may have changed since the quote: a plan change waiting for the end of the
period is refused once its line is terminated), and every charge and allowance carries a unique
key derived from the order line. Each effect goes through the owning app's services: the line
(crm), the stock (orders.inventory), charges and allowances (billing).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import Charge
from billing.services import allowance_grant, allowances_end, charge_post
from common.actors import system_actor
from common.errors import ApplicationError, FieldErrors, InvalidTransition
from common.money import Money
from crm import services as crm_services
from crm.models import Subscriber, User
from orders.catalog.models import Allowance, PricePlan
from orders.inventory import services as inventory
from orders.inventory.models import Msisdn, SimCard
from orders.models import Order, OrderEvent, OrderLine, SubscriberAddOn
from orders.placing import LIVE_LINE, SERVICE_CHANGES, addons_check, service_change_allowed
from orders.proration import fee_period_containing
from orders.selectors import addons_held_by

logger = logging.getLogger(__name__)

JOB_CHUNK = 500
OPEN_STATUSES = (Order.Status.DRAFT, Order.Status.SUBMITTED)


# --- quotes -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuoteLine:
    line: OrderLine
    charged: Money  # what the bill will carry: the exact amount rounded by the named rule


@dataclass(frozen=True, slots=True)
class Quote:
    """What the customer is told before submitting: one-time total, the new recurring charge,
    and each proration line with its days and formula. Totals add up what will be charged:
    each line rounded once, as billing posts it."""

    currency: str
    one_time: list[QuoteLine]
    recurring: list[OrderLine]
    proration: list[QuoteLine]
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

    def charged(line: OrderLine) -> QuoteLine:
        return QuoteLine(line, Money(line.one_time_amount, line.currency).rounded())

    proration = [charged(line) for line in lines if line.kind in proration_kinds]
    one_time = [
        charged(line) for line in lines if line.kind not in proration_kinds and line.one_time_amount
    ]
    recurring = [line for line in lines if line.recurring_amount]

    def total(rows: Iterable[QuoteLine]) -> Money:
        return sum((row.charged for row in rows), Money.zero(currency))

    return Quote(
        currency=currency,
        one_time=one_time,
        recurring=recurring,
        proration=proration,
        one_time_total=total(one_time),
        recurring_total=sum(
            (Money(line.recurring_amount, currency) for line in recurring), Money.zero(currency)
        ),
        proration_total=total(proration),
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
    the end of the period or a port-in waits for its day (orders_due_complete). A completion
    the stock or the line's state refuses (say the reservation expired and the number was
    sold, or the line was terminated) fails the order with the reason and releases what it
    still holds: it never half-applies."""
    order = order_submit(order=order, actor=actor)
    if order.effective_on is not None and order.effective_on > timezone.localdate():
        return order
    return _complete_or_fail(order, actor)


def _complete_or_fail(order: Order, actor: User) -> Order:
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
    inventory.device_items_release(ref=order.number, actor=actor, reason=reason)


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


# --- completion ---------------------------------------------------------------------------------


@transaction.atomic
def order_complete(*, order: Order, actor: User) -> Order:
    """Apply every effect of a submitted order in one transaction, exactly once."""
    order = _transition(order, Order.Status.IN_PROGRESS, actor=actor, reason="Applying")
    line = _apply(order, actor)
    _post_charges(order, line, actor)
    return _transition(
        order,
        Order.Status.COMPLETED,
        actor=actor,
        reason="Completed",
        completed_at=timezone.now(),
        subscriber=line,
    )


def _apply(order: Order, actor: User) -> Subscriber:
    if order.type == Order.Type.NEW_CONNECTION:
        return _apply_new_connection(order, actor)
    assert order.subscriber_id is not None
    line = crm_services.subscriber_get_locked(Subscriber(pk=order.subscriber_id))
    _check_line_takes(order, line)
    reason = order.reason or f"Order {order.number}"
    if order.type == Order.Type.PLAN_CHANGE:
        assert order.plan is not None
        line = crm_services.subscriber_plan_set(
            subscriber=line, plan=order.plan, actor=actor, since=timezone.localdate()
        )
        allowances_end(subscriber=line, actor=actor, source_prefix="plan:")
        _plan_grants(order, line, order.plan, actor)
    elif order.type == Order.Type.ADD_ON:
        _addon_holdings(order, line, actor)
    elif order.type == Order.Type.SIM_SWAP:
        assert order.sim is not None
        line = inventory.sim_swap_inventory(
            subscriber=line, new_sim=order.sim, actor=actor, reason=reason, ref=order.number
        )
    elif order.type == Order.Type.TERMINATE:
        line = _apply_terminate(order, line, actor)
    else:  # activate, suspend, resume
        new_status = SERVICE_CHANGES[order.type][0]
        line = crm_services.subscriber_status_change(
            subscriber=line, new_status=new_status, actor=actor, reason=reason
        )
        if order.type == Order.Type.ACTIVATE and line.plan is not None:
            _plan_grants(order, line, line.plan, actor)
    return line


def _check_line_takes(order: Order, line: Subscriber) -> None:
    """The line may have changed since the order was quoted: refuse what it can no longer
    take, with the reason the order fails with."""
    if line.status == Subscriber.Status.TERMINATED:
        raise InvalidTransition(
            f"{line.msisdn_display} is terminated; order {order.number} no longer applies."
        )
    errors = FieldErrors()
    if order.type in SERVICE_CHANGES:
        if not service_change_allowed(line, order.type):
            errors.add("subscriber", f"{line.msisdn_display} is {line.status}.")
    elif order.type in (Order.Type.PLAN_CHANGE, Order.Type.SIM_SWAP):
        if line.status not in LIVE_LINE:
            errors.add("subscriber", f"{line.msisdn_display} is {line.status}.")
        if order.plan is not None and order.plan.currency != line.account.currency:
            errors.add("plan", f"{order.plan} is priced in {order.plan.currency}.")
    elif order.type == Order.Type.ADD_ON:
        if line.status != Subscriber.Status.ACTIVE:
            errors.add("subscriber", f"{line.msisdn_display} is {line.status}.")
        elif line.plan is None:
            errors.add("subscriber", "The line has no plan to add to.")
        else:
            addons = [row.addon for row in order.lines.filter(kind=OrderLine.Kind.ADD_ON)]
            addons_check(
                [a for a in addons if a is not None],
                plan=line.plan,
                currency=line.account.currency,
                held=addons_held_by(line),
                errors=errors,
            )
    if errors.fields:
        problems = "; ".join(m for messages in errors.fields.values() for m in messages)
        raise ApplicationError(
            f"Order {order.number} no longer applies: {problems}",
            code="no_longer_applies",
            fields=errors.fields,
        )


def _apply_new_connection(order: Order, actor: User) -> Subscriber:
    assert order.sim is not None
    assert order.plan is not None
    ref = order.number
    if order.ported_msisdn:
        msisdn = order.ported_msisdn
        reason = f"New connection ({ref}), number ported in from {order.donor_operator}"
    else:
        assert order.msisdn is not None
        msisdn = inventory.msisdn_assign(
            msisdn=order.msisdn, ref=ref, actor=actor, partner=order.partner
        ).number
        reason = f"New connection ({ref})"
    sim = inventory.sim_assign(sim=order.sim, ref=ref, actor=actor, partner=order.partner)
    line = crm_services.subscriber_create(
        account=order.account,
        actor=actor,
        msisdn=msisdn,
        iccid=sim.iccid,
        imsi=sim.imsi,
        plan=order.plan,
        reason=reason,
    )
    _plan_grants(order, line, order.plan, actor)
    _addon_holdings(order, line, actor)
    inventory.device_items_sell(ref=ref, actor=actor)
    return line


def _apply_terminate(order: Order, line: Subscriber, actor: User) -> Subscriber:
    """The whole of a termination: the line ends; its number rests in quarantine before it is
    sold again; its SIM is blocked; its allowances and add-ons end; orders still open for it
    are cancelled. The plan's unused days are credited by the order's proration lines."""
    reason = order.reason or f"Order {order.number}"
    line = crm_services.subscriber_status_change(
        subscriber=line, new_status=Subscriber.Status.TERMINATED, actor=actor, reason=reason
    )
    stock_reason = f"Line {line.msisdn_display} terminated ({order.number})"
    pooled = Msisdn.objects.filter(number=line.msisdn, status=Msisdn.Status.ASSIGNED).first()
    if pooled is not None:  # a ported-in number is not ours to rest
        inventory.msisdn_quarantine(msisdn=pooled, actor=actor, reason=stock_reason)
    inventory.sim_retire_with_line(iccid=line.iccid, actor=actor, reason=stock_reason)
    now = timezone.now()
    allowances_end(subscriber=line, actor=actor, at=now)
    SubscriberAddOn.objects.filter(subscriber=line, expires_at__gt=now).update(
        expires_at=now, updated_at=now
    )
    still_open = Order.objects.filter(subscriber=line, status__in=OPEN_STATUSES).exclude(
        pk=order.pk
    )
    for other in still_open.order_by("pk"):
        order_cancel(order=other, actor=actor, reason=f"Line terminated by order {order.number}")
    return line


def _period_end(order: Order, line: Subscriber, plan: PricePlan) -> datetime:
    """The end of the plan's period that contains today: its allowances last until then."""
    period = fee_period_containing(
        timezone.localdate(),
        period=plan.recurring_period,
        bill_cycle_day=order.account.bill_cycle_day,
        started_on=line.plan_started_on,
    )
    return timezone.make_aware(datetime.combine(period.end, time.min))


def _grant(
    line: Subscriber,
    allowance: Allowance,
    *,
    key: str,
    until: datetime,
    description: str,
    actor: User,
) -> None:
    allowance_grant(
        subscriber=line,
        service=allowance.service,
        scope=allowance.scope,
        zone=allowance.zone,
        quantity=allowance.quantity,
        valid_until=until,
        source_key=key,
        description=description,
        actor=actor,
    )


def _plan_grants(order: Order, line: Subscriber, plan: PricePlan, actor: User) -> None:
    until = _period_end(order, line, plan)
    for allowance in plan.allowances.all():
        _grant(
            line,
            allowance,
            key=f"plan:{order.number}:{allowance.pk}",
            until=until,
            description=f"{plan.name} ({order.number})",
            actor=actor,
        )


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


_CHARGE_KINDS: dict[str, str] = {
    OrderLine.Kind.PRORATION_CREDIT: Charge.Kind.PRORATION_CREDIT,
    OrderLine.Kind.PRORATION_DEBIT: Charge.Kind.PRORATION_DEBIT,
}


def _post_charges(order: Order, line: Subscriber, actor: User) -> None:
    for row in order.lines.all():
        if not row.one_time_amount:
            continue
        charge_post(
            account=order.account,
            subscriber=line,
            amount=Money(row.one_time_amount, row.currency),
            kind=_CHARGE_KINDS.get(row.kind, Charge.Kind.ONE_TIME),
            description=f"{row.description} ({order.number})",
            details=row.details,
            period_start=_day(row.details.get("period_start")),
            period_end=_day(row.details.get("period_end")),
            source_key=f"order-line:{row.pk}",
            actor=actor,
        )


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


# --- scheduled jobs -----------------------------------------------------------------------------


def _pks_in_chunks(pks: Iterable[int], size: int = JOB_CHUNK) -> Iterator[list[int]]:
    chunk: list[int] = []
    for pk in pks:
        chunk.append(pk)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def orders_stale_drafts_cancel(*, older_than: timedelta | None = None) -> int:
    """Cancel quotes nobody submitted: once their reservations lapse the number and SIM are
    back on sale, so the draft could no longer be honoured. Acts as the system actor; each
    order on its own, so one that cannot be cancelled never stops the rest."""
    age = older_than or timedelta(minutes=settings.INVENTORY_RESERVATION_MINUTES)
    actor = system_actor()
    stale = Order.objects.filter(status=Order.Status.DRAFT, created_at__lt=timezone.now() - age)
    done = 0
    for chunk in _pks_in_chunks(stale.order_by("pk").values_list("pk", flat=True).iterator()):
        for order in Order.objects.filter(pk__in=chunk).order_by("pk"):
            try:
                order_cancel(order=order, actor=actor, reason="Quote expired unsubmitted")
            except InvalidTransition:  # submitted or cancelled by someone meanwhile
                continue
            except Exception:
                logger.exception("Could not cancel stale draft %s", order.number)
                continue
            done += 1
    return done


def orders_due_complete(*, on: date | None = None) -> int:
    """Complete submitted orders whose day has come (plan changes at the end of the period,
    port-ins on their port date), each in its own transaction, acting as the system actor. An
    order the line can no longer take fails with its reason; an unexpected error fails that
    order too, and the job goes on with the rest."""
    day = on or timezone.localdate()
    actor = system_actor()
    due = Order.objects.filter(status=Order.Status.SUBMITTED, effective_on__lte=day)
    done = 0
    for chunk in _pks_in_chunks(due.order_by("pk").values_list("pk", flat=True).iterator()):
        for order in Order.objects.filter(pk__in=chunk).order_by("pk"):
            try:
                order = _complete_or_fail(order, actor)
            except InvalidTransition:  # completed or cancelled by someone meanwhile
                continue
            except Exception:
                logger.exception("Could not complete order %s", order.number)
                with contextlib.suppress(ApplicationError):
                    order_fail(order=order, actor=actor, reason="Failed on an internal error.")
                continue
            if order.status == Order.Status.COMPLETED:
                done += 1
    return done
