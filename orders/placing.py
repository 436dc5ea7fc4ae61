"""Placing orders: each kind of order is checked, priced and quoted as a draft here; the number,
SIM and devices it sells are reserved for it at once so two sales can never take the same ones.
Submitting and completing are in orders.services.

Every amount on an order line is in the account's currency: a plan, add-on, device or number
priced in another currency is refused (CurrencyMismatch), never relabelled. Amounts are kept
exact; they are rounded once, when completion posts them as charges (billing.services).

A quote form sends a `quote_token`: asking for the same quote twice (a double click, a retried
request) gives back the draft it made the first time instead of a second one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import ApplicationError, CurrencyMismatch, FieldErrors, InvalidTransition
from common.money import Money
from crm.models import Account, Subscriber, User
from crm.services import AddressData, account_create, customer_create, sequence_take
from crm.validators import msisdn_clean, msisdn_display
from orders.catalog.models import AddOn, Channel, Device, PricePlan
from orders.catalog.selectors import plans_on_sale
from orders.inventory import services as inventory
from orders.inventory.models import Msisdn, SimCard
from orders.models import Order, OrderEvent, OrderLine
from orders.proration import BillPeriod, ProrationLine, fee_period_containing, proration_lines
from orders.selectors import addons_held_by
from partners.models import Partner

LIVE_LINE = (Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED)
PORT_IN_MAX_DAYS_AHEAD = 30


# --- shared checks ------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _existing_quote(actor: User, quote_token: UUID | None) -> Order | None:
    """The draft this quote form already made, if it was sent before."""
    if quote_token is None:
        return None
    return Order.objects.filter(placed_by=actor, quote_token=quote_token).first()


def _order_start(
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


def _line(
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
            one_time=row.amount,
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


def _unavailable(exc: ApplicationError, field: str) -> ApplicationError:
    """A number or SIM the inventory refuses to reserve, reported on the field that named it.

    One already reserved, assigned or blocked is bad input (400), not a refused transition of
    the order itself; a concurrent sale that won the race keeps its `conflict` code (409).
    """
    code = "unavailable" if isinstance(exc, InvalidTransition) else exc.code
    return ApplicationError(exc.message, code=code, fields=exc.fields or {field: [exc.message]})


def _device_reserve(order: Order, device: Device, plan: PricePlan, actor: User) -> None:
    item = inventory.device_item_reserve(device=device, ref=order.number, actor=actor)
    included = plan.code in (device.included_with_plan_codes or [])
    description = f"{device.name} (serial {item.serial})"
    _line(
        order,
        OrderLine.Kind.DEVICE,
        description + (" — included with the plan" if included else ""),
        device=device,
        device_item=item,
        one_time=None if included else Money(device.price_amount, device.currency),
        field="devices",
    )


# --- new connections ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortIn:
    """A number the customer brings from another operator, moving over on `port_date`."""

    msisdn: str
    donor_operator: str
    port_date: date


def _port_in_check(port_in: PortIn, errors: FieldErrors) -> str:
    """The ported number in E.164, with every problem of the port-in on its field."""
    number = ""
    try:
        number = msisdn_clean(port_in.msisdn)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("port_msisdn", message)
    if number:
        if Msisdn.objects.filter(number=number).exists():
            errors.add(
                "port_msisdn",
                f"{msisdn_display(number)} is one of our own numbers: choose it from the pool "
                "instead of porting it in.",
            )
        elif (
            Subscriber.objects.exclude(status=Subscriber.Status.TERMINATED)
            .filter(msisdn=number)
            .exists()
        ):
            errors.add("port_msisdn", "This number belongs to another live line.")
    if port_in.donor_operator not in settings.PORT_IN_DONOR_OPERATORS:
        errors.add(
            "donor_operator",
            f"Choose the operator the number comes from: "
            f"{', '.join(settings.PORT_IN_DONOR_OPERATORS)}.",
        )
    today = _today()
    if port_in.port_date < today:
        errors.add("port_date", "The port date is in the past.")
    elif port_in.port_date > today + timedelta(days=PORT_IN_MAX_DAYS_AHEAD):
        errors.add(
            "port_date", f"A number is ported within {PORT_IN_MAX_DAYS_AHEAD} days from today."
        )
    return number


def _minutes_until_end_of(day: date) -> int:
    """Minutes from now until the end of `day` (operator time zone), at least the usual hold."""
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    minutes = int((end - timezone.now()).total_seconds() // 60) + 1
    return max(minutes, settings.INVENTORY_RESERVATION_MINUTES)


@transaction.atomic
def order_new_connection_create(
    *,
    actor: User,
    channel: str,
    account: Account,
    plan: PricePlan,
    iccid: str | None,
    msisdn: str | None = None,
    number_category: str | None = None,
    port_in: PortIn | None = None,
    addons: Sequence[AddOn] = (),
    devices: Sequence[Device] = (),
    partner: Partner | None = None,
    quote_token: UUID | None = None,
) -> Order:
    """A new line on `account`: a number from the pool (chosen, or the next of a category) or
    ported in from another operator, and a SIM from stock; both are reserved for the order at
    once, so two sales can never take the same ones. Everything else happens when the order
    completes (today, or on the port date).

    Stock is the only way in: the SIM must be in the operator's stock, or on `partner`'s shelf
    when a partner sells; a number or SIM allocated to a partner is sold only by that partner.
    """
    if (existing := _existing_quote(actor, quote_token)) is not None:
        return existing
    errors = FieldErrors()
    if account.status != Account.Status.ACTIVE:
        errors.add("account", f"Account {account.number} is {account.status}.")
    _plan_check(plan, account=account, channel=channel, errors=errors)
    addons_check(addons, plan=plan, currency=account.currency, errors=errors)
    ported = ""
    if port_in is not None:
        if msisdn or number_category:
            errors.add("msisdn", "Port a number in or choose one from the pool, not both.")
        ported = _port_in_check(port_in, errors)
    elif not msisdn and not number_category:
        errors.add("msisdn", "Choose a number or a number category, or port a number in.")
    if not iccid:
        errors.add("iccid", "Scan or type the SIM's ICCID.")
    errors.raise_if_any("The order cannot be placed.")
    assert iccid is not None
    order = _order_start(
        type=Order.Type.NEW_CONNECTION,
        actor=actor,
        channel=channel,
        account=account,
        plan=plan,
        subscriber=None,
        partner=partner,
        quote_token=quote_token,
    )
    starts_on = port_in.port_date if port_in is not None else _today()
    hold_minutes = _minutes_until_end_of(starts_on) if port_in is not None else None
    if port_in is not None:
        order.ported_msisdn = ported
        order.donor_operator = port_in.donor_operator
        order.effective_on = port_in.port_date
        _line(
            order,
            OrderLine.Kind.NUMBER,
            f"Number {msisdn_display(ported)} ported in from {port_in.donor_operator} "
            f"on {port_in.port_date:%-d %b %Y}",
        )
    else:
        try:
            number = inventory.msisdn_reserve(
                ref=order.number,
                actor=actor,
                msisdn=msisdn or None,
                category=None if msisdn else number_category,
                partner=partner,
            )
        except ApplicationError as exc:
            exc.fields = {("msisdn" if k == "number" else k): v for k, v in exc.fields.items()}
            raise _unavailable(exc, "msisdn") from exc
        order.msisdn = number
        _line(
            order,
            OrderLine.Kind.NUMBER,
            f"Number {number.number} ({number.get_category_display()})",
            one_time=Money(number.price_amount, number.currency),
            field="msisdn",
        )
    try:
        sim = inventory.sim_reserve(
            ref=order.number, actor=actor, sim=iccid, partner=partner, minutes=hold_minutes
        )
    except ApplicationError as exc:
        raise _unavailable(exc, "iccid") from exc
    order.sim = sim
    order.save(
        update_fields=[
            "msisdn",
            "sim",
            "ported_msisdn",
            "donor_operator",
            "effective_on",
            "updated_at",
        ]
    )
    _line(order, OrderLine.Kind.SIM, f"SIM {sim.iccid}")
    _line(
        order,
        OrderLine.Kind.PLAN,
        f"{plan.name} ({plan.get_recurring_period_display().lower()})",
        plan=plan,
        recurring=_fee(plan),
        field="plan",
    )
    if plan.activation_fee_amount:
        _line(
            order,
            OrderLine.Kind.ACTIVATION_FEE,
            "Activation fee",
            one_time=Money(plan.activation_fee_amount, plan.currency),
            field="plan",
        )
    _proration_rows(
        order,
        proration_lines(
            effective_on=starts_on,
            method=plan.proration,
            new_fee=_fee(plan),
            new_period=new_plan_period(plan, account, starts_on),
            new_label=plan.name,
        ),
    )
    for addon in addons:
        _line(
            order,
            OrderLine.Kind.ADD_ON,
            f"{addon.name} ({addon.validity_days} days)",
            addon=addon,
            one_time=Money(addon.price_amount, addon.currency),
            field="addons",
        )
    for device in devices:
        _device_reserve(order, device, plan, actor)
    return order


@transaction.atomic
def order_new_customer_create(
    *,
    actor: User,
    channel: str,
    customer: dict[str, Any],
    account: dict[str, Any],
    connection: dict[str, Any],
    partner: Partner | None = None,
    quote_token: UUID | None = None,
) -> Order:
    """A new customer with a billing account and a first line, quoted as a new-connection order:
    all or nothing, with every field at fault reported at once (the customer's, the account's
    and the line's). The line comes when the order is submitted."""
    if (existing := _existing_quote(actor, quote_token)) is not None:
        return existing
    errors = FieldErrors()
    customer = dict(customer)
    address: AddressData | None = customer.pop("address", None)
    try:
        with transaction.atomic():
            new_customer = customer_create(
                actor=actor, partner=partner, address=address, **customer
            )
            new_account = account_create(customer=new_customer, actor=actor, **account)
            return order_new_connection_create(
                actor=actor,
                channel=channel,
                account=new_account,
                partner=partner,
                quote_token=quote_token,
                **connection,
            )
    except ApplicationError as exc:
        errors.extend(exc)
        line_checked = not ({"customer", "account"} & set(exc.fields)) and any(
            name in exc.fields for name in ("plan", "msisdn", "iccid", "addons", "devices")
        )
    if not line_checked:
        # The customer or the account was refused before the line was looked at: check the
        # line too (without reserving anything), so every problem shows on one submit.
        _connection_precheck(
            errors,
            channel=channel,
            customer_kind=customer.get("kind", ""),
            payment_type=account.get("payment_type", ""),
            currency=(account.get("currency") or settings.DEFAULT_CURRENCY).upper(),
            partner=partner,
            **connection,
        )
    errors.raise_if_any("Nothing was created.")
    raise AssertionError("unreachable")  # pragma: no cover


def _connection_precheck(
    errors: FieldErrors,
    *,
    channel: str,
    customer_kind: str,
    payment_type: str,
    currency: str,
    partner: Partner | None,
    plan: PricePlan,
    iccid: str | None,
    msisdn: str | None = None,
    number_category: str | None = None,
    port_in: PortIn | None = None,
    **_: Any,
) -> None:
    """What order_new_connection_create would refuse about the line, without writing."""

    def add(name: str, message: str) -> None:
        if message not in errors.fields.get(name, []):
            errors.add(name, message)

    on_sale = plans_on_sale(channel=channel, customer_kind=customer_kind, payment_type=payment_type)
    if not on_sale.filter(pk=plan.pk).exists():
        add("plan", f"{plan} is not on sale to this customer in the {Channel(channel).label}.")
    elif plan.currency != currency:
        add("plan", f"{plan} is priced in {plan.currency}; the account bills in {currency}.")
    if port_in is not None:
        _port_in_check(port_in, errors)
    elif msisdn:
        try:
            number = Msisdn.objects.filter(number=msisdn_clean(msisdn)).first()
        except ValidationError as exc:
            add("msisdn", exc.messages[0])
        else:
            free = (Msisdn.Status.ALLOCATED,) if partner is not None else (Msisdn.Status.AVAILABLE,)
            if number is None or number.status not in free:
                add("msisdn", f"{msisdn_display(msisdn)} is not free to sell.")
    if iccid:
        sim = SimCard.objects.filter(iccid=iccid).first()
        shelf = SimCard.Status.ALLOCATED if partner is not None else SimCard.Status.IN_STOCK
        if sim is None:
            add("iccid", f"SIM {iccid} is not in stock.")
        elif sim.status != shelf or (partner is not None and sim.partner_id != partner.pk):
            add("iccid", f"SIM {iccid} is {sim.get_status_display().lower()}, not free to sell.")
    else:
        add("iccid", "Scan or type the SIM's ICCID.")


# --- changes to an existing line ----------------------------------------------------------------


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
    quote_token: UUID | None = None,
) -> Order:
    """Move a line to another plan now (the old plan's unused days credited and the new plan's
    days of its period debited, each by its own period) or at the end of the current plan's
    period (no proration: the new plan's first period is charged in full)."""
    if (existing := _existing_quote(actor, quote_token)) is not None:
        return existing
    account = subscriber.account
    errors = FieldErrors()
    _live_line(subscriber, errors)
    _plan_check(plan, account=account, channel=channel, errors=errors)
    if subscriber.plan_id == plan.pk:
        errors.add("plan", f"The line is already on {plan}.")
    if effective not in Order.Effective.values:
        errors.add("effective", "Choose now or the end of the current period.")
    errors.raise_if_any("The plan cannot be changed.")
    today = _today()
    current = plan_period_of(subscriber, today)
    order = _order_start(
        type=Order.Type.PLAN_CHANGE,
        actor=actor,
        channel=channel,
        account=account,
        subscriber=subscriber,
        plan=plan,
        quote_token=quote_token,
    )
    order.effective = effective
    if effective == Order.Effective.NOW or current is None:
        order.effective_on = today
    else:
        order.effective_on = current.end
    order.save(update_fields=["effective", "effective_on", "updated_at"])
    old = subscriber.plan
    _line(
        order,
        OrderLine.Kind.PLAN,
        f"{plan.name} from {order.effective_on:%-d %b %Y}",
        plan=plan,
        recurring=_fee(plan),
        field="plan",
    )
    if order.effective_on == today:
        if old is not None and current is not None:
            _proration_rows(
                order,
                proration_lines(
                    effective_on=today,
                    method=old.proration,
                    old_fee=_fee(old),
                    old_period=current,
                    old_label=old.name,
                ),
            )
        _proration_rows(
            order,
            proration_lines(
                effective_on=today,
                method=plan.proration,
                new_fee=_fee(plan),
                new_period=new_plan_period(plan, account, today),
                new_label=plan.name,
            ),
        )
    return order


