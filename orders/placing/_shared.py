"""What every kind of order shares while it is placed: the order row, its lines in the account's
currency, plan and add-on checks, proration rows, reservations refused on their field."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import ApplicationError, CurrencyMismatch, FieldErrors, InvalidTransition
from common.money import Money
from crm.models import Account, Subscriber, User
from crm.services import sequence_take
from orders.catalog.models import AddOn, Channel, Device, PricePlan
from orders.catalog.selectors import plans_on_sale
from orders.inventory import services as inventory
from orders.models import Order, OrderEvent, OrderLine
from orders.proration import BillPeriod, ProrationLine, fee_period_containing
from partners.models import Partner

LIVE_LINE = (Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED)


# --- shared checks ------------------------------------------------------------------------------


def local_today() -> date:
    return timezone.localdate()


def existing_quote(actor: User, quote_token: UUID | None) -> Order | None:
    """The draft this quote form already made, if it was sent before."""
    if quote_token is None:
        return None
    return Order.objects.filter(placed_by=actor, quote_token=quote_token).first()


def order_start(
    *,
    type: str,
    actor: User,
    channel: str,
    account: Account,
    subscriber: Subscriber | None,
    plan: PricePlan | None = None,
    reason: str = "",
    partner: Partner | None = None,
    quote_token: UUID | None = None,
) -> Order:
    if channel not in Channel.values:
        raise ApplicationError(
            f"{channel!r} is not a sales channel.", fields={"channel": ["Unknown."]}
        )
    try:
        with transaction.atomic():
            order = Order.objects.create(
                number=f"ORD-{sequence_take('ord'):08d}",
                type=type,
                channel=channel,
                placed_by=actor,
                customer=account.customer,
                account=account,
                subscriber=subscriber,
                plan=plan,
                partner=partner,
                quote_token=quote_token,
                reason=reason.strip()[:200],
            )
    except IntegrityError as exc:  # the same quote form sent twice at the same moment
        raise ApplicationError(
            "This quote is already being made; open it from the customer's orders.",
            code="conflict",
        ) from exc
    OrderEvent.objects.create(
        order=order,
        old_status="",
        new_status=Order.Status.DRAFT,
        actor=actor,
        reason=f"Placed in the {Channel(channel).label}",
        created_at=timezone.now(),
    )
    return order


def plan_check(
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


def _in_account_currency(order: Order, what: str, amount: Money | None, field: str) -> Money:
    """`amount` as an amount of the order's account; a price in another currency is refused.
    Nothing costs nothing in every currency, so a zero price never conflicts."""
    currency = order.account.currency
    if amount is None or not amount.amount:
        return Money.zero(currency)
    if amount.currency != currency:
        message = (
            f"{what} is priced in {amount.currency}; account {order.account.number} is billed "
            f"in {currency}."
        )
        raise CurrencyMismatch(message, fields={field: [message]})
    return amount.quantized()


def order_line(
    order: Order,
    kind: str,
    description: str,
    *,
    one_time: Money | None = None,
    recurring: Money | None = None,
    field: str = "non_field_errors",
    **values: Any,
) -> OrderLine:
    """One line of the order; `field` names the input a currency mismatch is reported on."""
    return OrderLine.objects.create(
        order=order,
        kind=kind,
        description=description,
        currency=order.account.currency,
        one_time_amount=_in_account_currency(order, description, one_time, field).amount,
        recurring_amount=_in_account_currency(order, description, recurring, field).amount,
        **values,
    )


def proration_rows(order: Order, lines: Sequence[ProrationLine]) -> None:
    for row in lines:
        kind = (
            OrderLine.Kind.PRORATION_CREDIT
            if row.kind == "credit"
            else OrderLine.Kind.PRORATION_DEBIT
        )
        order_line(
            order,
            kind,
            row.description,
            one_time=row.amount,
            details={
                "days": row.days,
                "period_days": row.period.days,
                "period_start": row.period.start.isoformat(),
                "period_end": row.period.last_day.isoformat(),
                "formula": row.formula,
            },
        )


def fee(plan: PricePlan) -> Money:
    return Money(plan.recurring_fee_amount, plan.currency)


def plan_period_of(subscriber: Subscriber, on: date) -> BillPeriod | None:
    """The recurring period of the line's current plan that contains `on`."""
    plan = subscriber.plan
    if plan is None:
        return None
    return fee_period_containing(
        on,
        period=plan.recurring_period,
        bill_cycle_day=subscriber.account.bill_cycle_day,
        started_on=subscriber.plan_started_on or subscriber.created_at.date(),
    )


def new_plan_period(plan: PricePlan, account: Account, starts_on: date) -> BillPeriod:
    """The first period of `plan` for a line that starts it on `starts_on`."""
    return fee_period_containing(
        starts_on,
        period=plan.recurring_period,
        bill_cycle_day=account.bill_cycle_day,
        started_on=starts_on,
    )


def addons_check(
    addons: Sequence[AddOn],
    *,
    plan: PricePlan,
    currency: str,
    held: Iterable[AddOn] = (),
    errors: FieldErrors,
) -> None:
    """Whether a line on `plan`, holding `held`, may take `addons`; each problem reported on
    the "addons" field. Also checked again when the order completes."""
    chosen = list(addons)
    owned = list(held)
    for addon in chosen:
        if addon.status != AddOn.Status.ACTIVE:
            errors.add("addons", f"{addon} is no longer on sale.")
        elif addon.plan_codes and plan.code not in addon.plan_codes:
            errors.add("addons", f"{addon} cannot be bought on {plan.name}.")
        elif addon.currency != currency and addon.price_amount:
            errors.add("addons", f"{addon} is priced in {addon.currency}, not {currency}.")
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


def unavailable(exc: ApplicationError, field: str) -> ApplicationError:
    """A number or SIM the inventory refuses to reserve, reported on the field that named it.

    One already reserved, assigned or blocked is bad input (400), not a refused transition of
    the order itself; a concurrent sale that won the race keeps its `conflict` code (409).
    """
    code = "unavailable" if isinstance(exc, InvalidTransition) else exc.code
    return ApplicationError(exc.message, code=code, fields=exc.fields or {field: [exc.message]})


def device_reserve(order: Order, device: Device, plan: PricePlan, actor: User) -> None:
    item = inventory.device_item_reserve(device=device, ref=order.number, actor=actor)
    included = plan.code in (device.included_with_plan_codes or [])
    description = f"{device.name} (serial {item.serial})"
    order_line(
        order,
        OrderLine.Kind.DEVICE,
        description + (" — included with the plan" if included else ""),
        device=device,
        device_item=item,
        one_time=None if included else Money(device.price_amount, device.currency),
        field="devices",
    )
