"""The partner portal: a reseller's own customers (its whole partner subtree), read-only."""

from __future__ import annotations

from uuid import UUID

from django.core.paginator import Paginator
from django.db.models import Case, F, Prefetch, QuerySet, When, prefetch_related_objects
from django.db.models.functions import Upper
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from common.auth import frontend_required
from common.roles import PARTNER
from crm.models import Account, Customer, Subscriber
from crm.selectors import customer_detail_for, customer_qs_for, customer_search
from partners.selectors import partner_of

PAGE_SIZE = 25
# People by surname, businesses by company name, in one alphabetical list.
_SORT_NAME = Case(When(kind=Customer.Kind.BUSINESS, then=F("company_name")), default=F("last_name"))
SEARCH_LIMIT = 200


@frontend_required(PARTNER)
def customer_list(request: HttpRequest) -> HttpResponse:
    """All of the partner's customers, or those matching a name or MSISDN; paginated.

    An htmx request (the search box as one types) gets only the results table.
    """
    text = request.GET.get("q", "").strip()[:100]
    query = None
    rows: list[Customer] | QuerySet[Customer]
    if text:
        query, hits = customer_search(request.user, text, limit=SEARCH_LIMIT)
        rows = [hit.customer for hit in hits]
    else:
        rows = (
            customer_qs_for(request.user)
            .select_related("partner")
            .order_by(Upper(_SORT_NAME), Upper("first_name"), "pk")
        )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = customers = list(page.object_list)
    prefetch_related_objects(
        customers,
        Prefetch(
            "accounts",
            queryset=Account.objects.order_by("created_at", "pk").prefetch_related(
                Prefetch("subscribers", queryset=Subscriber.objects.order_by("created_at", "pk"))
            ),
        ),
    )
    context = {
        "partner": partner_of(request.user),
        "q": text,
        "query": query,
        "search_too_vague": query is not None
        and (query.kind in ("empty", "none") or (query.kind == "name" and len(query.value) < 2)),
        "page": page,
    }
    template = "partners/customer_list.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#customer-results"
    return render(request, template, context)


@frontend_required(PARTNER)
def customer_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    customer = customer_detail_for(request.user, public_id)
    return render(request, "partners/customer_detail.html", {"customer": customer})
