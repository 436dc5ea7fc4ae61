"""New connections: a number from the pool or ported in, a SIM from stock; and a new customer
with a first line, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.errors import ApplicationError, FieldErrors
from common.money import Money
from crm.models import Account, Subscriber, User
from crm.services import AddressData, account_create, customer_create
from crm.validators import msisdn_clean, msisdn_display
from orders.catalog.models import AddOn, Channel, Device, PricePlan
from orders.catalog.selectors import plans_on_sale
from orders.inventory import services as inventory
from orders.inventory.models import Msisdn, SimCard
from orders.models import Order, OrderLine
from orders.placing._shared import (
    addons_check,
    device_reserve,
    existing_quote,
    fee,
    local_today,
    new_plan_period,
    order_line,
    order_start,
    plan_check,
    proration_rows,
    unavailable,
)
from orders.proration import proration_lines
from partners.models import Partner

PORT_IN_MAX_DAYS_AHEAD = 30


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
    today = local_today()
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
    if (existing := existing_quote(actor, quote_token)) is not None:
        return existing
    errors = FieldErrors()
    if account.status != Account.Status.ACTIVE:
        errors.add("account", f"Account {account.number} is {account.status}.")
    plan_check(plan, account=account, channel=channel, errors=errors)
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
    order = order_start(
        type=Order.Type.NEW_CONNECTION,
        actor=actor,
        channel=channel,
        account=account,
        plan=plan,
        subscriber=None,
        partner=partner,
        quote_token=quote_token,
    )
    starts_on = port_in.port_date if port_in is not None else local_today()
    hold_minutes = _minutes_until_end_of(starts_on) if port_in is not None else None
    if port_in is not None:
        order.ported_msisdn = ported
        order.donor_operator = port_in.donor_operator
        order.effective_on = port_in.port_date
        order_line(
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
            raise unavailable(exc, "msisdn") from exc
        order.msisdn = number
        order_line(
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
        raise unavailable(exc, "iccid") from exc
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
    order_line(order, OrderLine.Kind.SIM, f"SIM {sim.iccid}")
    order_line(
        order,
        OrderLine.Kind.PLAN,
        f"{plan.name} ({plan.get_recurring_period_display().lower()})",
        plan=plan,
        recurring=fee(plan),
        field="plan",
    )
    if plan.activation_fee_amount:
        order_line(
            order,
            OrderLine.Kind.ACTIVATION_FEE,
            "Activation fee",
            one_time=Money(plan.activation_fee_amount, plan.currency),
            field="plan",
        )
    proration_rows(
        order,
        proration_lines(
            effective_on=starts_on,
            method=plan.proration,
            new_fee=fee(plan),
            new_period=new_plan_period(plan, account, starts_on),
            new_label=plan.name,
        ),
    )
    for addon in addons:
        order_line(
            order,
            OrderLine.Kind.ADD_ON,
            f"{addon.name} ({addon.validity_days} days)",
            addon=addon,
            one_time=Money(addon.price_amount, addon.currency),
            field="addons",
        )
    for device in devices:
        device_reserve(order, device, plan, actor)
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
    if (existing := existing_quote(actor, quote_token)) is not None:
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
