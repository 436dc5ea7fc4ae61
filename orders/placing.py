"""Placing orders: each kind of order is checked, priced and quoted as a draft here; the number,
SIM and devices it sells are reserved for it at once so two sales can never take the same ones.
Submitting and completing are in orders.services."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from common.errors import ApplicationError, InvalidTransition
from common.money import Money
from crm.models import Account, Subscriber, User
from crm.services import FieldErrors, sequence_take
from orders.catalog.selectors import addons_held_by, plans_on_sale
from orders.inventory import services as inventory
from orders.models import (
    AddOn,
    Channel,
    Device,
    DeviceItem,
    Order,
    OrderEvent,
    OrderLine,
    PricePlan,
)
from orders.proration import ProrationLine, bill_period_containing, proration_lines

LIVE_LINE = (Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED)


# --- shared checks ------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _order_start(
    *,
    type: str,
    actor: User,
    channel: str,
    account: Account,
    subscriber: Subscriber | None,
    plan: PricePlan | None = None,
    reason: str = "",
) -> Order:
    if channel not in Channel.values:
        raise ApplicationError(
            f"{channel!r} is not a sales channel.", fields={"channel": ["Unknown."]}
        )
    order = Order.objects.create(
        number=f"ORD-{sequence_take('ord'):08d}",
        type=type,
        channel=channel,
        placed_by=actor,
        customer=account.customer,
        account=account,
        subscriber=subscriber,
        plan=plan,
        reason=reason.strip()[:200],
    )
    OrderEvent.objects.create(
        order=order,
        old_status="",
        new_status=Order.Status.DRAFT,
        actor=actor,
        reason=f"Placed in the {Channel(channel).label}",
        created_at=timezone.now(),
    )
    return order


def _plan_check(
    plan: PricePlan, *, account: Account, channel: str, errors: FieldErrors, name: str = "plan"
) -> None:
    on_sale = plans_on_sale(
        channel=channel, customer_kind=account.customer.kind, payment_type=account.payment_type
    )
    if not on_sale.filter(pk=plan.pk).exists():
        errors.add(
            name,
            f"{plan} is not on sale to {account.customer.get_kind_display().lower()} "
            f"{account.get_payment_type_display().lower()} customers in the "
            f"{Channel(channel).label}.",
        )
    elif plan.currency != account.currency:
        errors.add(
            name, f"{plan} is priced in {plan.currency}; the account bills in {account.currency}."
        )


def _line(order: Order, kind: str, description: str, **values: Any) -> OrderLine:
    return OrderLine.objects.create(
        order=order, kind=kind, description=description, currency=order.account.currency, **values
    )


def _proration_rows(order: Order, lines: Sequence[ProrationLine]) -> None:
    for row in lines:
        kind = (
            OrderLine.Kind.PRORATION_CREDIT
            if row.kind == "credit"
            else OrderLine.Kind.PRORATION_DEBIT
        )
        _line(
            order,
            kind,
            row.description,
            one_time_amount=row.amount.amount,
            details={
                "days": row.days,
                "period_days": row.period.days,
                "period_start": row.period.start.isoformat(),
                "period_end": row.period.last_day.isoformat(),
                "formula": row.formula,
            },
        )


def _fee(plan: PricePlan) -> Money:
    return Money(plan.recurring_fee_amount, plan.currency)


def _addons_check(
    addons: Sequence[AddOn], *, plan: PricePlan, held: Iterable[AddOn] = (), errors: FieldErrors
) -> None:
    chosen = list(addons)
    owned = list(held)
    for addon in chosen:
        if addon.status != AddOn.Status.ACTIVE:
            errors.add("addons", f"{addon} is no longer on sale.")
        elif addon.plan_codes and plan.code not in addon.plan_codes:
            errors.add("addons", f"{addon} cannot be bought on {plan.name}.")
        elif addon.currency != plan.currency:
            errors.add("addons", f"{addon} is priced in {addon.currency}.")
    seen: dict[int, AddOn] = {}
    for addon in [*owned, *chosen]:
        if addon.pk in seen and not addon.stackable:
            errors.add("addons", f"{addon} cannot be held twice at once.")
        seen[addon.pk] = addon
    codes = {a.pk: set(a.conflicts_with.values_list("pk", flat=True)) for a in chosen}
    reported: set[frozenset[int]] = set()  # each conflicting pair once, not once each way
    for addon in chosen:
        for other in [*owned, *chosen]:
            pair = frozenset({addon.pk, other.pk})
            if other.pk != addon.pk and other.pk in codes[addon.pk] and pair not in reported:
                reported.add(pair)
                errors.add("addons", f"{addon} and {other} cannot be held together.")


def _unavailable(exc: ApplicationError, field: str) -> ApplicationError:
    """A number or SIM the inventory refuses to reserve, reported on the field that named it.

    One already reserved, assigned or blocked is bad input (400), not a refused transition of
    the order itself; a concurrent sale that won the race keeps its `conflict` code (409).
    """
    code = "unavailable" if isinstance(exc, InvalidTransition) else exc.code
    return ApplicationError(exc.message, code=code, fields=exc.fields or {field: [exc.message]})


def _device_reserve(order: Order, device: Device, plan: PricePlan) -> DeviceItem:
    item = (
        DeviceItem.objects.select_for_update(skip_locked=True)
        .filter(device=device, status=DeviceItem.Status.IN_STOCK)
        .order_by("pk")
        .first()
    )
    if item is None or device.status != Device.Status.ACTIVE:
        raise ApplicationError(
            f"{device.name} is out of stock.",
            code="out_of_stock",
            fields={"devices": [f"{device.name} is out of stock."]},
        )
    DeviceItem.objects.filter(pk=item.pk).update(
        status=DeviceItem.Status.RESERVED,
        reservation_ref=order.number,
        reserved_until=None,
    )
    included = plan.code in (device.included_with_plan_codes or [])
    _line(
        order,
        OrderLine.Kind.DEVICE,
        f"{device.name} (serial {item.serial})" + (" — included with the plan" if included else ""),
        device=device,
        device_item=item,
        one_time_amount=Decimal("0") if included else device.price_amount,
    )
    return item


# --- placing orders -----------------------------------------------------------------------------


@transaction.atomic
def order_new_connection_create(
    *,
    actor: User,
    channel: str,
    account: Account,
    plan: PricePlan,
    msisdn: str | None = None,
    number_category: str | None = None,
    iccid: str | None = None,
    addons: Sequence[AddOn] = (),
    devices: Sequence[Device] = (),
) -> Order:
    """A new line on `account`: the number and SIM are reserved for the order at once, so two
    sales can never take the same ones; everything else happens when the order completes."""
    errors = FieldErrors()
    if account.status != Account.Status.ACTIVE:
        errors.add("account", f"Account {account.number} is {account.status}.")
    _plan_check(plan, account=account, channel=channel, errors=errors)
    _addons_check(addons, plan=plan, errors=errors)
    if not msisdn and not number_category:
        errors.add("msisdn", "Choose a number or a number category.")
    if not iccid:
        errors.add("iccid", "Scan or type the SIM's ICCID.")
    errors.raise_if_any("The order cannot be placed.")
    order = _order_start(
        type=Order.Type.NEW_CONNECTION,
        actor=actor,
        channel=channel,
        account=account,
        plan=plan,
        subscriber=None,
    )
    try:
        number = inventory.msisdn_reserve(
            ref=order.number,
            actor=actor,
            msisdn=msisdn or None,
            category=None if msisdn else number_category,
        )
    except ApplicationError as exc:
        exc.fields = {("msisdn" if k == "number" else k): v for k, v in exc.fields.items()}
        raise _unavailable(exc, "msisdn") from exc
    try:
        sim = inventory.sim_reserve(ref=order.number, actor=actor, sim=iccid)
    except ApplicationError as exc:
        raise _unavailable(exc, "iccid") from exc
    order.msisdn, order.sim = number, sim
    order.save(update_fields=["msisdn", "sim", "updated_at"])
    _line(
        order,
        OrderLine.Kind.NUMBER,
        f"Number {number.number} ({number.get_category_display()})",
        one_time_amount=number.price_amount,
    )
    _line(order, OrderLine.Kind.SIM, f"SIM {sim.iccid}")
    _line(
        order,
        OrderLine.Kind.PLAN,
        f"{plan.name} ({plan.get_recurring_period_display().lower()})",
        plan=plan,
        recurring_amount=plan.recurring_fee_amount,
    )
    if plan.activation_fee_amount:
        _line(
            order,
            OrderLine.Kind.ACTIVATION_FEE,
            "Activation fee",
            one_time_amount=plan.activation_fee_amount,
        )
    period = bill_period_containing(_today(), bill_cycle_day=account.bill_cycle_day)
    _proration_rows(
        order,
        proration_lines(
            period=period,
            effective_on=_today(),
            method=plan.proration,
            new_fee=_fee(plan),
            new_label=plan.name,
        ),
    )
    for addon in addons:
        _line(
            order,
            OrderLine.Kind.ADD_ON,
            f"{addon.name} ({addon.validity_days} days)",
            addon=addon,
            one_time_amount=addon.price_amount,
        )
    for device in devices:
        _device_reserve(order, device, plan)
    return order


def _live_line(
    subscriber: Subscriber, errors: FieldErrors, *, statuses: Sequence[str] = LIVE_LINE
) -> None:
    if subscriber.status not in statuses:
        errors.add("subscriber", f"{subscriber.msisdn_display} is {subscriber.status}.")


@transaction.atomic
def order_plan_change_create(
    *,
    actor: User,
    channel: str,
    subscriber: Subscriber,
    plan: PricePlan,
    effective: str = Order.Effective.NOW,
) -> Order:
    """Move a line to another plan now (prorated by day) or at the next bill date (no
    proration: the next bill charges the new plan in full)."""
    account = subscriber.account
    errors = FieldErrors()
    _live_line(subscriber, errors)
    _plan_check(plan, account=account, channel=channel, errors=errors)
    if subscriber.plan_id == plan.pk:
        errors.add("plan", f"The line is already on {plan}.")
    if effective not in Order.Effective.values:
        errors.add("effective", "Choose now or the next bill date.")
    errors.raise_if_any("The plan cannot be changed.")
    period = bill_period_containing(_today(), bill_cycle_day=account.bill_cycle_day)
    order = _order_start(
        type=Order.Type.PLAN_CHANGE,
        actor=actor,
        channel=channel,
        account=account,
        subscriber=subscriber,
        plan=plan,
    )
    order.effective = effective
    order.effective_on = _today() if effective == Order.Effective.NOW else period.end
    order.save(update_fields=["effective", "effective_on", "updated_at"])
    old = subscriber.plan
    _line(
        order,
        OrderLine.Kind.PLAN,
        f"{plan.name} from {order.effective_on:%-d %b %Y}",
        plan=plan,
        recurring_amount=plan.recurring_fee_amount,
    )
    if effective == Order.Effective.NOW:
        if old is not None:
            _proration_rows(
                order,
                proration_lines(
                    period=period,
                    effective_on=order.effective_on,
                    method=old.proration,
                    old_fee=_fee(old),
                    old_label=old.name,
                ),
            )
        _proration_rows(
            order,
            proration_lines(
                period=period,
                effective_on=order.effective_on,
                method=plan.proration,
                new_fee=_fee(plan),
                new_label=plan.name,
            ),
        )
    return order


@transaction.atomic
def order_addon_create(*, actor: User, channel: str, subscriber: Subscriber, addon: AddOn) -> Order:
    errors = FieldErrors()
    _live_line(subscriber, errors, statuses=(Subscriber.Status.ACTIVE,))
    if subscriber.plan is None:
        errors.add("subscriber", "The line has no plan to add to.")
    else:
        _addons_check([addon], plan=subscriber.plan, held=addons_held_by(subscriber), errors=errors)
    errors.raise_if_any("The add-on cannot be bought.")
    order = _order_start(
        type=Order.Type.ADD_ON,
        actor=actor,
        channel=channel,
        account=subscriber.account,
        subscriber=subscriber,
    )
    _line(
        order,
        OrderLine.Kind.ADD_ON,
        f"{addon.name} ({addon.validity_days} days)",
        addon=addon,
        one_time_amount=addon.price_amount,
    )
    return order


@transaction.atomic
def order_sim_swap_create(
    *, actor: User, channel: str, subscriber: Subscriber, iccid: str, reason: str
) -> Order:
    """A new SIM for a line that keeps its number (lost, stolen or damaged card)."""
    errors = FieldErrors()
    _live_line(subscriber, errors)
    if not reason.strip():
        errors.add("reason", "Say why the SIM is swapped.")
    errors.raise_if_any("The SIM cannot be swapped.")
    order = _order_start(
        type=Order.Type.SIM_SWAP,
        actor=actor,
        channel=channel,
        account=subscriber.account,
        subscriber=subscriber,
        reason=reason,
    )
    try:
        sim = inventory.sim_reserve(ref=order.number, actor=actor, sim=iccid)
    except ApplicationError as exc:
        raise _unavailable(exc, "iccid") from exc
    order.sim = sim
    order.save(update_fields=["sim", "updated_at"])
    _line(order, OrderLine.Kind.SIM, f"New SIM {sim.iccid} for {subscriber.msisdn_display}")
    return order


_SERVICE_ORDERS: dict[str, str] = {
    Order.Type.SUSPEND: Subscriber.Status.SUSPENDED,
    Order.Type.RESUME: Subscriber.Status.ACTIVE,
    Order.Type.TERMINATE: Subscriber.Status.TERMINATED,
}


@transaction.atomic
def order_service_change_create(
    *, actor: User, channel: str, subscriber: Subscriber, type: str, reason: str
) -> Order:
    """Suspend, resume or terminate a line through an order; termination mid-period credits
    the unused days of a daily-prorated plan."""
    errors = FieldErrors()
    if type not in _SERVICE_ORDERS:
        errors.add("type", "Choose suspend, resume or terminate.")
    elif _SERVICE_ORDERS[type] not in subscriber.allowed_transitions() or (
        type == Order.Type.RESUME and subscriber.status != Subscriber.Status.SUSPENDED
    ):
        errors.add("type", f"{subscriber.msisdn_display} is {subscriber.status}.")
    if not reason.strip():
        errors.add("reason", "A reason is required.")
    errors.raise_if_any("The order cannot be placed.")
    order = _order_start(
        type=type,
        actor=actor,
        channel=channel,
        account=subscriber.account,
        subscriber=subscriber,
        reason=reason,
    )
    _line(order, OrderLine.Kind.SERVICE, f"{Order.Type(type).label} {subscriber.msisdn_display}")
    plan = subscriber.plan
    if type == Order.Type.TERMINATE and plan is not None:
        order.effective_on = _today()
        order.save(update_fields=["effective_on", "updated_at"])
        period = bill_period_containing(_today(), bill_cycle_day=subscriber.account.bill_cycle_day)
        _proration_rows(
            order,
            proration_lines(
                period=period,
                effective_on=_today(),
                method=plan.proration,
                old_fee=_fee(plan),
                old_label=plan.name,
            ),
        )
    return order
