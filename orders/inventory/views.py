"""Back office pages for the number pool and SIM stock.

Every page needs the back office; every write also needs orders.manage_inventory. Writes are
POSTs that redirect afterwards; a refused write shows the page again with the errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.forms import service_errors_to_form
from common.roles import BACKOFFICE
from crm.models import User
from crm.validators import msisdn_display
from orders.inventory import selectors, services
from orders.inventory.forms import (
    MsisdnAllocateForm,
    MsisdnFilterForm,
    MsisdnRangeImportForm,
    ReasonForm,
    SimAllocateForm,
    SimBatchImportForm,
    SimFilterForm,
)
from orders.inventory.models import Msisdn, SimCard
from orders.permissions import OrdersPerm

PAGE_SIZE = 50
HISTORY_LIMIT = 200


class BackofficeRequest(HttpRequest):
    htmx: HtmxDetails
    user: User  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Action:
    """A status change offered on a detail page, with the statuses it applies to."""

    key: str
    url_name: str
    label: str
    help: str
    statuses: frozenset[str]
    service: Callable[..., Any]
    done: str
    danger: bool = False


MSISDN_ACTIONS = {
    action.key: action
    for action in (
        Action(
            "release",
            "inventory:msisdn-release",
            "Release the reservation",
            "The number goes back to the pool at once; the sale holding it loses it.",
            frozenset({Msisdn.Status.RESERVED}),
            services.msisdn_release,
            "is available again",
        ),
        Action(
            "return",
            "inventory:msisdn-return",
            "Take back into the pool",
            "The number leaves the partner's shelf and can be sold by the operator again.",
            frozenset({Msisdn.Status.ALLOCATED}),
            services.msisdn_return_to_pool,
            "is back in the pool",
        ),
        Action(
            "quarantine-end",
            "inventory:msisdn-quarantine-end",
            "End the quarantine now",
            "The number can be sold again at once, before its quarantine is over.",
            frozenset({Msisdn.Status.QUARANTINED}),
            services.msisdn_quarantine_end,
            "is available again",
            danger=True,
        ),
    )
}

SIM_ACTIONS = {
    action.key: action
    for action in (
        Action(
            "release",
            "inventory:sim-release",
            "Release the reservation",
            "The SIM goes back to its partner's shelf, or to central stock.",
            frozenset({SimCard.Status.RESERVED}),
            services.sim_release,
            "is no longer reserved",
        ),
        Action(
            "return",
            "inventory:sim-return",
            "Return to central stock",
            "Take the SIM back from its partner.",
            frozenset({SimCard.Status.ALLOCATED}),
            services.sim_return_to_stock,
            "is back in central stock",
        ),
        Action(
            "block",
            "inventory:sim-block",
            "Block (lost or stolen)",
            "The SIM can never be used again. Swap the line to a new SIM first.",
            frozenset({SimCard.Status.ASSIGNED}),
            services.sim_block,
            "is blocked",
            danger=True,
        ),
        Action(
            "damaged",
            "inventory:sim-damaged",
            "Mark damaged",
            "Write the SIM off; it can never be used again.",
            frozenset({SimCard.Status.IN_STOCK, SimCard.Status.ALLOCATED, SimCard.Status.ASSIGNED}),
            services.sim_mark_damaged,
            "is marked damaged",
            danger=True,
        ),
    )
}


def _actions(
    request: BackofficeRequest,
    catalogue: dict[str, Action],
    status: str,
    key: str,
    failed: tuple[str, ReasonForm] | None = None,
) -> list[tuple[Action, ReasonForm, str]]:
    """The changes the user may make now, each with its form (the failed one keeps errors)."""
    if not request.user.has_perm(OrdersPerm.MANAGE_INVENTORY):
        return []
    return [
        (
            action,
            failed[1] if failed and failed[0] == action.key else ReasonForm(),
            reverse(action.url_name, args=[key]),
        )
        for action in catalogue.values()
        if status in action.statuses
    ]


def _refusal(
    actions: list[tuple[Action, ReasonForm, str]], failed: tuple[str, ReasonForm] | None
) -> list[str]:
    """Why a change was refused, when its form is no longer on the page to show it (the item
    changed status meanwhile, or the change never applied to it)."""
    if failed is None or any(action.key == failed[0] for action, _, _ in actions):
        return []
    return [str(message) for messages in failed[1].errors.values() for message in messages]


def _history(events: Any, model: type[Msisdn] | type[SimCard]) -> list[tuple[Any, str, str]]:
    """Each event with its statuses in words ("In stock", not "in_stock")."""
    labels = {"": "New", **{value: str(label) for value, label in model.Status.choices}}
    return [
        (
            event,
            labels.get(event.old_status, event.old_status),
            labels.get(event.new_status, event.new_status),
        )
        for event in events
    ]


def _page(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- home ---------------------------------------------------------------------------------------


@require_GET
@frontend_required(BACKOFFICE)
def inventory_home(request: BackofficeRequest) -> HttpResponse:
    counts = selectors.inventory_counts()
    panels = [
        (counts.numbers_by_status, "inventory:msisdn-list", "status"),
        (
            counts.available_numbers_by_category,
            "inventory:msisdn-list",
            "status=available&category",
        ),
        (counts.sims_by_status, "inventory:sim-list", "status"),
    ]
    context = {
        "counts": counts,
        "panels": panels,
        "reservation_minutes": settings.INVENTORY_RESERVATION_MINUTES,
        "quarantine_days": settings.MSISDN_QUARANTINE_DAYS,
    }
    return render(request, "orders/inventory/home.html", context)


# --- numbers ------------------------------------------------------------------------------------


@require_GET
@frontend_required(BACKOFFICE)
def msisdn_list(request: BackofficeRequest) -> HttpResponse:
    """The pool, filtered by status, category and a pattern (e.g. numbers containing 777)."""
    form = MsisdnFilterForm(request.GET)
    rows = (
        selectors.msisdn_list(request.user, **form.cleaned_data)
        if form.is_valid()
        else Msisdn.objects.none()
    )
    context = {"form": form, "page": _page(request, rows), "query": _query_without_page(request)}
    template = "orders/inventory/msisdn_list.html"
    return render(request, f"{template}#results" if request.htmx else template, context)


def _msisdn_detail(
    request: BackofficeRequest, msisdn: Msisdn, failed: tuple[str, ReasonForm] | None = None
) -> HttpResponse:
    actions = _actions(request, MSISDN_ACTIONS, msisdn.status, msisdn.number, failed)
    context = {
        "msisdn": msisdn,
        "line": selectors.msisdn_line(msisdn),
        "history": _history(selectors.msisdn_history(msisdn)[:HISTORY_LIMIT], Msisdn),
        "actions": actions,
        "refusal": _refusal(actions, failed),
    }
    return render(request, "orders/inventory/msisdn_detail.html", context)


@require_GET
@frontend_required(BACKOFFICE)
def msisdn_detail(request: BackofficeRequest, number: str) -> HttpResponse:
    return _msisdn_detail(request, selectors.msisdn_get_for(request.user, number))


@require_POST
@frontend_required(BACKOFFICE)
def msisdn_change(request: BackofficeRequest, number: str, action: str) -> HttpResponse:
    """Release a reservation or end a quarantine early, with a reason for the history."""
    require_perm(request, OrdersPerm.MANAGE_INVENTORY)
    msisdn = selectors.msisdn_get_for(request.user, number)
    change = MSISDN_ACTIONS.get(action)
    if change is None:
        raise Http404("No such action.")
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            msisdn = change.service(
                msisdn=msisdn, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{msisdn_display(msisdn.number)} {change.done}.")
            return redirect("inventory:msisdn-detail", msisdn.number)
    msisdn.refresh_from_db()
    return _msisdn_detail(request, msisdn, failed=(action, form))


@require_http_methods(["GET", "POST"])
@frontend_required(BACKOFFICE)
def msisdn_allocate(request: BackofficeRequest) -> HttpResponse:
    """Put numbers on a partner's shelf: a number of free ones of a category, or a list."""
    require_perm(request, OrdersPerm.MANAGE_INVENTORY)
    form = MsisdnAllocateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        partner = data["partner"]
        try:
            allocated = services.msisdn_allocate(
                partner=partner,
                actor=request.user,
                count=data["count"] or None,
                numbers=data["numbers"] or None,
                category=data["category"] or Msisdn.Category.STANDARD,
                reason=data["reason"],
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            plural = "s" if allocated != 1 else ""
            messages.success(request, f"{allocated:,} number{plural} allocated to {partner.name}.")
            return redirect(
                f"{reverse('inventory:msisdn-list')}?status=allocated&partner={partner.code}"
            )
    return render(request, "orders/inventory/msisdn_allocate.html", {"form": form})


@require_http_methods(["GET", "POST"])
@frontend_required(BACKOFFICE)
def msisdn_range_import(request: BackofficeRequest) -> HttpResponse:
    require_perm(request, OrdersPerm.MANAGE_INVENTORY)
    form = MsisdnRangeImportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.msisdn_range_import(actor=request.user, **form.import_data())
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            parts = [f"{result.created:,} number{'s' if result.created != 1 else ''} added"]
            if result.in_use:
                parts.append(f"{result.in_use:,} added as assigned (live lines have them)")
            if result.skipped:
                parts.append(f"{result.skipped:,} already in the pool, skipped")
            messages.success(request, "Range imported: " + "; ".join(parts) + ".")
            return redirect(f"{reverse('inventory:msisdn-list')}?status=available")
    return render(request, "orders/inventory/msisdn_range_import.html", {"form": form})


# --- SIMs ---------------------------------------------------------------------------------------


@require_GET
@frontend_required(BACKOFFICE)
def sim_list(request: BackofficeRequest) -> HttpResponse:
    form = SimFilterForm(request.GET)
    rows = (
        selectors.sim_list(request.user, **form.cleaned_data)
        if form.is_valid()
        else SimCard.objects.none()
    )
    context = {"form": form, "page": _page(request, rows), "query": _query_without_page(request)}
    template = "orders/inventory/sim_list.html"
    return render(request, f"{template}#results" if request.htmx else template, context)


def _sim_detail(
    request: BackofficeRequest, sim: SimCard, failed: tuple[str, ReasonForm] | None = None
) -> HttpResponse:
    actions = _actions(request, SIM_ACTIONS, sim.status, sim.iccid, failed)
    context = {
        "sim": sim,
        "line": selectors.sim_line(sim),
        "history": _history(selectors.sim_history(sim)[:HISTORY_LIMIT], SimCard),
        "actions": actions,
        "refusal": _refusal(actions, failed),
    }
    return render(request, "orders/inventory/sim_detail.html", context)


@require_GET
@frontend_required(BACKOFFICE)
def sim_detail(request: BackofficeRequest, iccid: str) -> HttpResponse:
    return _sim_detail(request, selectors.sim_get_for(request.user, iccid))


@require_POST
@frontend_required(BACKOFFICE)
def sim_change(request: BackofficeRequest, iccid: str, action: str) -> HttpResponse:
    """Release, return, block or write off one SIM, with a reason for the history."""
    require_perm(request, OrdersPerm.MANAGE_INVENTORY)
    sim = selectors.sim_get_for(request.user, iccid)
    change = SIM_ACTIONS.get(action)
    if change is None:
        raise Http404("No such action.")
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            sim = change.service(sim=sim, actor=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"SIM {sim.iccid} {change.done}.")
            return redirect("inventory:sim-detail", sim.iccid)
    sim.refresh_from_db()
    return _sim_detail(request, sim, failed=(action, form))


@require_GET
@frontend_required(BACKOFFICE)
def sim_batch_list(request: BackofficeRequest) -> HttpResponse:
    page = _page(request, selectors.sim_batch_list(request.user))
    return render(request, "orders/inventory/sim_batch_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@frontend_required(BACKOFFICE)
def sim_batch_import(request: BackofficeRequest) -> HttpResponse:
    """Upload a supplier's CSV; a file with any bad line is refused whole, every line listed."""
    require_perm(request, OrdersPerm.MANAGE_INVENTORY)
    form = SimBatchImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.sim_batch_import(
                file=form.cleaned_data["file"], name=form.cleaned_data["name"], actor=request.user
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
            form.refusal = exc.message  # type: ignore[attr-defined]
        else:
            messages.success(
                request, f"Batch “{batch.name}” imported: {batch.card_count:,} SIMs in stock."
            )
            return redirect(f"{reverse('inventory:sim-list')}?batch={batch.public_id}")
    return render(request, "orders/inventory/sim_batch_import.html", {"form": form})


@require_http_methods(["GET", "POST"])
@frontend_required(BACKOFFICE)
def sim_allocate(request: BackofficeRequest) -> HttpResponse:
    """Put SIMs on a partner's shelf: a number of them from stock, or a list of ICCIDs."""
    require_perm(request, OrdersPerm.MANAGE_INVENTORY)
    form = SimAllocateForm(request.POST or None, initial={"batch": request.GET.get("batch")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        partner = data["partner"]
        try:
            allocated = services.sim_allocate(
                partner=partner,
                actor=request.user,
                count=data["count"] or None,
                sims=data["iccids"] or None,
                batch=data["batch"],
                reason=data["reason"],
            )
        except ApplicationError as exc:
            if "sims" in exc.fields:
                exc.fields["iccids"] = exc.fields.pop("sims")
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request,
                f"{allocated:,} SIM{'s' if allocated != 1 else ''} allocated to {partner.name}.",
            )
            return redirect(
                f"{reverse('inventory:sim-list')}?status=allocated&partner={partner.code}"
            )
    return render(request, "orders/inventory/sim_allocate.html", {"form": form})
