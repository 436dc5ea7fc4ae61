"""Staff pages for re-rating and the usage reconciliation report.

Re-rating needs billing.rerate_usage (supervisors and admins), reconciliation
billing.view_usage or billing.view_reconciliation; both open from the back office or the CSR
console, whichever the user may use (the layout follows). Forms parse, one service decides,
field errors land on the form; every write is a POST followed by a redirect.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any, cast
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.permissions import BillingPerm
from billing.rating.models import Tariff
from billing.usage.itemised import MAX_PERIOD_DAYS, this_month
from billing.usage.reconciliation import (
    KINDS,
    STUCK_AFTER_MINUTES,
    reconciliation_csv_rows,
    usage_reconcile,
    usage_sources,
)
from billing.usage.rerating import (
    rerate_adjustments,
    rerate_commit,
    rerate_discard,
    rerate_lines_select,
    rerate_preview,
    rerate_run_qs,
)
from billing.usage.rerating_models import RerateRun
from common.auth import require_perm
from common.errors import ApplicationError
from common.forms import date_field, service_errors_to_form
from common.roles import BACKOFFICE, CONSOLE
from crm.models import Subscriber, User
from crm.validators import msisdn_display
from orders.catalog.models import PricePlan

ITEMS_PER_PAGE = 100


def _open(request: HttpRequest, *permissions: str) -> str | HttpResponse:
    """The base template for the user's front end, after checking sign-in, a staff front end
    and one of `permissions` (403 otherwise)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not any(request.user.has_perm(permission) for permission in permissions):
        raise PermissionDenied("Your role may not do this.")
    if request.user.has_perm(BACKOFFICE.permission):
        request.frontend = BACKOFFICE  # type: ignore[attr-defined]
        return "base_backoffice.html"
    require_perm(request, CONSOLE.permission)
    request.frontend = CONSOLE  # type: ignore[attr-defined]
    return "base_console.html"


def _actor(request: HttpRequest) -> User:
    return cast("User", request.user)


# --- re-rating ---------------------------------------------------------------------------------


