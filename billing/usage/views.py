"""Back-office pages of usage ingestion (mounted at /backoffice/usage/): batches and their
progress, uploading a file, the reject queue and its recycling, and the column mappings of
generic CSV files.

Every page needs the back office and billing.view_usage; uploading, recycling and mappings
also need billing.manage_usage. An upload is stored where workers read it, planned, and its
chunks queued on Celery once the plan is committed; its page follows the progress with htmx
polling until the batch is done (with no Redis, the chunks run in the request itself).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.permissions import BillingPerm
from billing.usage.forms import MappingForm, RecycleForm, RejectFilterForm, UsageUploadForm
from billing.usage.models import UsageBatch, UsageMapping, UsageRecord
from billing.usage.selectors import (
    usage_batch_get_for,
    usage_batch_records,
    usage_batches_for,
    usage_rejects_for,
)
from billing.usage.services import usage_batch_ingest_file, usage_mapping_save, usage_recycle
from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.forms import service_errors_to_form
from common.roles import BACKOFFICE

PAGE_SIZE = 50
RECYCLE_LIMIT = 10_000
RUNNING = (UsageBatch.Status.RECEIVED, UsageBatch.Status.PROCESSING)


def _page(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _reason_labels() -> dict[str, str]:
    return {str(value): str(label) for value, label in UsageRecord.RejectReason.choices}


# --- batches -------------------------------------------------------------------------------------


@require_GET
@frontend_required(BACKOFFICE)
def usage_batch_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, BillingPerm.VIEW_USAGE)
    page = _page(request, usage_batches_for(request.user))
    return render(request, "billing/backoffice/usage_batch_list.html", {"page": page})


@require_GET
@frontend_required(BACKOFFICE)
def usage_batch_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Control totals, reject reasons and the records; while the batch runs, its progress
    panel polls this page (htmx) every 2 s, and the page reloads once it is done."""
    require_perm(request, BillingPerm.VIEW_USAGE)
    batch = usage_batch_get_for(request.user, public_id)
    running = batch.status in RUNNING
    if getattr(request, "htmx", False):
        if not running and request.GET.get("polling"):
            return HttpResponse(headers={"HX-Refresh": "true"})
        template = "billing/backoffice/usage_batch_detail.html#progress"
        return render(request, template, _batch_context(batch, running))
    context = _batch_context(batch, running)
    context["page"] = _page(request, usage_batch_records(batch=batch))
    return render(request, "billing/backoffice/usage_batch_detail.html", context)


def _batch_context(batch: UsageBatch, running: bool) -> dict[str, Any]:
    labels = _reason_labels()
    reasons = [
        (reason, labels.get(reason, reason), count)
        for reason, count in sorted(batch.reject_reasons.items(), key=lambda item: -item[1])
        if count
    ]
    percent = int(100 * batch.chunks_done / batch.chunk_count) if batch.chunk_count else 100
    return {
        "batch": batch,
        "running": running,
        "percent": percent,
        "reasons": reasons,
        "amounts": [(c, Decimal(a)) for c, a in sorted(batch.totals_by_currency.items()) if c],
    }


@require_http_methods(["GET", "POST"])
@frontend_required(BACKOFFICE)
def usage_upload(request: HttpRequest) -> HttpResponse:
    """Upload a CDR file: it is stored, planned and its chunks queued on Celery."""
    require_perm(request, BillingPerm.MANAGE_USAGE)
    form = UsageUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        path = form.file_store()
        try:
            batch = usage_batch_ingest_file(
                path_or_file=path,
                format=form.cleaned_data["format"],
                source=form.cleaned_data["source"],
                mapping=form.cleaned_data["mapping"],
                actor=request.user,
                fan_out=True,
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc, {"path": "file"})
        else:
            messages.success(request, f"{form.cleaned_data['file'].name} was received.")
            return redirect("usage:batch-detail", batch.public_id)
    return render(request, "billing/backoffice/usage_upload.html", {"form": form})


# --- the reject queue ----------------------------------------------------------------------------


