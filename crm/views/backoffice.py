"""Back office pages: figures and API keys for back-office admins, and the audit log for
everyone who may read it (common.view_audit_log: admins and CSR supervisors). The partner
pages are partners.backoffice."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails

from common import api_keys
from common.api_keys import api_key_get_for, api_key_qs_for
from common.audit import audit_actions, audit_event_qs_for, audit_events_search, audit_kinds
from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.permissions import CommonPerm
from common.roles import BACKOFFICE, CONSOLE, api_key_grantable, permissions_from_names
from crm.reports import backoffice_overview
from crm.views import staff
from partners.backoffice import partner_list

AUDIT_PAGE_SIZE = 50


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


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


def _kind_key(kind: ContentType) -> str:
    return f"{kind.app_label}.{kind.model}"


class AuditLogFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of record", required=False)
    actor = forms.CharField(
        label="Who (email)", required=False, max_length=254, help_text="Part of an email is enough."
    )
    action = forms.ChoiceField(required=False)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = {_kind_key(kind): kind for kind, _ in audit_kinds()}
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            ("", "Every kind"),
            *((_kind_key(kind), label.capitalize()) for kind, label in audit_kinds()),
        ]
        self.fields["action"].choices = [  # type: ignore[attr-defined]
            ("", "Every action"),
            *((action, action.capitalize()) for action in audit_actions()),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end of the range is before its start.")
        return data

    def search(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": self.kinds.get(data.get("kind") or ""),
            "actor_email": data.get("actor") or "",
            "action": data.get("action") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


@require_GET
def audit_log(request: HtmxRequest) -> HttpResponse:
    """Every audited change, newest first, filtered and paginated. Open to whoever may read the
    audit log, so a CSR supervisor reaches it from the console as an admin does from the back
    office."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    require_perm(request, CommonPerm.VIEW_AUDIT_LOG)
    in_backoffice = request.user.has_perm(BACKOFFICE.permission)
    request.frontend = BACKOFFICE if in_backoffice else CONSOLE  # type: ignore[attr-defined]
    form = AuditLogFilterForm(request.GET or None)
    events = audit_event_qs_for(request.user)
    if form.is_bound:
        events = audit_events_search(events, **form.search()) if form.is_valid() else events.none()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query.urlencode(),
        "base_template": "base_backoffice.html" if in_backoffice else "base_console.html",
    }
    template = "crm/backoffice/audit_log.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


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
    path("audit/", audit_log, name="audit-log"),
    # Supervisors open this one from the console, like the audit log.
    path("staff/", staff.staff_list, name="staff-list"),
    path(
        "staff/<uuid:public_id>/reset-two-factor/",
        staff.staff_two_factor_reset,
        name="staff-two-factor-reset",
    ),
]