@transaction.atomic
def order_addon_create(
    *,
    actor: User,
    channel: str,
    subscriber: Subscriber,
    addon: AddOn,
    quote_token: UUID | None = None,
) -> Order:
    if (existing := _existing_quote(actor, quote_token)) is not None:
        return existing
    errors = FieldErrors()
    _live_line(subscriber, errors, statuses=(Subscriber.Status.ACTIVE,))
    if subscriber.plan is None:
        errors.add("subscriber", "The line has no plan to add to.")
    else:
        addons_check(
            [addon],
            plan=subscriber.plan,
            currency=subscriber.account.currency,
            held=addons_held_by(subscriber),
            errors=errors,
        )
    errors.raise_if_any("The add-on cannot be bought.")
    order = _order_start(
        type=Order.Type.ADD_ON,
        actor=actor,
        channel=channel,
        account=subscriber.account,
        subscriber=subscriber,
        quote_token=quote_token,
    )
    _line(
        order,
        OrderLine.Kind.ADD_ON,
        f"{addon.name} ({addon.validity_days} days)",
        addon=addon,
        one_time=Money(addon.price_amount, addon.currency),
    )
    return order


@transaction.atomic
def order_sim_swap_create(
    *,
    actor: User,
    channel: str,
    subscriber: Subscriber,
    iccid: str,
    reason: str,
    partner: Partner | None = None,
    quote_token: UUID | None = None,
) -> Order:
    """A new SIM for a line that keeps its number (lost, stolen or damaged card)."""
    if (existing := _existing_quote(actor, quote_token)) is not None:
        return existing
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
        partner=partner,
        quote_token=quote_token,
    )
    try:
        sim = inventory.sim_reserve(ref=order.number, actor=actor, sim=iccid, partner=partner)
    except ApplicationError as exc:
        raise _unavailable(exc, "iccid") from exc
    order.sim = sim
    order.save(update_fields=["sim", "updated_at"])
    _line(order, OrderLine.Kind.SIM, f"New SIM {sim.iccid} for {subscriber.msisdn_display}")
    return order


