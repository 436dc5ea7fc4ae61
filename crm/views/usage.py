"""A line's itemised usage in the CSR console: filters, totals, pages and the CSV export.

One URL serves the page and its htmx partial (the results table with its totals); the CSV
export takes the same query string and streams every filtered record. The line is fetched
through `usage_line_get_for`, so a line the user may not see answers 404.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from billing.usage.itemised import (
    PAGE_SIZE,
    UsageFilter,
    this_month,
    usage_csv_name,
    usage_csv_rows,
    usage_line_get_for,
    usage_page,
    usage_totals,
)
from billing.usage.models import UsageRecord
from common.auth import frontend_required
from common.errors import ApplicationError
from common.roles import CONSOLE
from crm.models import User


class UsageRequest(HttpRequest):
    htmx: HtmxDetails
    user: User  # type: ignore[assignment]


def _choices(label: str, values: Any) -> list[tuple[str, str]]:
    return [("", label), *values.choices]


class UsageFilterForm(forms.Form):
    period_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    period_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    service = forms.ChoiceField(
        required=False, choices=_choices("All services", UsageRecord.Service)
    )
    direction = forms.ChoiceField(
        required=False, choices=_choices("Both directions", UsageRecord.Direction)
    )
    status = forms.ChoiceField(required=False, choices=_choices("Any status", UsageRecord.Status))
    destination_class = forms.ChoiceField(
        label="Destination",
        required=False,
        choices=_choices("Any destination", UsageRecord.DestinationClass),
    )
    number = forms.CharField(label="Number contains", required=False, max_length=40, strip=True)
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)


def _filters(request: HttpRequest) -> tuple[UsageFilterForm, UsageFilter | None]:
    """The filters from the query string (this month when none are given); None when the form
    names a problem."""
    data = request.GET.copy()
    start, end = this_month()
    data.setdefault("period_from", start.isoformat())
    data.setdefault("period_to", end.isoformat())
    form = UsageFilterForm(data)
    if not form.is_valid():
        return form, None
    values = {k: v for k, v in form.cleaned_data.items() if k != "cursor"}
    try:
        return form, UsageFilter(**values)
    except ApplicationError as exc:
        for name, messages in exc.fields.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
        return form, None


TEMPLATE = "crm/console/line_usage.html"


@require_GET
@frontend_required(CONSOLE)
def line_usage(request: UsageRequest, public_id: UUID) -> HttpResponse:
    subscriber = usage_line_get_for(request.user, public_id)
    form, filters = _filters(request)
    context: dict[str, Any] = {"subscriber": subscriber, "form": form, "filters": filters}
    if filters is not None:
        try:
            context["page"] = usage_page(
                subscriber=subscriber,
                filters=filters,
                cursor=form.cleaned_data.get("cursor") or "",
                size=PAGE_SIZE,
            )
        except ApplicationError as exc:
            form.add_error("cursor" if "cursor" in exc.fields else None, exc.message)
            context["filters"] = None
        else:
            context["totals"] = usage_totals(subscriber=subscriber, filters=filters)
            query = request.GET.copy()
            query.pop("cursor", None)
            context["query"] = query.urlencode()
    template = f"{TEMPLATE}#usage-results" if request.htmx else TEMPLATE
    return render(request, template, context)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a streaming
    response."""

    def write(self, value: str) -> str:
        return value


def _csv_stream(rows: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


def usage_csv_response(rows: Iterator[list[str]], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@frontend_required(CONSOLE)
def line_usage_csv(request: UsageRequest, public_id: UUID) -> HttpResponse | StreamingHttpResponse:
    subscriber = usage_line_get_for(request.user, public_id)
    form, filters = _filters(request)
    if filters is None:
        return render(
            request,
            TEMPLATE,
            {"subscriber": subscriber, "form": form, "filters": None},
            status=400,
        )
    rows = usage_csv_rows(subscriber=subscriber, filters=filters)
    return usage_csv_response(rows, usage_csv_name(subscriber=subscriber, filters=filters))


urlpatterns = [
    path("lines/<uuid:public_id>/usage/", line_usage, name="line-usage"),
    path("lines/<uuid:public_id>/usage.csv", line_usage_csv, name="line-usage-csv"),
]
