"""The CSR console's order pages: sell a new line, change a line's plan, buy an add-on, swap a
SIM, suspend, resume or terminate through an order, then follow the order.

Every page needs the console; every page that places or changes an order also needs
orders.place_order (and the line-status capabilities for suspend, resume and terminate).
Placing an order only drafts and quotes it: the order page shows the quote, and "Submit"
(orders.services.order_place) applies it. Writes redirect afterwards (post/redirect/get); a
refused write shows the form again with each error on its field. htmx only refreshes parts of
the new-line form (the number picker as the CSR types, and the devices and add-ons that fit the
chosen plan).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.forms import service_errors_to_form
from common.money import Money
from common.roles import CONSOLE
from crm import selectors as crm_selectors
from crm.models import Account, Customer, Subscriber, User
from crm.permissions import CrmPerm
from crm.validators import msisdn_display
from orders import placing, services
from orders.catalog.models import AddOn, Channel, Device, PricePlan
from orders.catalog.selectors import (
    addons_eligible_for,
    addons_on_sale,
    plans_on_sale,
)
from orders.forms import (
    NEXT_STANDARD,
    PORT_IN,
    AddOnForm,
    NewConnectionForm,
    NumberFilterForm,
    PlanChangeForm,
    ReasonForm,
    ServiceChangeForm,
    SimSwapForm,
    allowance_text,
)
from orders.inventory.models import Msisdn
from orders.inventory.selectors import devices_on_sale, msisdn_available
from orders.models import Order, OrderLine
from orders.permissions import OrdersPerm
from orders.placing import SERVICE_CHANGES
from orders.selectors import addon_codes_held_by, order_get_for

CHANNEL = Channel.CONSOLE
NUMBERS_SHOWN = 12


class ConsoleRequest(HttpRequest):
    htmx: HtmxDetails
    user: User  # type: ignore[assignment]


def _customer_url(customer: Customer, anchor: str = "") -> str:
    url = reverse("crm:customer-detail", args=[customer.public_id])
    return f"{url}#{anchor}" if anchor else url


def _order_url(order: Order) -> str:
    return reverse("orders:order-detail", args=[order.public_id])


def _type_permissions(order_type: str) -> list[str]:
    """What placing or submitting an order of this type takes, beyond the console."""
    needed: list[str] = [OrdersPerm.PLACE_ORDER]
    if order_type in SERVICE_CHANGES:
        needed.append(CrmPerm.CHANGE_SUBSCRIBER_STATUS)
    if order_type == Order.Type.TERMINATE:
        needed.append(CrmPerm.TERMINATE_SUBSCRIBER)
    return needed


def _require_for_type(request: ConsoleRequest, order_type: str) -> None:
    for permission in _type_permissions(order_type):
        require_perm(request, permission)


def _drafted(request: ConsoleRequest, order: Order) -> HttpResponse:
    messages.success(
        request,
        f"Order {order.number} is quoted below. Nothing happens until you submit it.",
    )
    return redirect(_order_url(order))


# --- what the new-line form offers ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanOption:
    plan: PricePlan
    fee: Money
    activation: Money
    allowances: list[str]


@dataclass(frozen=True, slots=True)
class NumberOption:
    value: str
    display: str
    category: str
    category_label: str
    price: Money | None


@dataclass(frozen=True, slots=True)
class DeviceOption:
    device: Device
    price: Money
    in_stock: int
    included: bool
    included_with: list[str]


@dataclass(frozen=True, slots=True)
class AddOnOption:
    addon: AddOn
    price: Money
    allowances: list[str]
    only_on: list[str] = field(default_factory=list)


def _plan_options(plans: list[PricePlan]) -> list[PlanOption]:
    return [
        PlanOption(
            plan,
            Money(plan.recurring_fee_amount, plan.currency),
            Money(plan.activation_fee_amount, plan.currency),
            [allowance_text(a) for a in plan.allowances.all()],
        )
        for plan in plans
    ]


def _number_option(number: Msisdn) -> NumberOption:
    priced = number.price_amount > Decimal("0")
    return NumberOption(
        number.number,
        msisdn_display(number.number),
        number.category,
        number.get_category_display(),
        Money(number.price_amount, number.currency) if priced else None,
    )


def _number_options(filters: NumberFilterForm, selected: str) -> list[NumberOption]:
    """Available numbers matching the filter; a number already chosen stays on the list."""
    if not filters.is_valid():
        found: list[Msisdn] = []
    else:
        found = msisdn_available(
            category=filters.cleaned_data["category"],
            pattern=filters.cleaned_data["pattern"],
            limit=NUMBERS_SHOWN,
        )
    options = [_number_option(number) for number in found]
    if selected and selected != NEXT_STANDARD and all(o.value != selected for o in options):
        options.insert(0, NumberOption(selected, msisdn_display(selected), "", "Chosen", None))
    return options


def _chosen_plan(plans: list[PricePlan], value: str | None) -> PricePlan | None:
    return next((plan for plan in plans if str(plan.public_id) == value), None)


def _device_options(plans: list[PricePlan], chosen: PricePlan | None) -> list[DeviceOption]:
    names = {plan.code: plan.name for plan in plans}
    options = []
    for device in devices_on_sale():
        stock = getattr(device, "in_stock", 0)
        if not stock:
            continue
        codes = device.included_with_plan_codes or []
        options.append(
            DeviceOption(
                device,
                Money(device.price_amount, device.currency),
                stock,
                chosen is not None and chosen.code in codes,
                [names[code] for code in codes if code in names],
            )
        )
    return options


def _addon_options(plans: list[PricePlan], chosen: PricePlan | None) -> list[AddOnOption]:
    names = {plan.code: plan.name for plan in plans}
    addons = addons_on_sale(plan_code=chosen.code if chosen else None)
    return [
        AddOnOption(
            addon,
            Money(addon.price_amount, addon.currency),
            [allowance_text(a) for a in addon.allowances.all()],
            [] if chosen else [names.get(code, code) for code in addon.plan_codes or []],
        )
        for addon in addons
    ]


def _new_connection_context(
    request: ConsoleRequest, account: Account, form: NewConnectionForm
) -> dict[str, Any]:
    source = request.POST if request.method == "POST" else request.GET
    customer = account.customer
    plans = list(
        plans_on_sale(
            channel=CHANNEL, customer_kind=customer.kind, payment_type=account.payment_type
        )
    )
    chosen = _chosen_plan(plans, source.get("plan"))
    selected_msisdn = source.get("msisdn", "")
    number_filter = NumberFilterForm(
        {"category": source.get("category", ""), "pattern": source.get("pattern", "")}
    )
    return {
        "form": form,
        "account": account,
        "customer": customer,
        "plans": _plan_options(plans),
        "chosen_plan": chosen,
        "number_filter": number_filter,
        "numbers": _number_options(number_filter, selected_msisdn),
        "selected_msisdn": selected_msisdn,
        "next_standard": NEXT_STANDARD,
        "port_in": PORT_IN,
        "standard_available": bool(msisdn_available(category=Msisdn.Category.STANDARD, limit=1)),
        "devices": _device_options(plans, chosen),
        "addons": _addon_options(plans, chosen),
        "selected_devices": source.getlist("devices"),
        "selected_addons": source.getlist("addons"),
    }


# --- new line -------------------------------------------------------------------------------------

NEW_CONNECTION = "orders/console/new_connection.html"


@require_http_methods(["GET", "POST"])
@frontend_required(CONSOLE)
def order_new_connection(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    """A new line on one of the customer's accounts: plan, number, SIM, devices and add-ons;
    "Get quote" drafts the order (reserving the number, SIM and devices) and shows it."""
    require_perm(request, OrdersPerm.PLACE_ORDER)
    account = crm_selectors.account_get_for(request.user, public_id)
    form = NewConnectionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            order = placing.order_new_connection_create(
                actor=request.user, channel=CHANNEL, account=account, **form.order_data()
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc, NewConnectionForm.SERVICE_FIELDS)
        else:
            return _drafted(request, order)
    context = _new_connection_context(request, account, form)
    part = request.GET.get("part")
    if request.htmx and request.method == "GET" and part in ("numbers", "extras"):
        return render(request, f"{NEW_CONNECTION}#{part}", context)
    return render(request, NEW_CONNECTION, context)


# --- the order page -------------------------------------------------------------------------------

STATUS_LABELS = {"": "New", **{value: str(label) for value, label in Order.Status.choices}}


@dataclass(frozen=True, slots=True)
class EventRow:
    at: Any
    actor: User
    old: str
    new: str
    new_status: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProrationRow:
    line: OrderLine
    charged: Money
    days: int
    period_days: int
    period_start: date | None
    period_end: date | None
    formula: str


def _proration_row(line: OrderLine, charged: Money) -> ProrationRow:
    details = line.details or {}

    def day(key: str) -> date | None:
        value = details.get(key)
        return date.fromisoformat(value) if value else None

    return ProrationRow(
        line,
        charged,
        int(details.get("days", 0)),
        int(details.get("period_days", 0)),
        day("period_start"),
        day("period_end"),
        str(details.get("formula", "")),
    )


def _may(user: User, permissions: list[str]) -> bool:
    return all(user.has_perm(permission) for permission in permissions)


def _order_context(
    request: ConsoleRequest, order: Order, cancel_form: ReasonForm | None = None
) -> dict[str, Any]:
    lines = list(order.lines.all())
    quote = services.order_quote(order=order)
    proration_kinds = {OrderLine.Kind.PRORATION_CREDIT, OrderLine.Kind.PRORATION_DEBIT}
    charged = {row.line.pk for row in quote.one_time}
    open_statuses = (Order.Status.DRAFT, Order.Status.SUBMITTED)
    return {
        "order": order,
        "customer": order.customer,
        "quote": quote,
        "proration": [_proration_row(row.line, row.charged) for row in quote.proration],
        "free_items": [
            line
            for line in lines
            if line.kind not in proration_kinds
            and line.pk not in charged
            and not line.recurring_amount
        ],
        "events": [
            EventRow(
                event.created_at,
                event.actor,
                STATUS_LABELS.get(event.old_status, event.old_status),
                STATUS_LABELS.get(event.new_status, event.new_status),
                event.new_status,
                event.reason,
            )
            for event in order.events.all()
        ],
        "may_place": order.status == Order.Status.DRAFT
        and _may(request.user, _type_permissions(order.type)),
        "may_cancel": order.status in open_statuses
        and request.user.has_perm(OrdersPerm.PLACE_ORDER),
        "cancel_form": cancel_form or ReasonForm(),
        "is_quote": order.status == Order.Status.DRAFT,
        "new_number": msisdn_display(order.msisdn.number) if order.msisdn else "",
        "today": timezone.localdate(),
    }


ORDER_DETAIL = "orders/console/order_detail.html"


@require_GET
@frontend_required(CONSOLE)
def order_detail(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    order = order_get_for(request.user, public_id)
    return render(request, ORDER_DETAIL, _order_context(request, order))


@require_POST
@frontend_required(CONSOLE)
def order_place(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    """Submit a quoted draft; taking effect today, it is completed at once (or fails cleanly)."""
    require_perm(request, OrdersPerm.PLACE_ORDER)
    order = order_get_for(request.user, public_id)
    _require_for_type(request, order.type)
    try:
        order = services.order_place(order=order, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, f"Order {order.number} was not submitted: {exc.message}")
        return redirect(_order_url(order))
    if order.status == Order.Status.COMPLETED:
        messages.success(request, f"Order {order.number} is completed.")
    elif order.status == Order.Status.FAILED:
        messages.error(request, f"Order {order.number} failed: {order.failure_reason}")
    else:
        when = f" It takes effect on {order.effective_on:%-d %b %Y}." if order.effective_on else ""
        messages.success(request, f"Order {order.number} is submitted.{when}")
    return redirect(_order_url(order))


@require_POST
@frontend_required(CONSOLE)
def order_cancel(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    """Cancel before completion: the reserved number, SIM and devices go back to stock."""
    require_perm(request, OrdersPerm.PLACE_ORDER)
    order = order_get_for(request.user, public_id)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            order = services.order_cancel(
                order=order, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"Order {order.number} is cancelled.")
            return redirect(_order_url(order))
    order = order_get_for(request.user, public_id)
    return render(request, ORDER_DETAIL, _order_context(request, order, cancel_form=form))


# --- orders for an existing line ------------------------------------------------------------------


def _line_context(subscriber: Subscriber, **extra: Any) -> dict[str, Any]:
    return {
        "subscriber": subscriber,
        "account": subscriber.account,
        "customer": subscriber.account.customer,
        **extra,
    }


def _line(request: ConsoleRequest, public_id: UUID) -> Subscriber:
    return crm_selectors.subscriber_get_for(request.user, public_id)


@require_http_methods(["GET", "POST"])
@frontend_required(CONSOLE)
def order_plan_change(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    """Move a line to another plan on sale for its account, now (prorated) or at the next bill
    date."""
    require_perm(request, OrdersPerm.PLACE_ORDER)
    subscriber = _line(request, public_id)
    account = subscriber.account
    form = PlanChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            order = placing.order_plan_change_create(
                actor=request.user,
                channel=CHANNEL,
                subscriber=subscriber,
                plan=form.cleaned_data["plan"],
                effective=form.cleaned_data["effective"],
                quote_token=form.token(),
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            return _drafted(request, order)
    plans = [
        plan
        for plan in plans_on_sale(
            channel=CHANNEL,
            customer_kind=account.customer.kind,
            payment_type=account.payment_type,
        )
        if plan.pk != subscriber.plan_id
    ]
    period = placing.plan_period_of(subscriber, timezone.localdate())
    context = _line_context(
        subscriber,
        form=form,
        plans=_plan_options(plans),
        selected_plan=form.data.get("plan", ""),
        selected_effective=form.data.get("effective", Order.Effective.NOW),
        next_bill_date=period.end if period else None,
        period=period,
    )
    return render(request, "orders/console/plan_change.html", context)


@require_http_methods(["GET", "POST"])
@frontend_required(CONSOLE)
def order_addon(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    """Buy an add-on for a line: only those it may hold now are offered."""
    require_perm(request, OrdersPerm.PLACE_ORDER)
    subscriber = _line(request, public_id)
    form = AddOnForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            order = placing.order_addon_create(
                actor=request.user,
                channel=CHANNEL,
                subscriber=subscriber,
                addon=form.cleaned_data["addon"],
                quote_token=form.token(),
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc, AddOnForm.SERVICE_FIELDS)
        else:
            return _drafted(request, order)
    eligible = addons_eligible_for(subscriber, held_codes=addon_codes_held_by(subscriber))
    addons = [
        AddOnOption(
            addon,
            Money(addon.price_amount, addon.currency),
            [allowance_text(a) for a in addon.allowances.all()],
        )
        for addon in eligible
    ]
    context = _line_context(
        subscriber, form=form, addons=addons, selected_addon=form.data.get("addon", "")
    )
    return render(request, "orders/console/addon.html", context)


@require_http_methods(["GET", "POST"])
@frontend_required(CONSOLE)
def order_sim_swap(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    """Move a line to a new SIM; it keeps its number and the old SIM is blocked."""
    require_perm(request, OrdersPerm.PLACE_ORDER)
    subscriber = _line(request, public_id)
    form = SimSwapForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            order = placing.order_sim_swap_create(
                actor=request.user,
                channel=CHANNEL,
                subscriber=subscriber,
                iccid=form.cleaned_data["iccid"],
                reason=form.cleaned_data["reason"],
                quote_token=form.token(),
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            return _drafted(request, order)
    return render(request, "orders/console/sim_swap.html", _line_context(subscriber, form=form))


SERVICE_CHANGE_TITLES: dict[str, str] = {
    Order.Type.ACTIVATE: "Activate",
    Order.Type.SUSPEND: "Suspend",
    Order.Type.RESUME: "Resume",
    Order.Type.TERMINATE: "Terminate",
}


@require_http_methods(["GET", "POST"])
@frontend_required(CONSOLE)
def order_service_change(request: ConsoleRequest, public_id: UUID, type: str) -> HttpResponse:
    """Activate, suspend, resume or terminate a line through an order, with a reason; the
    quote shows what it costs (terminating credits the plan's unused days) before it is
    submitted."""
    if type not in SERVICE_CHANGE_TITLES:
        raise Http404("No such change.")
    _require_for_type(request, type)
    subscriber = _line(request, public_id)
    form = ServiceChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            order = placing.order_service_change_create(
                actor=request.user,
                channel=CHANNEL,
                subscriber=subscriber,
                type=type,
                reason=form.cleaned_data["reason"],
                quote_token=form.token(),
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            return _drafted(request, order)
    context = _line_context(
        subscriber,
        form=form,
        type=type,
        title=SERVICE_CHANGE_TITLES[type],
        action=reverse(f"orders:order-{type}", args=[subscriber.public_id]),
    )
    return render(request, "orders/console/service_change.html", context)