def _rejects(request: HttpRequest, form: RejectFilterForm) -> tuple[Any, UsageBatch | None]:
    if not form.is_valid():
        return UsageRecord.objects.none(), None
    batch = None
    if form.cleaned_data.get("batch"):
        batch = get_object_or_404(
            usage_batches_for(request.user), public_id=form.cleaned_data["batch"]
        )
    rejects = usage_rejects_for(request.user, batch=batch, **form.selection())
    return rejects, batch


@require_GET
@frontend_required(BACKOFFICE)
def usage_reject_queue(request: HttpRequest) -> HttpResponse:
    require_perm(request, BillingPerm.VIEW_USAGE)
    form = RejectFilterForm(request.GET)
    rejects, batch = _rejects(request, form)
    page = _page(request, rejects)
    context = {
        "form": form,
        "batch": batch,
        "page": page,
        "query": _query_without_page(request),
        "recycle_form": RecycleForm(),
        "may_manage": request.user.has_perm(BillingPerm.MANAGE_USAGE),
        "labels": _reason_labels(),
    }
    template = "billing/backoffice/usage_reject_queue.html"
    return render(
        request, f"{template}#results" if getattr(request, "htmx", False) else template, context
    )


@require_POST
@frontend_required(BACKOFFICE)
def usage_reject_recycle(request: HttpRequest) -> HttpResponse:
    """Recycle the ticked rejects, or every one matching the filter (the query string), with
    a reason; the result says how many were rated and how many rejected again."""
    require_perm(request, BillingPerm.MANAGE_USAGE)
    filters = RejectFilterForm(request.GET)
    back = f"{reverse('usage:reject-queue')}?{_query_without_page(request)}"
    form = RecycleForm(request.POST)
    if not form.is_valid():
        for messages_ in form.errors.values():
            for message in messages_:
                messages.error(request, str(message))
        return redirect(back)
    rejects, _ = _rejects(request, filters)
    if form.cleaned_data["scope"] == RecycleForm.SELECTED:
        records = list(rejects.filter(id__in=form.cleaned_data["ids"]))
    else:
        records = list(rejects[:RECYCLE_LIMIT])
    try:
        counts = usage_recycle(
            records=records, actor=cast("Any", request.user), reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    total = counts["rated"] + counts["rejected"]
    messages.success(
        request,
        f"Recycled {total:,} record{'s' if total != 1 else ''}: {counts['rated']:,} rated, "
        f"{counts['rejected']:,} rejected again.",
    )
    return redirect(back)


# --- column mappings -----------------------------------------------------------------------------


@require_GET
@frontend_required(BACKOFFICE)
def usage_mapping_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, BillingPerm.VIEW_USAGE)
    mappings = UsageMapping.objects.order_by("name")
    return render(
        request,
        "billing/backoffice/usage_mapping_list.html",
        {"mappings": mappings, "may_manage": request.user.has_perm(BillingPerm.MANAGE_USAGE)},
    )


def _mapping_form(request: HttpRequest, mapping: UsageMapping | None) -> HttpResponse:
    require_perm(request, BillingPerm.MANAGE_USAGE)
    initial = MappingForm.initial_for(mapping) if mapping else None
    form = MappingForm(request.POST or None, initial=initial, editing=mapping is not None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = usage_mapping_save(actor=request.user, **form.service_data())
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"Mapping {saved.name} was saved.")
            return redirect("usage:mapping-list")
    return render(
        request, "billing/backoffice/usage_mapping_form.html", {"form": form, "mapping": mapping}
    )


@require_http_methods(["GET", "POST"])
@frontend_required(BACKOFFICE)
def usage_mapping_create(request: HttpRequest) -> HttpResponse:
    return _mapping_form(request, None)


@require_http_methods(["GET", "POST"])
@frontend_required(BACKOFFICE)
def usage_mapping_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, BillingPerm.MANAGE_USAGE)
    mapping = get_object_or_404(UsageMapping, public_id=public_id)
    return _mapping_form(request, mapping)
