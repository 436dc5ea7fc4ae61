"""Back office pages: figures and API keys for back-office admins (the partner pages are
partners.backoffice)."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from common import api_keys
from common.api_keys import api_key_get_for, api_key_qs_for
from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.permissions import CommonPerm
from common.roles import BACKOFFICE, api_key_grantable, permissions_from_names
from crm.reports import backoffice_overview
from partners.backoffice import partner_list


def _grantable_choices() -> list[tuple[str, str]]:
    grantable = api_key_grantable()
    names = {
        f"{p.content_type.app_label}.{p.codename}": p.name
        for p in permissions_from_names(grantable)
    }
    return [(name, f"{names[name]} ({name})") for name in grantable]


class ApiKeyIssueForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="The system that will use the key, e.g. “Mediation server 1”.",
    )
    permissions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="Grant only what the system needs.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["permissions"].choices = _grantable_choices()  # type: ignore[attr-defined]


@frontend_required(BACKOFFICE)
def backoffice_home(request: HttpRequest) -> HttpResponse:
    overview = backoffice_overview()
    breakdowns = [
        overview.customers_by_kind,
        overview.customers_by_kyc_status,
        overview.accounts_by_payment_type,
        overview.subscribers_by_status,
    ]
    return render(
        request,
        "crm/backoffice/home.html",
        {"overview": overview, "breakdowns": breakdowns},
    )


@frontend_required(BACKOFFICE)
def api_key_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, CommonPerm.MANAGE_API_KEYS)
    keys = api_key_qs_for(request.user)
    return render(request, "crm/backoffice/api_key_list.html", {"keys": keys})


@never_cache
@require_http_methods(["GET", "POST"])
@frontend_required(BACKOFFICE)
def api_key_create(request: HttpRequest) -> HttpResponse:
    """Issue a key. The secret is rendered in the POST's own response, never stored or
    redirected through the session, so it exists in exactly one (uncached) page."""
    require_perm(request, CommonPerm.MANAGE_API_KEYS)
    form = ApiKeyIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = api_keys.api_key_issue(
                actor=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                permissions=form.cleaned_data["permissions"],
            )
        except ApplicationError as exc:
            for field, errors in exc.fields.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            return render(
                request, "crm/backoffice/api_key_issued.html", {"key": key, "secret": secret}
            )
    return render(request, "crm/backoffice/api_key_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@frontend_required(BACKOFFICE)
def api_key_revoke(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """GET asks for confirmation; POST revokes at once and returns to the list."""
    require_perm(request, CommonPerm.MANAGE_API_KEYS)
    key = api_key_get_for(request.user, public_id)
    if request.method == "POST":
        try:
            api_keys.api_key_revoke(api_key=key, actor=request.user)  # type: ignore[arg-type]
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Key “{key.name}” ({key.prefix}…) was revoked.")
        return redirect("crm:api-key-list")
    return render(request, "crm/backoffice/api_key_revoke.html", {"key": key})


urlpatterns = [
    path("", backoffice_home, name="backoffice-home"),
    # The partner tree moved to partners.backoffice, mounted at this same address; the old name
    # still leads there, so links written before the move keep working.
    path("partners/", partner_list, name="backoffice-partner-list"),
    path("api-keys/", api_key_list, name="api-key-list"),
    path("api-keys/new/", api_key_create, name="api-key-create"),
    path("api-keys/<uuid:public_id>/revoke/", api_key_revoke, name="api-key-revoke"),
]
