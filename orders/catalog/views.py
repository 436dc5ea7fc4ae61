"""Back-office pages of the product catalog: price plans and their versions, add-ons, devices.

Every page needs the back office; every change also needs orders.manage_catalog. Forms parse
the input, one service decides, and its field errors land on the form (post/redirect/get).
Those who may read the audit log (common.view_audit_log) see each item's changes on its page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from common.audit import audit_events_for, audit_events_for_many
from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.forms import service_errors_to_form
from common.permissions import CommonPerm
from common.roles import BACKOFFICE
from crm.models import User
from orders.catalog import selectors, services
from orders.catalog.forms import (
    AddOnCreateForm,
    AddOnForm,
    AllowanceFormSet,
    DeviceCreateForm,
    DeviceForm,
    DeviceStockForm,
    PlanCreateForm,
    PlanForm,
    TierFormSet,
    allowance_initial,
    formset_rows,
    service_errors_to_formset,
    tier_initial,
)
from orders.catalog.models import AddOn, Device, PricePlan
from orders.inventory import selectors as inventory_selectors
from orders.inventory import services as inventory_services
from orders.permissions import OrdersPerm

GET_POST = ["GET", "POST"]
TRAIL_LENGTH = 50  # the latest changes on an item's page; the audit log has them all


def _actor(request: HttpRequest) -> User:
    """The signed-in person (frontend_required has let no one else in)."""
    return cast("User", request.user)


def _may_manage(request: HttpRequest) -> bool:
    return request.user.has_perm(OrdersPerm.MANAGE_CATALOG)


def _trail(request: HttpRequest, events: Any) -> list[Any] | None:
    """The latest audited changes, for those who may read the audit log (None for others)."""
    if not request.user.has_perm(CommonPerm.VIEW_AUDIT_LOG):
        return None
    return list(events[:TRAIL_LENGTH])


def _confirm(
    request: HttpRequest,
    *,
    change: Callable[[], Any],
    done: Callable[[Any], str],
    back: str,
    context: dict[str, Any],
    then: Callable[[Any], str] | None = None,
) -> HttpResponse:
    """GET asks for confirmation; POST makes the change and returns to the object's page (or
    to `then(result)`); a refusal is shown there too."""
    if request.method == "POST":
        try:
            result = change()
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        messages.success(request, done(result))
        return redirect(then(result) if then else back)
    return render(request, "orders/catalog/confirm.html", {"back": back, **context})


# --- home ---------------------------------------------------------------------------------------


@frontend_required(BACKOFFICE)
def catalog_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "orders/catalog/home.html",
        {
            "families": selectors.plan_families(),
            "addons": selectors.addons_all(),
            "devices": inventory_selectors.devices_all(),
            "may_manage": _may_manage(request),
        },
    )


# --- plans --------------------------------------------------------------------------------------


def _plan_url(plan: PricePlan, anchor: str = "") -> str:
    url = reverse("catalog:plan-detail", args=[plan.public_id])
    return f"{url}#{anchor}" if anchor else url


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def plan_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    form = PlanCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(actor=_actor(request), **form.service_data())
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request, f"{plan.name} was created as draft version 1. Add its allowances."
            )
            return redirect(_plan_url(plan))
    return render(request, "orders/catalog/plan_form.html", {"form": form, "plan": None})


def _plan_detail(
    request: HttpRequest,
    plan: PricePlan,
    *,
    allowance_formset: Any = None,
    tier_formset: Any = None,
    allowance_errors: list[str] | None = None,
    tier_errors: list[str] | None = None,
) -> HttpResponse:
    editable = plan.status == PricePlan.Status.DRAFT and _may_manage(request)
    if editable:
        allowance_formset = allowance_formset or AllowanceFormSet(
            initial=allowance_initial(plan.allowances.all()), prefix="allowances"
        )
        tier_formset = tier_formset or TierFormSet(
            initial=tier_initial(plan.tiers.all()), prefix="tiers"
        )
    versions = list(selectors.plan_versions(plan.code))
    context = {
        "plan": plan,
        "charges": selectors.plan_charges(plan),
        "versions": versions,
        # every version's changes: publishing one retires another
        "audit_trail": _trail(request, audit_events_for_many(versions)),
        "editable": editable,
        "may_manage": _may_manage(request),
        "transitions": PricePlan.TRANSITIONS[plan.status],
        "has_draft": selectors.plan_draft_version(plan.code) is not None,
        "allowance_formset": allowance_formset,
        "tier_formset": tier_formset,
        "allowance_errors": allowance_errors or [],
        "tier_errors": tier_errors or [],
    }
    return render(request, "orders/catalog/plan_detail.html", context)


@frontend_required(BACKOFFICE)
def plan_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _plan_detail(request, selectors.plan_get_for(request.user, public_id))


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def plan_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    plan = selectors.plan_get_for(request.user, public_id)
    if request.method == "GET" and plan.status != PricePlan.Status.DRAFT:
        messages.info(
            request,
            f"Version {plan.version} is {plan.get_status_display().lower()}; only drafts are "
            "edited. Make a new version to change it.",
        )
        return redirect(_plan_url(plan))
    form = PlanForm(request.POST or None, initial=PlanForm.initial_from(plan))
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(plan=plan, actor=_actor(request), **form.service_data())
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"Draft version {plan.version} saved.")
            return redirect(_plan_url(plan))
    return render(request, "orders/catalog/plan_form.html", {"form": form, "plan": plan})


@require_POST
@frontend_required(BACKOFFICE)
def plan_allowances(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    plan = selectors.plan_get_for(request.user, public_id)
    formset = AllowanceFormSet(request.POST, prefix="allowances")
    errors: list[str] = []
    if formset.is_valid():
        rows, indexes = formset_rows(formset)
        try:
            services.plan_allowances_set(plan=plan, actor=_actor(request), allowances=rows)
        except ApplicationError as exc:
            errors = service_errors_to_formset(formset, indexes, "allowances", exc)
        else:
            messages.success(request, f"Allowances of version {plan.version} saved.")
            return redirect(_plan_url(plan, "allowances"))
    return _plan_detail(request, plan, allowance_formset=formset, allowance_errors=errors)


@require_POST
@frontend_required(BACKOFFICE)
def plan_tiers(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    plan = selectors.plan_get_for(request.user, public_id)
    formset = TierFormSet(request.POST, prefix="tiers")
    errors: list[str] = []
    if formset.is_valid():
        rows, indexes = formset_rows(formset)
        try:
            services.plan_tiers_set(plan=plan, actor=_actor(request), tiers=rows)
        except ApplicationError as exc:
            errors = service_errors_to_formset(formset, indexes, "tiers", exc)
        else:
            messages.success(request, f"Charging tiers of version {plan.version} saved.")
            return redirect(_plan_url(plan, "tiers"))
    return _plan_detail(request, plan, tier_formset=formset, tier_errors=errors)


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def plan_new_version(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    plan = selectors.plan_get_for(request.user, public_id)
    return _confirm(
        request,
        change=lambda: services.plan_new_version(plan=plan, actor=_actor(request)),
        done=lambda new: (
            f"Draft version {new.version} of {new.name} was made from version {plan.version}. "
            "Change it, then publish it."
        ),
        back=_plan_url(plan),
        then=_plan_url,
        context={
            "title": f"Make a new version of {plan.name}?",
            "object": plan,
            "allowed": plan.status == PricePlan.Status.PUBLISHED,
            "refusal": f"Version {plan.version} is {plan.get_status_display().lower()}; only "
            "the published version is copied into a new version.",
            "explanation": (
                f"Version {plan.version} is copied, with its allowances and charging tiers, into "
                f"a new draft. Version {plan.version} stays on sale until the draft is published."
            ),
            "button": "Make a new version",
            "danger": False,
        },
    )


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def plan_publish(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    plan = selectors.plan_get_for(request.user, public_id)
    on_sale = selectors.plan_published_version(plan.code)
    replaces = (
        f" Version {on_sale.version} is retired at the same moment: it is no longer sold, and "
        "lines already on it keep it until they change plan."
        if on_sale and on_sale.pk != plan.pk
        else ""
    )
    return _confirm(
        request,
        change=lambda: services.plan_publish(plan=plan, actor=_actor(request)),
        done=lambda p: f"Version {p.version} of {p.name} is on sale.",
        back=_plan_url(plan),
        context={
            "title": f"Publish version {plan.version} of {plan.name}?",
            "object": plan,
            "allowed": PricePlan.Status.PUBLISHED in PricePlan.TRANSITIONS[plan.status],
            "refusal": f"Version {plan.version} is {plan.get_status_display().lower()}; only a "
            "draft is published.",
            "explanation": "It goes on sale to the customers and channels it is eligible for, "
            "within its validity window, and can no longer be edited." + replaces,
            "button": "Publish",
            "danger": False,
        },
    )


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def plan_retire(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    plan = selectors.plan_get_for(request.user, public_id)
    draft = plan.status == PricePlan.Status.DRAFT
    return _confirm(
        request,
        change=lambda: services.plan_retire(plan=plan, actor=_actor(request)),
        done=lambda p: f"Version {p.version} of {p.name} is retired.",
        back=_plan_url(plan),
        context={
            "title": f"Retire version {plan.version} of {plan.name}?",
            "object": plan,
            "allowed": PricePlan.Status.RETIRED in PricePlan.TRANSITIONS[plan.status],
            "refusal": f"Version {plan.version} is already retired.",
            "explanation": (
                "The draft is set aside and will never be sold."
                if draft
                else "It is no longer sold. Lines already on it keep it until they change plan."
            )
            + " This cannot be undone.",
            "button": "Retire",
            "danger": True,
        },
    )


# --- add-ons ------------------------------------------------------------------------------------


def _addon_url(addon: AddOn, anchor: str = "") -> str:
    url = reverse("catalog:addon-detail", args=[addon.public_id])
    return f"{url}#{anchor}" if anchor else url


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def addon_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    form = AddOnCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            addon = services.addon_create(actor=_actor(request), **form.cleaned_data)
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{addon.name} is on sale. Add what it includes.")
            return redirect(_addon_url(addon))
    return render(request, "orders/catalog/addon_form.html", {"form": form, "addon": None})


def _addon_detail(
    request: HttpRequest, addon: AddOn, *, formset: Any = None, errors: list[str] | None = None
) -> HttpResponse:
    editable = addon.status == AddOn.Status.ACTIVE and _may_manage(request)
    if editable and formset is None:
        formset = AllowanceFormSet(
            initial=allowance_initial(addon.allowances.all()), prefix="allowances"
        )
    context = {
        "addon": addon,
        "audit_trail": _trail(request, audit_events_for(addon)),
        "editable": editable,
        "may_manage": _may_manage(request),
        "allowance_formset": formset,
        "allowance_errors": errors or [],
    }
    return render(request, "orders/catalog/addon_detail.html", context)


@frontend_required(BACKOFFICE)
def addon_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _addon_detail(request, selectors.addon_get(public_id))


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def addon_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    addon = selectors.addon_get(public_id)
    form = AddOnForm(request.POST or None, addon=addon, initial=AddOnForm.initial_from(addon))
    if request.method == "POST" and form.is_valid():
        try:
            services.addon_update(addon=addon, actor=_actor(request), **form.cleaned_data)
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{addon.name} saved.")
            return redirect(_addon_url(addon))
    return render(request, "orders/catalog/addon_form.html", {"form": form, "addon": addon})


@require_POST
@frontend_required(BACKOFFICE)
def addon_allowances(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    addon = selectors.addon_get(public_id)
    formset = AllowanceFormSet(request.POST, prefix="allowances")
    errors: list[str] = []
    if formset.is_valid():
        rows, indexes = formset_rows(formset)
        try:
            services.addon_allowances_set(addon=addon, actor=_actor(request), allowances=rows)
        except ApplicationError as exc:
            errors = service_errors_to_formset(formset, indexes, "allowances", exc)
        else:
            messages.success(request, f"Allowances of {addon.name} saved.")
            return redirect(_addon_url(addon, "allowances"))
    return _addon_detail(request, addon, formset=formset, errors=errors)


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def addon_retire(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    addon = selectors.addon_get(public_id)
    return _confirm(
        request,
        change=lambda: services.addon_retire(addon=addon, actor=_actor(request)),
        done=lambda a: f"{a.name} is no longer sold.",
        back=_addon_url(addon),
        context={
            "title": f"Retire {addon.name}?",
            "object": addon,
            "allowed": addon.status == AddOn.Status.ACTIVE,
            "refusal": f"{addon.name} is already retired.",
            "explanation": "It is no longer sold. Lines that hold it keep it until it expires. "
            "This cannot be undone.",
            "button": "Retire",
            "danger": True,
        },
    )


# --- devices ------------------------------------------------------------------------------------


def _device_url(device: Device) -> str:
    return reverse("catalog:device-detail", args=[device.public_id])


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def device_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    form = DeviceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.device_create(actor=_actor(request), **form.cleaned_data)
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{device.name} is on sale. Add its serial-numbered stock.")
            return redirect(_device_url(device))
    return render(request, "orders/catalog/device_form.html", {"form": form, "device": None})


@frontend_required(BACKOFFICE)
def device_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    device = inventory_selectors.device_get(public_id)
    context = {
        "device": device,
        "stock": inventory_selectors.device_stock(device),
        "items": inventory_selectors.device_items_recent(device),
        "may_manage": _may_manage(request),
        "audit_trail": _trail(request, audit_events_for(device)),
    }
    return render(request, "orders/catalog/device_detail.html", context)


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def device_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    device = inventory_selectors.device_get(public_id)
    form = DeviceForm(request.POST or None, initial=DeviceForm.initial_from(device))
    if request.method == "POST" and form.is_valid():
        try:
            services.device_update(device=device, actor=_actor(request), **form.cleaned_data)
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{device.name} saved.")
            return redirect(_device_url(device))
    return render(request, "orders/catalog/device_form.html", {"form": form, "device": device})


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def device_stock_add(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    device = inventory_selectors.device_get(public_id)
    form = DeviceStockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = inventory_services.device_items_add(
                device=device,
                actor=_actor(request),
                serials=form.cleaned_data["serials"],
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request, f"{added} unit{'s' if added != 1 else ''} of {device.name} in stock."
            )
            return redirect(_device_url(device))
    return render(request, "orders/catalog/device_stock.html", {"form": form, "device": device})


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def device_retire(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_CATALOG)
    device = inventory_selectors.device_get(public_id)
    return _confirm(
        request,
        change=lambda: services.device_retire(device=device, actor=_actor(request)),
        done=lambda d: f"{d.name} is no longer sold.",
        back=_device_url(device),
        context={
            "title": f"Retire {device.name}?",
            "object": device,
            "allowed": device.status == Device.Status.ACTIVE,
            "refusal": f"{device.name} is already retired.",
            "explanation": "It is no longer sold and no stock is added to it; units in stock "
            "keep their status. This cannot be undone.",
            "button": "Retire",
            "danger": True,
        },
    )
