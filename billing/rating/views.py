"""Back-office pages of tariffs: the list, a tariff with its versions and timeline, a version
with every section of its plan (edited row by row while it is a draft), publish and retire with
a reason, CGRateS import and export, and "What would this cost?".

Every page needs the back office and billing.view_tariffs; every change billing.manage_tariffs.
Forms parse; one service decides; its field errors land on the form.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from billing.permissions import BillingPerm
from billing.rating import selectors, services
from billing.rating.forms import (
    SECTION_FORMS,
    ImportForm,
    PublishForm,
    QuoteForm,
    RateForm,
    ReasonForm,
    SectionForm,
    TariffCreateForm,
    TariffEditForm,
)
from billing.rating.models import Category, Tariff, TariffVersion
from billing.rating.plan import ANY, SECOND
from billing.rating.selectors import MB, Section
from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.forms import service_errors_to_form
from common.roles import BACKOFFICE

GET_POST = ["GET", "POST"]


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


def _actor(request: HttpRequest) -> Any:
    return cast("Any", request.user)


def _may_manage(request: HttpRequest) -> bool:
    return request.user.has_perm(BillingPerm.MANAGE_TARIFFS)


def _version_url(version: TariffVersion, anchor: str = "") -> str:
    url = reverse("tariffs:version-detail", args=[version.public_id])
    return f"{url}#{anchor}" if anchor else url


def _tariff_url(tariff: Tariff) -> str:
    return reverse("tariffs:tariff-detail", args=[tariff.code])


def _section(section: str) -> str:
    if section not in Section.ALL:
        raise Http404("No such section.")
    return section


def _choices(version: TariffVersion) -> dict[str, list[str]]:
    """The ids each section already has, for the pickers of the rows that refer to them."""
    content = version.content or {}

    def ids(section: str, field: str = "id") -> list[str]:
        return list(dict.fromkeys(row[field] for row in content.get(section, [])))

    return {
        "destinations": ids("destinations"),
        "rates": ids("rates"),
        "timings": ids("timings"),
        "destination_rates": ids("destination_rates"),
        "rating_plans": ids("rating_plans", "rating_plan_id"),
    }


# --- tariffs ------------------------------------------------------------------------------------


@frontend_required(BACKOFFICE)
def tariff_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, BillingPerm.VIEW_TARIFFS)
    context = {"tariffs": selectors.tariff_list(), "may_manage": _may_manage(request)}
    return render(request, "billing/backoffice/tariff_list.html", context)


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def tariff_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, BillingPerm.MANAGE_TARIFFS)
    form = TariffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tariff = services.tariff_create(actor=_actor(request), **form.cleaned_data)
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{tariff.name} was created with an empty draft version 1.")
            return redirect(_version_url(tariff.versions.get()))
    return render(request, "billing/backoffice/tariff_form.html", {"form": form})


@frontend_required(BACKOFFICE)
def tariff_detail(request: HttpRequest, code: str) -> HttpResponse:
    require_perm(request, BillingPerm.VIEW_TARIFFS)
    tariff = selectors.tariff_get(code)
    context = {
        "tariff": tariff,
        "versions": list(tariff.versions.all()),
        "timeline": selectors.tariff_timeline(tariff),
        "in_force": selectors.tariff_version_in_force(tariff=tariff, at=timezone.now()),
        "draft": selectors.tariff_version_draft_of(tariff),
        "plans": tariff.plans.order_by("code", "version"),
        "may_manage": _may_manage(request),
    }
    return render(request, "billing/backoffice/tariff_detail.html", context)


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def tariff_edit(request: HttpRequest, code: str) -> HttpResponse:
    require_perm(request, BillingPerm.MANAGE_TARIFFS)
    tariff = selectors.tariff_get(code)
    form = TariffEditForm(
        request.POST or None, initial={"name": tariff.name, "description": tariff.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.tariff_update(tariff=tariff, actor=_actor(request), **form.cleaned_data)
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, "The tariff's name and description were saved.")
            return redirect("tariffs:tariff-detail", code=tariff.code)
    return render(request, "billing/backoffice/tariff_edit.html", {"form": form, "tariff": tariff})


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def tariff_draft(request: HttpRequest, code: str) -> HttpResponse:
    require_perm(request, BillingPerm.MANAGE_TARIFFS)
    tariff = selectors.tariff_get(code)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.tariff_version_draft(
                tariff=tariff, actor=_actor(request), reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request, f"Draft version {draft.number} was made. Change it, then publish it."
            )
            return redirect(_version_url(draft))
    context = {
        "tariff": tariff,
        "form": form,
        "title": f"Make a new draft of {tariff.name}?",
        "explanation": "The latest version is copied into a new draft. Published versions "
        "keep rating calls on their timeline until the draft is published.",
        "button": "Make a draft",
        "allowed": True,
        "back": _tariff_url(tariff),
    }
    return render(request, "billing/backoffice/confirm.html", context)


# --- versions -----------------------------------------------------------------------------------


def _version_context(
    request: HttpRequest,
    version: TariffVersion,
    *,
    bound: tuple[str, SectionForm] | None = None,
    section_errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    editable = version.status == TariffVersion.Status.DRAFT and _may_manage(request)
    choices = _choices(version)
    add_forms: dict[str, SectionForm] = {}
    if editable:
        for section, form_class in SECTION_FORMS.items():
            if bound and bound[0] == section:
                add_forms[section] = bound[1]
            else:
                add_forms[section] = form_class(
                    choices=choices, prefix=section, initial=_add_initial(section)
                )
    tables = selectors.tariff_version_tables(version)
    sections = [
        {
            "name": section,
            "label": Section.LABELS[section],
            "rows": tables[section],
            "form": add_forms.get(section),
            "errors": (section_errors or {}).get(section, []),
        }
        for section in Section.ALL
    ]
    return {
        "version": version,
        "tariff": version.tariff,
        "sections": sections,
        "editable": editable,
        "may_manage": _may_manage(request),
        "transitions": TariffVersion.TRANSITIONS[version.status],
        "events": list(selectors.tariff_version_events(version)[:50]),
    }


def _add_initial(section: str) -> dict[str, Any]:
    if section == Section.RATES:
        return {"g0_start": "0"}
    return {}


@frontend_required(BACKOFFICE)
def version_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, BillingPerm.VIEW_TARIFFS)
    version = selectors.tariff_version_get(public_id)
    return render(
        request, "billing/backoffice/version_detail.html", _version_context(request, version)
    )


def _aliases(form: SectionForm) -> dict[str, str]:
    return RateForm.aliases() if isinstance(form, RateForm) else {}


@require_POST
@frontend_required(BACKOFFICE)
def version_row_add(request: HtmxRequest, public_id: UUID, section: str) -> HttpResponse:
    """Add a row from the form under a section's table (htmx swaps the sections back in)."""
    require_perm(request, BillingPerm.MANAGE_TARIFFS)
    version = selectors.tariff_version_get(public_id)
    section = _section(section)
    form = SECTION_FORMS[section](request.POST, choices=_choices(version), prefix=section)
    errors: list[str] = []
    if form.is_valid():
        try:
            version = services.tariff_version_row_save(
                version=version, actor=_actor(request), section=section, values=form.values()
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc, _aliases(form))
            errors = [exc.message]
        else:
            messages.success(request, f"{Section.LABELS[section]}: row added.")
            if not request.htmx:
                return redirect(_version_url(version, section))
            return render(
                request,
                "billing/backoffice/version_detail.html#sections",
                _version_context(request, version),
            )
    context = _version_context(
        request, version, bound=(section, form), section_errors={section: errors}
    )
    template = "billing/backoffice/version_detail.html"
    return render(request, f"{template}#sections" if request.htmx else template, context)


