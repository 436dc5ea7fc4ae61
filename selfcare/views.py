"""The self-care site: a subscriber's own customer record, accounts and lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing.balances.selectors import buckets_for_line, debts_open_for, ledger_for_line
from common.auth import frontend_required
from common.roles import SELFCARE
from crm.models import Account, Subscriber
from crm.selectors import customer_qs_for, subscriber_get_for, subscriber_status_history

HISTORY_PAGE_SIZE = 20
LEDGER_SIZE = 20
_STATUS_LABELS = dict(Subscriber.Status.choices)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """What a subscriber sees of a status change: when, from, to and why; not who."""

    at: datetime
    old_status: str
    old_label: str
    new_status: str
    new_label: str
    reason: str


@frontend_required(SELFCARE)
def account_overview(request: HttpRequest) -> HttpResponse:
    # Scoped by customer_qs_for and then to the customers this login owns: "my account" is
    # never the whole customer base, even for a role that may see every customer.
    customers = (
        customer_qs_for(request.user)
        .filter(owner_id=request.user.pk)
        .prefetch_related(
            Prefetch(
                "accounts",
                queryset=Account.objects.order_by("created_at", "pk").prefetch_related(
                    Prefetch(
                        "subscribers", queryset=Subscriber.objects.order_by("created_at", "pk")
                    )
                ),
            )
        )
        .order_by("created_at", "pk")
    )
    return render(request, "selfcare/home.html", {"customers": customers})


@frontend_required(SELFCARE)
def line_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    line = subscriber_get_for(request.user, public_id)
    page = Paginator(subscriber_status_history(line), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    history = [
        StatusChange(
            at=event.created_at,
            old_status=event.old_status,
            old_label=_STATUS_LABELS.get(event.old_status, event.old_status or "New"),
            new_status=event.new_status,
            new_label=_STATUS_LABELS.get(event.new_status, event.new_status),
            reason=event.reason,
        )
        for event in page.object_list
    ]
    context = {
        "line": line,
        "history": history,
        "page": page,
        # what is left and until when, what is owed, and the latest changes of the balance
        "buckets": list(buckets_for_line(line)[:50]),
        "debts": list(debts_open_for(line)),
        "entries": ledger_for_line(line, limit=LEDGER_SIZE),
    }
    # htmx asks for the balances alone every few seconds: they change as usage is charged
    if request.headers.get("HX-Request") and request.GET.get("part") == "balances":
        return render(request, "selfcare/line_detail.html#balances", context)
    return render(request, "selfcare/line_detail.html", context)
