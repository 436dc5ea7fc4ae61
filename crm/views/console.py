"""The CSR console: find a customer in one box, see the whole customer, act on lines and notes.

Pages are function views behind `frontend_required(CONSOLE)`; writes also check the capability
and go through one service each. htmx requests get a template partial of the same page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from common.audit import audit_events_for_many
from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.forms import service_errors_to_form
from common.models import AuditEvent
from common.permissions import CommonPerm
from common.roles import CONSOLE
from crm import selectors, services
from crm.forms import (
    AccountForm,
    CustomerCreateForm,
    CustomerEditForm,
    InteractionForm,
    KycDocumentForm,
    KycReviewForm,
    SubscriberStatusForm,
)
from crm.models import Account, Customer, KycDocument, Subscriber, User
from crm.permissions import CrmPerm
from crm.validators import msisdn_display
from orders.catalog.models import Channel
from orders.catalog.selectors import plans_on_sale
from orders.lines import LINE_ACTIONS
from orders.models import Order
from orders.permissions import OrdersPerm
from orders.placing import order_new_customer_create, service_change_allowed
from orders.selectors import LineHoldings, line_holdings, orders_of_customer

if TYPE_CHECKING:
    from crm.selectors import SearchHit, SearchQuery


class ConsoleRequest(HttpRequest):
    """What a console view receives: a signed-in user (frontend_required) and django-htmx."""

    htmx: HtmxDetails
    user: User  # type: ignore[assignment]


DETAIL = "crm/console/customer_detail.html"
SEARCH_HINT = (
    "Type a name, a mobile number, an account or customer number (ACC-…, CUS-…), "
    "a SIM number (ICCID), an IMSI or an email address."
)


def _detail_url(customer: Customer, anchor: str = "") -> str:
    url = reverse("crm:customer-detail", args=[customer.public_id])
    return f"{url}#{anchor}" if anchor else url


# --- search -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchResult:
    customer: Customer
    lines: list[Subscriber]
    matched: str
    matched_line_pk: int | None = None


def _understood(query: SearchQuery) -> str:
    """What the search took the text for, in words a CSR reads at a glance."""
    if query.kind == "msisdn":
        return f"the mobile number {msisdn_display(query.value)}"
    if query.kind == "iccid":
        return f"the SIM number (ICCID) {query.value}"
    if query.kind == "imsi":
        return f"the IMSI {query.value}"
    if query.kind == "email":
        return f"the email address {query.value}"
    if query.kind == "number":
        kind = "account" if query.extra == ("ACC",) else "customer"
        return f"the {kind} number {query.value}"
    if query.kind == "name":
        return f"a name starting “{query.value}”"
    return ""


def _search_problem(query: SearchQuery) -> str:
    """Why a query cannot be searched at all, or '' when it can."""
    if query.kind == "empty":
        return SEARCH_HINT
    if query.kind == "none":
        return (
            f"“{query.value}” is not a mobile number, a SIM number (ICCID) or an IMSI: "
            "check the digits. " + SEARCH_HINT
        )
    if query.kind == "name" and len(query.value) < 2:
        return "Type at least two letters of a name."
    return ""


def _search_result(query: SearchQuery, hit: SearchHit) -> SearchResult:
    if query.kind in ("msisdn", "iccid", "imsi"):
        line = next((s for s in hit.subscribers if getattr(s, query.kind) == query.value), None)
        if line is not None:
            label = {"msisdn": "mobile number", "iccid": "ICCID", "imsi": "IMSI"}[query.kind]
            where = "" if query.kind == "msisdn" else f" of line {line.msisdn_display}"
            value = line.msisdn_display if query.kind == "msisdn" else query.value
            return SearchResult(hit.customer, hit.subscribers, f"{label} {value}{where}", line.pk)
    return SearchResult(hit.customer, hit.subscribers, _understood(query))


@require_GET
@frontend_required(CONSOLE)
def console_home(request: ConsoleRequest) -> HttpResponse:
    return render(
        request,
        "crm/console/search.html",
        {"q": "", "problem": SEARCH_HINT, "results": [], "understood": ""},
    )


@require_GET
@frontend_required(CONSOLE)
def customer_search(request: ConsoleRequest) -> HttpResponse:
    text = request.GET.get("q", "")[:200]
    query, hits = selectors.customer_search(request.user, text)
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    if not partial and len(hits) == 1 and query.kind != "name":
        return redirect("crm:customer-detail", hits[0].customer.public_id)
    context = {
        "q": text,
        "query": query,
        "problem": _search_problem(query),
        "understood": _understood(query),
        "results": [_search_result(query, hit) for hit in hits],
    }
    template = "crm/console/search.html#results" if partial else "crm/console/search.html"
    return render(request, template, context)


# --- the customer page ------------------------------------------------------------------------

ACTION_LABELS = {"activate": "Activate", "suspend": "Suspend", "resume": "Resume"}


def _line_actions(user: Any, subscriber: Subscriber) -> list[str]:
    """The status actions this user may take on this line now, from its row; terminating is a
    link to the terminate order page (the credit is shown before it is submitted)."""
    if not (
        user.has_perm(CrmPerm.CHANGE_SUBSCRIBER_STATUS) and user.has_perm(OrdersPerm.PLACE_ORDER)
    ):
        return []
    return [
        name
        for name, order_type in (
            ("activate", Order.Type.ACTIVATE),
            ("suspend", Order.Type.SUSPEND),
            ("resume", Order.Type.RESUME),
        )
        if service_change_allowed(subscriber, order_type)
    ]


@dataclass(slots=True)
class LineRow:
    subscriber: Subscriber
    actions: list[tuple[str, str]]
    form: SubscriberStatusForm | None = None
    notice: str = ""
    may_terminate: bool = False
    holdings: LineHoldings | None = None


@dataclass(slots=True)
class AccountBlock:
    account: Account
    rows: list[LineRow] = field(default_factory=list)
    # The account's audited changes (credit limit, bill cycle day …), newest first; None for
    # those who may not read the audit log.
    changes: list[AuditEvent] | None = None


def _line_row(
    user: Any,
    subscriber: Subscriber,
    form: SubscriberStatusForm | None = None,
    notice: str = "",
    holdings: LineHoldings | None = None,
) -> LineRow:
    actions = [(name, ACTION_LABELS[name]) for name in _line_actions(user, subscriber)]
    may_terminate = (
        user.has_perm(CrmPerm.TERMINATE_SUBSCRIBER)
        and user.has_perm(OrdersPerm.PLACE_ORDER)
        and service_change_allowed(subscriber, Order.Type.TERMINATE)
    )
    if holdings is None:
        holdings = line_holdings([subscriber]).get(subscriber.pk)
    return LineRow(subscriber, actions, form, notice, may_terminate, holdings)


@dataclass(frozen=True, slots=True)
class KycRow:
    """A document in the KYC panel, with the review form that failed on it (if any)."""

    document: KycDocument
    form: KycReviewForm | None = None


def _kyc_rows(
    customer: Customer, review_failed: tuple[KycDocument, KycReviewForm] | None
) -> list[KycRow]:
    failed_pk = review_failed[0].pk if review_failed else None
    documents = sorted(customer.kyc_documents.all(), key=lambda d: d.created_at, reverse=True)
    return [
        KycRow(d, review_failed[1] if review_failed and d.pk == failed_pk else None)
        for d in documents
    ]


def _detail_context(
    request: ConsoleRequest,
    public_id: UUID,
    *,
    note_form: InteractionForm | None = None,
    review_failed: tuple[KycDocument, KycReviewForm] | None = None,
) -> dict[str, Any]:
    customer = selectors.customer_detail_for(request.user, public_id)
    lines = [line for account in customer.accounts.all() for line in account.subscribers.all()]
    holdings = line_holdings(lines)
    changes: dict[str, list[AuditEvent]] | None = None
    if request.user.has_perm(CommonPerm.VIEW_AUDIT_LOG):
        changes = defaultdict(list)
        for event in audit_events_for_many(list(customer.accounts.all())):
            changes[event.object_pk].append(event)
    accounts = [
        AccountBlock(
            account,
            [
                _line_row(request.user, line, holdings=holdings.get(line.pk))
                for line in account.subscribers.all()
            ],
            changes=None if changes is None else changes.get(str(account.pk), []),
        )
        for account in customer.accounts.all()
    ]
    return {
        "customer": customer,
        "phone_display": msisdn_display(customer.phone) if customer.phone else "",
        "addresses": list(customer.addresses.all()),
        "kyc_rows": _kyc_rows(customer, review_failed),
        "accounts": accounts,
        "timeline": selectors.customer_timeline(customer),
        "orders": orders_of_customer(request.user, customer.pk),
        "note_form": note_form or InteractionForm(),
    }


@require_GET
@frontend_required(CONSOLE)
def customer_detail(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    return render(request, DETAIL, _detail_context(request, public_id))


@require_POST
@frontend_required(CONSOLE)
def interaction_create(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, CrmPerm.ADD_INTERACTION)
    customer = selectors.customer_get_for(request.user, public_id)
    form = InteractionForm(request.POST)
    added = False
    if form.is_valid():
        try:
            services.interaction_add(customer=customer, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            if not request.htmx:
                messages.success(request, "Note added to the timeline.")
                return redirect(_detail_url(customer, "timeline-panel"))
            form, added = InteractionForm(), True
    if request.htmx:
        context = {
            "customer": customer,
            "note_form": form,
            "note_added": added,
            "timeline": selectors.customer_timeline(customer),
        }
        return render(request, f"{DETAIL}#timeline-panel", context)
    return render(request, DETAIL, _detail_context(request, public_id, note_form=form))


@require_POST
@frontend_required(CONSOLE)
def subscriber_status(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    """Activate, suspend or resume a line, with the reason written to its history: the same
    one door (orders.lines) as the API, through an order completed at once."""
    require_perm(request, CrmPerm.CHANGE_SUBSCRIBER_STATUS)
    require_perm(request, OrdersPerm.PLACE_ORDER)
    subscriber = selectors.subscriber_get_for(request.user, public_id)
    customer = subscriber.account.customer
    form = SubscriberStatusForm(request.POST)
    changed = False
    if form.is_valid():
        change = LINE_ACTIONS[form.cleaned_data["action"]]
        try:
            change(
                subscriber=subscriber,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                channel=Channel.CONSOLE,
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc, {"type": "action", "subscriber": "action"})
        else:
            changed = True
        subscriber = selectors.subscriber_get_for(request.user, public_id)
    notice = f"{subscriber.msisdn_display} is now {subscriber.get_status_display().lower()}."
    if not request.htmx:
        if changed:
            messages.success(request, notice)
        else:
            problems = " ".join(str(m) for errors in form.errors.values() for m in errors)
            if not problems.startswith(subscriber.msisdn_display):
                problems = f"{subscriber.msisdn_display}: {problems}"
            messages.error(request, problems)
        return redirect(_detail_url(customer, f"line-{subscriber.public_id}"))
    row = _line_row(request.user, subscriber, None if changed else form, notice if changed else "")
    html = render_to_string(f"{DETAIL}#line-row", {"row": row}, request)
    if changed:  # the status change is now on the timeline and in the orders: swap them too
        html += render_to_string(
            f"{DETAIL}#timeline",
            {"timeline": selectors.customer_timeline(customer), "oob": True},
            request,
        )
    return HttpResponse(html)


# --- create and change ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@frontend_required(CONSOLE)
def customer_create(request: ConsoleRequest) -> HttpResponse:
    """A new customer with a billing account and a first line: the line is quoted as a
    new-connection order (number reserved, SIM from stock), all or nothing; the CSR submits it
    from the order page."""
    require_perm(request, CrmPerm.MANAGE_CUSTOMER)
    require_perm(request, OrdersPerm.PLACE_ORDER)
    form = CustomerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = order_new_customer_create(
                actor=request.user, channel=Channel.CONSOLE, **form.onboard_data()
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc, CustomerCreateForm.SERVICE_FIELDS)
        else:
            messages.success(
                request,
                f"{order.customer.display_name} is customer {order.customer.number}, account "
                f"{order.account.number}. The first line is quoted below: submit it to connect "
                "the line.",
            )
            return redirect("orders:order-detail", order.public_id)
    context = {"form": form, "plans": plans_on_sale(channel=Channel.CONSOLE)}
    return render(request, "crm/console/customer_create.html", context)


@require_http_methods(["GET", "POST"])
@frontend_required(CONSOLE)
def customer_edit(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, CrmPerm.MANAGE_CUSTOMER)
    customer = selectors.customer_get_for(request.user, public_id)
    initial = CustomerEditForm.initial_for(customer)
    form = CustomerEditForm(request.POST or None, initial=initial, kind=customer.kind)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(
                customer=customer,
                actor=request.user,
                address=form.address_changes(customer),
                **form.customer_data(),
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, "Details saved.")
            return redirect(_detail_url(customer))
    context = {"form": form, "customer": customer}
    return render(request, "crm/console/customer_edit.html", context)


@require_http_methods(["GET", "POST"])
@frontend_required(CONSOLE)
def account_create(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    """Another billing account for an existing customer."""
    require_perm(request, CrmPerm.MANAGE_CUSTOMER)
    customer = selectors.customer_get_for(request.user, public_id)
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(
                customer=customer, actor=request.user, **form.account_data()
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"Account {account.number} opened.")
            return redirect(_detail_url(customer, f"account-{account.public_id}"))
    context = {"form": form, "customer": customer}
    return render(request, "crm/console/account_create.html", context)


# --- KYC documents ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@frontend_required(CONSOLE)
def kyc_document_create(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    require_perm(request, CrmPerm.MANAGE_CUSTOMER)
    customer = selectors.customer_get_for(request.user, public_id)
    form = KycDocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = services.kyc_document_add(
                customer=customer, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{document.get_kind_display()} added for review.")
            return redirect(_detail_url(customer, "kyc"))
    context = {"form": form, "customer": customer}
    return render(request, "crm/console/kyc_document_create.html", context)


@require_POST
@frontend_required(CONSOLE)
def kyc_document_review(request: ConsoleRequest, public_id: UUID) -> HttpResponse:
    """Accept or reject a document (supervisors); the customer's KYC status follows."""
    require_perm(request, CrmPerm.REVIEW_KYC)
    document = selectors.kyc_document_get_for(request.user, public_id)
    form = KycReviewForm(request.POST)
    if form.is_valid():
        try:
            document = services.kyc_document_review(
                document=document,
                actor=request.user,
                accept=form.cleaned_data["decision"] == "accept",
                note=form.cleaned_data["note"],
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{document} {document.get_status_display().lower()}.")
            return redirect(_detail_url(document.customer, "kyc"))
    context = _detail_context(request, document.customer.public_id, review_failed=(document, form))
    return render(request, DETAIL, context)


@require_GET
@frontend_required(CONSOLE)
def kyc_document_file(request: ConsoleRequest, public_id: UUID) -> FileResponse:
    """The uploaded copy, only to those who may see the customer; never a public media URL."""
    document = selectors.kyc_document_get_for(request.user, public_id)
    if not document.file:
        raise Http404("This document has no copy on file.")
    extension = PurePosixPath(document.file.name or "").suffix.lower()
    name = f"{document.customer.number}-{document.kind}{extension}"
    return FileResponse(document.file.open("rb"), filename=name, as_attachment=True)


urlpatterns = [
    path("", console_home, name="console-home"),
    path("search/", customer_search, name="customer-search"),
    path("customers/new/", customer_create, name="customer-create"),
    path("customers/<uuid:public_id>/", customer_detail, name="customer-detail"),
    path("customers/<uuid:public_id>/edit/", customer_edit, name="customer-edit"),
    path("customers/<uuid:public_id>/notes/", interaction_create, name="interaction-create"),
    path("customers/<uuid:public_id>/accounts/new/", account_create, name="account-create"),
    path("customers/<uuid:public_id>/kyc/new/", kyc_document_create, name="kyc-document-create"),
    path("subscribers/<uuid:public_id>/status/", subscriber_status, name="subscriber-status"),
    path("kyc/<uuid:public_id>/review/", kyc_document_review, name="kyc-document-review"),
    path("kyc/<uuid:public_id>/file/", kyc_document_file, name="kyc-document-file"),
]