class RerateStartForm(forms.Form):
    msisdns = forms.CharField(
        label="Numbers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Mobile numbers, one a line or separated by commas.",
    )
    plan_code = forms.ChoiceField(
        label="Or every line on a plan", required=False, choices=[("", "—")]
    )
    tariff_code = forms.ChoiceField(
        label="Or every line on a plan rated by a tariff", required=False, choices=[("", "—")]
    )
    period_start = date_field("From")
    period_end = date_field("To (inclusive)")
    reason = forms.CharField(
        max_length=200, help_text="Why, e.g. “International rate to FR corrected in v3”."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = PricePlan.objects.order_by("code").values_list("code", flat=True).distinct()
        tariffs = Tariff.objects.order_by("code").values_list("code", "name")
        cast(forms.ChoiceField, self.fields["tariff_code"]).choices = [("", "—"), *tariffs]
        cast(forms.ChoiceField, self.fields["plan_code"]).choices = [
            ("", "—"),
            *((code, code) for code in codes),
        ]


class DecisionForm(forms.Form):
    reason = forms.CharField(max_length=200)


@require_GET
def rerate_run_list(request: HttpRequest) -> HttpResponse:
    base = _open(request, BillingPerm.RERATE_USAGE)
    if isinstance(base, HttpResponse):
        return base
    page = Paginator(rerate_run_qs(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/rerating/run_list.html",
        {"base_template": base, "page": page, "query": ""},
    )


@require_http_methods(["GET", "POST"])
def rerate_start(request: HttpRequest) -> HttpResponse:
    base = _open(request, BillingPerm.RERATE_USAGE)
    if isinstance(base, HttpResponse):
        return base
    if request.method == "POST":
        form = RerateStartForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                lines, selection = rerate_lines_select(
                    msisdns=data["msisdns"],
                    plan_code=data["plan_code"],
                    tariff_code=data["tariff_code"],
                )
                run = rerate_preview(
                    lines=lines,
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    actor=_actor(request),
                    reason=data["reason"],
                    selection=selection,
                )
            except ApplicationError as exc:
                service_errors_to_form(form, exc, {"lines": "msisdns"})
            else:
                return redirect("rerating:run-detail", run.public_id)
    else:
        start, end = this_month()
        initial: dict[str, Any] = {"period_start": start, "period_end": end}
        for name in ("msisdns", "period_start", "period_end"):  # from a line's usage page
            if request.GET.get(name):
                initial[name] = request.GET[name][:400]
        form = RerateStartForm(initial=initial)
    return render(
        request,
        "billing/rerating/start.html",
        {"base_template": base, "form": form, "max_days": MAX_PERIOD_DAYS},
    )


@require_GET
def rerate_run_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    base = _open(request, BillingPerm.RERATE_USAGE)
    if isinstance(base, HttpResponse):
        return base
    run = get_object_or_404(rerate_run_qs(), public_id=public_id)
    return _detail(request, base, run, DecisionForm())


def _detail(
    request: HttpRequest, base: str, run: RerateRun, form: DecisionForm, status: int = 200
) -> HttpResponse:
    only_changed = request.GET.get("changed") == "1"
    items = run.items.order_by("subscriber_id", "started_at", "record_id")
    if only_changed:
        items = items.exclude(new_amount=F("old_amount"))
    page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    prepaid = run.prepaid_differences or {}
    numbers = dict(
        Subscriber.objects.filter(
            pk__in={item.subscriber_id for item in page.object_list} | {int(k) for k in prepaid}
        ).values_list("pk", "msisdn")
    )
    rows = [
        (item, msisdn_display(numbers.get(item.subscriber_id, ""))) for item in page.object_list
    ]
    prepaid_lines = [
        (msisdn_display(numbers.get(int(line), "")), amounts) for line, amounts in prepaid.items()
    ]
    query = "changed=1" if only_changed else ""
    template = "billing/rerating/run_detail.html"
    if getattr(request, "htmx", False):
        template += "#items"
    return render(
        request,
        template,
        {
            "base_template": base,
            "run": run,
            "page": page,
            "query": query,
            "only_changed": only_changed,
            "form": form,
            "adjustments": rerate_adjustments(run),
            "lines": len(run.subscriber_ids),
            "prepaid_lines": prepaid_lines,
            "rows": rows,
        },
        status=status,
    )


def _decide(request: HttpRequest, public_id: UUID, commit: bool) -> HttpResponse:
    base = _open(request, BillingPerm.RERATE_USAGE)
    if isinstance(base, HttpResponse):
        return base
    run = get_object_or_404(rerate_run_qs(), public_id=public_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        service = rerate_commit if commit else rerate_discard
        try:
            service(run=run, actor=_actor(request), reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request, "Re-rate committed." if commit else "Re-rate discarded; nothing changed."
            )
            return redirect("rerating:run-detail", run.public_id)
    return _detail(request, base, run, form, status=400)


@require_POST
def rerate_run_commit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _decide(request, public_id, commit=True)


@require_POST
def rerate_run_discard(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _decide(request, public_id, commit=False)


# --- reconciliation ----------------------------------------------------------------------------


class ReconciliationForm(forms.Form):
    period_from = date_field("From")
    period_to = date_field("To (inclusive)")
    source = forms.ChoiceField(required=False, choices=[("", "All sources")])
    stuck_after = forms.IntegerField(
        label="Stuck after (minutes)", min_value=1, max_value=100_000, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source"]).choices = [
            ("", "All sources"),
            *((name, name) for name in usage_sources()),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_from"), data.get("period_to")
        if start and end:
            if end < start:
                self.add_error("period_to", "The end of the period is before its start.")
            elif (end - start).days >= MAX_PERIOD_DAYS:
                self.add_error("period_to", f"A period is at most {MAX_PERIOD_DAYS} days.")
        return data


def _reconciliation_form(request: HttpRequest) -> ReconciliationForm:
    data = request.GET.copy()
    start, end = this_month()
    data.setdefault("period_from", start.isoformat())
    data.setdefault("period_to", end.isoformat())
    return ReconciliationForm(data)


def _report(form: ReconciliationForm) -> Any:
    data = form.cleaned_data
    return usage_reconcile(
        period_from=data["period_from"],
        period_to=data["period_to"],
        source=data.get("source") or "",
        stuck_after_minutes=data.get("stuck_after") or STUCK_AFTER_MINUTES,
    )


@require_GET
def reconciliation(request: HttpRequest) -> HttpResponse:
    base = _open(request, BillingPerm.VIEW_USAGE, BillingPerm.VIEW_RECONCILIATION)
    if isinstance(base, HttpResponse):
        return base
    form = _reconciliation_form(request)
    report = _report(form) if form.is_valid() else None
    template = "billing/reconciliation/report.html"
    if getattr(request, "htmx", False):
        template += "#report"
    return render(
        request,
        template,
        {
            "base_template": base,
            "form": form,
            "report": report,
            "kinds": KINDS,
            "query": request.GET.urlencode(),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(rows: list[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


@require_GET
def reconciliation_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    base = _open(request, BillingPerm.VIEW_USAGE, BillingPerm.VIEW_RECONCILIATION)
    if isinstance(base, HttpResponse):
        return base
    form = _reconciliation_form(request)
    if not form.is_valid():
        return render(
            request,
            "billing/reconciliation/report.html",
            {"base_template": base, "form": form, "report": None, "kinds": KINDS},
            status=400,
        )
    report = _report(form)
    response = StreamingHttpResponse(
        _csv(reconciliation_csv_rows(report)), content_type="text/csv; charset=utf-8"
    )
    name = f"usage-reconciliation-{report.period_from:%Y%m%d}-{report.period_to:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


rerating_urlpatterns = [
    path("", rerate_run_list, name="run-list"),
    path("new/", rerate_start, name="run-start"),
    path("<uuid:public_id>/", rerate_run_detail, name="run-detail"),
    path("<uuid:public_id>/commit/", rerate_run_commit, name="run-commit"),
    path("<uuid:public_id>/discard/", rerate_run_discard, name="run-discard"),
]

reconciliation_urlpatterns = [
    path("", reconciliation, name="report"),
    path("report.csv", reconciliation_csv, name="report-csv"),
]