# Each service change, the line status it leads to and the status it starts from.
SERVICE_CHANGES: dict[str, tuple[str, tuple[str, ...]]] = {
    Order.Type.ACTIVATE: (Subscriber.Status.ACTIVE, (Subscriber.Status.PENDING,)),
    Order.Type.SUSPEND: (Subscriber.Status.SUSPENDED, (Subscriber.Status.ACTIVE,)),
    Order.Type.RESUME: (Subscriber.Status.ACTIVE, (Subscriber.Status.SUSPENDED,)),
    Order.Type.TERMINATE: (
        Subscriber.Status.TERMINATED,
        (Subscriber.Status.PENDING, Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED),
    ),
}


SERVICE_CHANGE_VERBS: dict[str, str] = {
    Order.Type.ACTIVATE: "activated",
    Order.Type.SUSPEND: "suspended",
    Order.Type.RESUME: "resumed",
    Order.Type.TERMINATE: "terminated",
}


def service_change_allowed(subscriber: Subscriber, type: str) -> bool:
    """Whether the line's status lets it take this service change now."""
    return type in SERVICE_CHANGES and subscriber.status in SERVICE_CHANGES[type][1]


@transaction.atomic
def order_service_change_create(
    *,
    actor: User,
    channel: str,
    subscriber: Subscriber,
    type: str,
    reason: str,
    quote_token: UUID | None = None,
) -> Order:
    """Activate, suspend, resume or terminate a line through an order, with a reason;
    terminating credits the unused days of the plan's current period (per the plan's rule)."""
    if (existing := _existing_quote(actor, quote_token)) is not None:
        return existing
    errors = FieldErrors()
    if type not in SERVICE_CHANGES:
        errors.add("type", "Choose activate, suspend, resume or terminate.")
    if not reason.strip():
        errors.add("reason", "A reason is required.")
    errors.raise_if_any("The order cannot be placed.")
    if not service_change_allowed(subscriber, type):
        raise InvalidTransition(
            f"{subscriber.msisdn_display} is {subscriber.status}; "
            f"it cannot be {SERVICE_CHANGE_VERBS[type]}."
        )
    order = _order_start(
        type=type,
        actor=actor,
        channel=channel,
        account=subscriber.account,
        subscriber=subscriber,
        reason=reason,
        quote_token=quote_token,
    )
    _line(order, OrderLine.Kind.SERVICE, f"{Order.Type(type).label} {subscriber.msisdn_display}")
    plan = subscriber.plan
    if type == Order.Type.TERMINATE:
        order.effective_on = _today()
        order.save(update_fields=["effective_on", "updated_at"])
        period = plan_period_of(subscriber, _today())
        if plan is not None and period is not None:
            _proration_rows(
                order,
                proration_lines(
                    effective_on=_today(),
                    method=plan.proration,
                    old_fee=_fee(plan),
                    old_period=period,
                    old_label=plan.name,
                ),
            )
    return order