@require_POST
@frontend_required(BACKOFFICE)
def version_row_remove(request: HtmxRequest, public_id: UUID, section: str) -> HttpResponse:
    require_perm(request, BillingPerm.MANAGE_TARIFFS)
    version = selectors.tariff_version_get(public_id)
    section = _section(section)
    errors: list[str] = []
    try:
        version = services.tariff_version_row_remove(
            version=version, actor=_actor(request), section=section, key=request.POST.get("key", "")
        )
    except ApplicationError as exc:
        errors = [exc.message]
        if not request.htmx:
            messages.error(request, exc.message)
    if not request.htmx:
        return redirect(_version_url(version, section))
    context = _version_context(request, version, section_errors={section: errors})
    return render(request, "billing/backoffice/version_detail.html#sections", context)


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def version_row_change(request: HttpRequest, public_id: UUID, section: str) -> HttpResponse:
    """Change one row (its key in ?key=) on a page of its own; back to the version after."""
    require_perm(request, BillingPerm.MANAGE_TARIFFS)
    version = selectors.tariff_version_get(public_id)
    section = _section(section)
    key = request.GET.get("key", "")
    row = next(
        (r for r in selectors.tariff_version_tables(version)[section] if r["key"] == key), None
    )
    if row is None:
        raise Http404("No such row.")
    form_class = SECTION_FORMS[section]
    form = form_class(
        request.POST or None, choices=_choices(version), initial=form_class.initial_from(row)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.tariff_version_row_save(
                version=version,
                actor=_actor(request),
                section=section,
                values=form.values(),
                original_key=key,
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc, _aliases(form))
        else:
            messages.success(request, f"{Section.LABELS[section]}: row saved.")
            return redirect(_version_url(version, section))
    context = {
        "version": version,
        "tariff": version.tariff,
        "form": form,
        "section": section,
        "label": Section.LABELS[section],
        "key": key,
        "editable": version.status == TariffVersion.Status.DRAFT,
    }
    return render(request, "billing/backoffice/row_form.html", context)


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def version_publish(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, BillingPerm.MANAGE_TARIFFS)
    version = selectors.tariff_version_get(public_id)
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.tariff_version_publish(
                version=version,
                actor=_actor(request),
                reason=form.cleaned_data["reason"],
                valid_from=form.cleaned_data["valid_from"],
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request, f"Version {version.number} of {version.tariff.code} is published."
            )
            return redirect(_version_url(version))
    context = {
        "tariff": version.tariff,
        "version": version,
        "form": form,
        "allowed": TariffVersion.Status.PUBLISHED in TariffVersion.TRANSITIONS[version.status],
        "refusal": f"Version {version.number} is {version.get_status_display().lower()}; only "
        "a draft is published.",
        "title": f"Publish version {version.number} of {version.tariff.name}?",
        "explanation": "From the moment you give, calls are rated by this version; calls "
        "before it keep the version then in force. It can no longer be edited.",
        "button": "Publish",
        "back": _version_url(version),
    }
    return render(request, "billing/backoffice/confirm.html", context)


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def version_retire(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, BillingPerm.MANAGE_TARIFFS)
    version = selectors.tariff_version_get(public_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.tariff_version_retire(
                version=version, actor=_actor(request), reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request, f"Version {version.number} of {version.tariff.code} is retired."
            )
            return redirect(_version_url(version))
    context = {
        "tariff": version.tariff,
        "version": version,
        "form": form,
        "allowed": TariffVersion.Status.RETIRED in TariffVersion.TRANSITIONS[version.status],
        "refusal": f"Version {version.number} is already retired.",
        "title": f"Retire version {version.number} of {version.tariff.name}?",
        "explanation": "It leaves the timeline: calls it would have rated are rated by the "
        "version before it. Usage it already rated keeps its charge. This cannot be undone.",
        "button": "Retire",
        "danger": True,
        "back": _version_url(version),
    }
    return render(request, "billing/backoffice/confirm.html", context)


@frontend_required(BACKOFFICE)
def version_export(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, BillingPerm.VIEW_TARIFFS)
    version = selectors.tariff_version_get(public_id)
    name, content = selectors.tariff_version_export(version)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def tariff_import(request: HttpRequest, code: str) -> HttpResponse:
    require_perm(request, BillingPerm.MANAGE_TARIFFS)
    tariff = selectors.tariff_get(code)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.tariff_import_cgrates(
                tariff=tariff,
                actor=_actor(request),
                archive=form.cleaned_data["archive"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request,
                f"The CGRateS tariff plan is draft version {draft.number}. Check it and its "
                "costs, then publish it.",
            )
            return redirect(_version_url(draft))
    context = {
        "tariff": tariff,
        "form": form,
        "allowed": True,
        "title": f"Import a CGRateS tariff plan into {tariff.name}",
        "explanation": "The zipped folder becomes a new draft version (only one draft exists "
        "at a time). Its Destinations, Rates, Timings, DestinationRates, RatingPlans and "
        "RatingProfiles files are read; any other file is ignored. A file that cannot be read "
        "is refused whole, naming its line and column.",
        "button": "Import",
        "back": _tariff_url(tariff),
    }
    return render(request, "billing/backoffice/confirm.html", context)


def _quote_choices() -> list[tuple[str, str]]:
    tariffs = [
        (f"tariff:{code}", f"Tariff {name} ({code})") for code, name in selectors.tariff_codes()
    ]
    plans = [
        (f"plan:{code}", f"Plan {name} ({code})")
        for code, name in selectors.plan_codes_with_tariff()
    ]
    return [*tariffs, *plans]


def _usage_units(category: str, unit: str, usage: Decimal) -> int | str:
    """The usage in the category's base unit, or why it does not fit."""
    expected = {"call": "seconds", "sms": "messages", "mms": "messages", "data": "mb"}[category]
    if unit != expected:
        return f"Give {Category(category).label} usage in {dict(QuoteForm.UNITS)[expected]}."
    if unit == "seconds":
        return int(usage * SECOND)
    if unit == "mb":
        return int(usage * MB)
    if usage != usage.to_integral_value():
        return "Messages are whole numbers."
    return int(usage)


@require_http_methods(GET_POST)
@frontend_required(BACKOFFICE)
def tariff_quote(request: HtmxRequest) -> HttpResponse:
    """What would this cost: rate one call, message or data session as usage is rated."""
    require_perm(request, BillingPerm.VIEW_TARIFFS)
    initial: dict[str, Any] = {
        "answer_time": timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
    }
    if code := request.GET.get("tariff"):
        initial["tariff"] = f"tariff:{code}"
    form = QuoteForm(request.POST or None, tariff_choices=_quote_choices(), initial=initial)
    quote = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind, _, code = data["tariff"].partition(":")
        tariff = selectors.tariff_of_plan(code) if kind == "plan" else selectors.tariff_get(code)
        usage = _usage_units(data["category"], data["unit"], data["usage"])
        if tariff is None:
            form.add_error("tariff", "This plan has no tariff: its usage is refused (no_tariff).")
        elif isinstance(usage, str):
            form.add_error("unit", usage)
        else:
            try:
                quote = services.rating_quote(
                    tariff=tariff,
                    category=data["category"],
                    destination=data["destination"],
                    answer_time=data["answer_time"],
                    usage=usage,
                    subject=data["subject"] or (code if kind == "plan" else ANY),
                    cgrates_decimals=data["cgrates_decimals"],
                )
            except ApplicationError as exc:
                form.add_error(None, f"{exc.message} (reason: {exc.code})")
    labels: dict[str, Any] = {}
    if quote is not None:
        kind = form.cleaned_data["category"]
        kind = Category.SMS if kind == Category.MMS else kind
        result = quote.result
        labels = {
            "usage": selectors.quantity_label(result["usage"], kind),
            "usage_rated": selectors.quantity_label(result["usage_rated"], kind),
            "parts": [
                {
                    **part,
                    "unit": selectors.quantity_label(part["rate_slot"]["rate_unit"], kind),
                    "increment": selectors.quantity_label(
                        part["rate_slot"]["rate_increment"], kind
                    ),
                }
                for part in result["trace"]
            ],
        }
    context = {"form": form, "quote": quote, "labels": labels}
    template = "billing/backoffice/quote.html"
    return render(request, f"{template}#result" if request.htmx else template, context)
