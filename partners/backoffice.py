"""Back-office pages of the partner tree, mounted at /backoffice/partners/: the tree with its
figures, a partner's page (details, users, history), and every change to partners and their
users.

Every page needs the back office and partners.manage_partners. Forms parse the input, one
service decides, and its field errors land on the form; a change redirects to the partner's
page (post/redirect/get). Adding a user from the partner's page over htmx swaps only the users
panel (and the history beside it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.forms import service_errors_to_form
from common.roles import BACKOFFICE
from crm.models import User
from orders.inventory.selectors import sims_on_shelf_by_partner
from partners import selectors, services
from partners.forms import (
    TOP,
    PartnerCreateForm,
    PartnerForm,
    PartnerMoveForm,
    PartnerStatusForm,
    PartnerUserAddForm,
    PartnerUserRemoveForm,
)
from partners.models import Partner
from partners.permissions import PartnersPerm

app_name = "partner-backoffice"

GET_POST = ["GET", "POST"]
DETAIL = "partners/backoffice/partner_detail.html"


class BackofficeRequest(HttpRequest):
    """What these views receive: a signed-in user (frontend_required) and django-htmx."""

    htmx: HtmxDetails
    user: User  # type: ignore[assignment]


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The back office (anonymous: sign in first), then partners.manage_partners (else 403)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_perm(request, PartnersPerm.MANAGE_PARTNERS)
        return view(request, *args, **kwargs)

    return cast("Callable[..., HttpResponse]", frontend_required(BACKOFFICE)(wrapped))


def _detail_url(partner: Partner, anchor: str = "") -> str:
    url = reverse("partner-backoffice:partner-detail", args=[partner.public_id])
    return f"{url}#{anchor}" if anchor else url


def _place(request: BackofficeRequest, value: str) -> Partner | None:
    """The chosen place in the tree: None for the top, else the partner (404 if not visible)."""
    return None if value == TOP else selectors.partner_get_for(request.user, value)


# --- the tree -----------------------------------------------------------------------------------


@require_GET
@manager_required
def partner_list(request: BackofficeRequest) -> HttpResponse:
    rows = selectors.partner_tree(sims_on_shelf=sims_on_shelf_by_partner())
    return render(request, "partners/backoffice/partner_list.html", {"rows": rows})


@require_http_methods(GET_POST)
@manager_required
def partner_create(request: BackofficeRequest) -> HttpResponse:
    """A new partner, at the top of the tree or under the partner named by ?parent=."""
    initial = {"parent": request.GET.get("parent") or TOP, "kind": Partner.Kind.RESELLER}
    form = PartnerCreateForm(
        request.POST or None, initial=initial, parents=selectors.partner_parent_choices()
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            partner = services.partner_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                parent=_place(request, data["parent"]),
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{partner.name} was created.")
            return redirect(_detail_url(partner))
    return render(request, "partners/backoffice/partner_form.html", {"form": form, "partner": None})


# --- one partner --------------------------------------------------------------------------------


def _users_context(partner: Partner, form: PartnerUserAddForm | None = None) -> dict[str, Any]:
    return {
        "partner": partner,
        "users": selectors.partner_users(partner),
        "user_form": form or PartnerUserAddForm(),
        "history": selectors.partner_history(partner),
    }


def _detail_context(
    partner: Partner, user_form: PartnerUserAddForm | None = None
) -> dict[str, Any]:
    return {
        **_users_context(partner, user_form),
        "ancestors": selectors.partner_ancestors(partner),
        "children": selectors.partner_children(partner),
        "figures": selectors.partner_figures(partner),
        "sims_on_shelf": sims_on_shelf_by_partner().get(partner.pk, 0),
        "transitions": Partner.TRANSITIONS[partner.status],
    }


@require_GET
@manager_required
def partner_detail(request: BackofficeRequest, public_id: UUID) -> HttpResponse:
    partner = selectors.partner_get_for(request.user, public_id)
    return render(request, DETAIL, _detail_context(partner))


@require_http_methods(GET_POST)
@manager_required
def partner_edit(request: BackofficeRequest, public_id: UUID) -> HttpResponse:
    partner = selectors.partner_get_for(request.user, public_id)
    form = PartnerForm(request.POST or None, initial={"name": partner.name, "kind": partner.kind})
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.partner_update(
                partner=partner, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{partner.name} was saved.")
            return redirect(_detail_url(partner))
    return render(
        request, "partners/backoffice/partner_form.html", {"form": form, "partner": partner}
    )


@require_http_methods(GET_POST)
@manager_required
def partner_move(request: BackofficeRequest, public_id: UUID) -> HttpResponse:
    """Choose a new parent among the places open to the partner, with its whole subtree."""
    partner = selectors.partner_get_for(request.user, public_id)
    targets = selectors.partner_move_targets(partner)
    form = PartnerMoveForm(request.POST or None, targets=targets, top=partner.parent_id is not None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.partner_move(
                partner=partner,
                actor=request.user,
                parent=_place(request, form.cleaned_data["parent"]),
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            where = f"under {partner.parent.name}" if partner.parent else "at the top of the tree"
            messages.success(request, f"{partner.name} is now {where}.")
            return redirect(_detail_url(partner))
    context = {
        "form": form,
        "partner": partner,
        "figures": selectors.partner_figures(partner),
        "has_places": bool(targets) or partner.parent_id is not None,
    }
    return render(request, "partners/backoffice/partner_move.html", context)


def _status_page(
    request: BackofficeRequest,
    public_id: UUID,
    *,
    change: Callable[..., Partner],
    target: str,
    done: str,
) -> HttpResponse:
    partner = selectors.partner_get_for(request.user, public_id)
    form = PartnerStatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = change(partner=partner, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{partner.name} {done}.")
            return redirect(_detail_url(partner))
    context = {
        "form": form,
        "partner": partner,
        "target": target,
        "allowed": target in Partner.TRANSITIONS[partner.status],
        "figures": selectors.partner_figures(partner),
    }
    return render(request, "partners/backoffice/partner_status.html", context)


@require_http_methods(GET_POST)
@manager_required
def partner_suspend(request: BackofficeRequest, public_id: UUID) -> HttpResponse:
    return _status_page(
        request,
        public_id,
        change=services.partner_suspend,
        target=Partner.Status.SUSPENDED,
        done="is suspended: it cannot sell until it is reactivated",
    )


@require_http_methods(GET_POST)
@manager_required
def partner_reactivate(request: BackofficeRequest, public_id: UUID) -> HttpResponse:
    return _status_page(
        request,
        public_id,
        change=services.partner_reactivate,
        target=Partner.Status.ACTIVE,
        done="is active again",
    )


# --- partner users ------------------------------------------------------------------------------


@require_POST
@manager_required
def partner_user_add(request: BackofficeRequest, public_id: UUID) -> HttpResponse:
    """From the users panel of the partner's page; htmx gets the panel (and history) back."""
    partner = selectors.partner_get_for(request.user, public_id)
    form = PartnerUserAddForm(request.POST)
    added = ""
    if form.is_valid():
        try:
            membership = services.partner_user_add(
                partner=partner, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            added = f"{membership.user.email} can now sign in to the partner portal."
            if not request.htmx:
                messages.success(request, added)
                return redirect(_detail_url(partner, "users-panel"))
            form = PartnerUserAddForm()
    if request.htmx:
        context = {**_users_context(partner, form), "user_added": added, "oob": True}
        html = render_to_string(f"{DETAIL}#users-panel", context, request)
        html += render_to_string(f"{DETAIL}#history-panel", context, request)
        return HttpResponse(html)
    return render(request, DETAIL, _detail_context(partner, form))


@require_http_methods(GET_POST)
@manager_required
def partner_user_remove(
    request: BackofficeRequest, public_id: UUID, user_public_id: UUID
) -> HttpResponse:
    """GET asks for confirmation (and an optional reason); POST removes."""
    partner = selectors.partner_get_for(request.user, public_id)
    membership = selectors.partner_user_get(partner, user_public_id)
    form = PartnerUserRemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_user_remove(
                partner=partner,
                actor=request.user,
                user=cast("User", membership.user),
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request, f"{membership.user.email} is no longer a user of {partner.name}."
            )
            return redirect(_detail_url(partner, "users-panel"))
    context = {"form": form, "partner": partner, "member": membership.user}
    return render(request, "partners/backoffice/partner_user_remove.html", context)


urlpatterns = [
    path("", partner_list, name="partner-list"),
    path("new/", partner_create, name="partner-create"),
    path("<uuid:public_id>/", partner_detail, name="partner-detail"),
    path("<uuid:public_id>/edit/", partner_edit, name="partner-edit"),
    path("<uuid:public_id>/move/", partner_move, name="partner-move"),
    path("<uuid:public_id>/suspend/", partner_suspend, name="partner-suspend"),
    path("<uuid:public_id>/reactivate/", partner_reactivate, name="partner-reactivate"),
    path("<uuid:public_id>/users/", partner_user_add, name="partner-user-add"),
    path(
        "<uuid:public_id>/users/<uuid:user_public_id>/remove/",
        partner_user_remove,
        name="partner-user-remove",
    ),
]
