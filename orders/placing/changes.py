"""Changes to an existing line: plan change, add-on, SIM swap, and the service changes
(activate, suspend, resume, terminate)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from django.db import transaction

from common.errors import ApplicationError, FieldErrors, InvalidTransition
from common.money import Money
from crm.models import Subscriber, User
from orders.catalog.models import AddOn, PricePlan
from orders.inventory import services as inventory
from orders.models import Order, OrderLine
from orders.placing._shared import (
    LIVE_LINE,
    addons_check,
    existing_quote,
    fee,
    local_today,
    new_plan_period,
    order_line,
    order_start,
    plan_check,
    plan_period_of,
    proration_rows,
    unavailable,
)
from orders.proration import proration_lines
from orders.selectors import addons_held_by
from partners.models import Partner


def _as_it_is_now(subscriber: Subscriber) -> Subscriber:
    """The line as the database has it now: a change is checked against its real status, not
    the copy a page or a job read a while ago."""
    return Subscriber.objects.select_related("account__customer", "plan").get(pk=subscriber.pk)


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
    if (existing := existing_quote(actor, quote_token)) is not None:
        return existing
    subscriber = _as_it_is_now(subscriber)
    account = subscriber.account
    errors = FieldErrors()
    _live_line(subscriber, errors)
    plan_check(plan, account=account, channel=channel, errors=errors)
    if subscriber.plan_id == plan.pk:
        errors.add("plan", f"The line is already on {plan}.")
    if effective not in Order.Effective.values:
        errors.add("effective", "Choose now or the end of the current period.")
    errors.raise_if_any("The plan cannot be changed.")
    today = local_today()
    current = plan_period_of(subscriber, today)
    order = order_start(
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
    order_line(
        order,
        OrderLine.Kind.PLAN,
        f"{plan.name} from {order.effective_on:%-d %b %Y}",
        plan=plan,
        recurring=fee(plan),
        field="plan",
    )
    if order.effective_on == today:
        if old is not None and current is not None:
            proration_rows(
                order,
                proration_lines(
                    effective_on=today,
                    method=old.proration,
                    old_fee=fee(old),
                    old_period=current,
                    old_label=old.name,
                ),
            )
        proration_rows(
            order,
            proration_lines(
                effective_on=today,
                method=plan.proration,
                new_fee=fee(plan),
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
    if (existing := existing_quote(actor, quote_token)) is not None:
        return existing
    subscriber = _as_it_is_now(subscriber)
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
    order = order_start(
        type=Order.Type.ADD_ON,
        actor=actor,
        channel=channel,
        account=subscriber.account,
        subscriber=subscriber,
        quote_token=quote_token,
    )
    order_line(
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
    if (existing := existing_quote(actor, quote_token)) is not None:
        return existing
    subscriber = _as_it_is_now(subscriber)
    errors = FieldErrors()
    _live_line(subscriber, errors)
    if not reason.strip():
        errors.add("reason", "Say why the SIM is swapped.")
    errors.raise_if_any("The SIM cannot be swapped.")
    order = order_start(
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
        raise unavailable(exc, "iccid") from exc
    order.sim = sim
    order.save(update_fields=["sim", "updated_at"])
    order_line(order, OrderLine.Kind.SIM, f"New SIM {sim.iccid} for {subscriber.msisdn_display}")
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
    if (existing := existing_quote(actor, quote_token)) is not None:
        return existing
    subscriber = _as_it_is_now(subscriber)
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
    order = order_start(
        type=type,
        actor=actor,
        channel=channel,
        account=subscriber.account,
        subscriber=subscriber,
        reason=reason,
        quote_token=quote_token,
    )
    order_line(
        order, OrderLine.Kind.SERVICE, f"{Order.Type(type).label} {subscriber.msisdn_display}"
    )
    plan = subscriber.plan
    if type == Order.Type.TERMINATE:
        order.effective_on = local_today()
        order.save(update_fields=["effective_on", "updated_at"])
        period = plan_period_of(subscriber, local_today())
        if plan is not None and period is not None:
            proration_rows(
                order,
                proration_lines(
                    effective_on=local_today(),
                    method=plan.proration,
                    old_fee=fee(plan),
                    old_period=period,
                    old_label=plan.name,
                ),
            )
    return order
