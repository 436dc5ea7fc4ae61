"""A line's balances in the CSR console: its buckets (what is left, until when), the latest
ledger entries, open debts and adjustments waiting for approval; CSRs adjust a balance with a
reason, supervisors approve or reject what is above the limit.

The line is fetched through `balances_line_get_for` (someone else's line, or a role without
billing.view_balances, answers 404); every change goes through billing.balances.services.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from billing.balances.models import Bucket
from billing.balances.selectors import (
    adjustment_get_for,
    adjustments_pending_for,
    balances_line_get_for,
    bucket_get_for_line,
    buckets_for_line,
    debts_open_for,
    ledger_for_line,
    transfer_targets,
)
from billing.balances.services import (
    adjustment_limit,
    balance_adjust,
    balance_adjustment_decide,
    balance_transfer,
)
from billing.permissions import BillingPerm
from common.auth import frontend_required, require_perm
from common.errors import ApplicationError
from common.roles import CONSOLE
from crm.models import Subscriber, User

TEMPLATE = "crm/console/line_balances.html"


class BalancesRequest(HttpRequest):
    user: User  # type: ignore[assignment]


class AdjustForm(forms.Form):
    bucket = forms.UUIDField(widget=forms.HiddenInput)
    amount = forms.DecimalField(
        label="Amount",
        max_digits=20,
        decimal_places=4,
        help_text="Positive adds to the balance, negative takes from it.",
        error_messages={"required": "Enter the amount to add or take."},
    )
    reason = forms.CharField(
        max_length=200, error_messages={"required": "Give a reason for the adjustment."}
    )


class TransferForm(forms.Form):
    bucket = forms.UUIDField(widget=forms.HiddenInput)
    target = forms.UUIDField(error_messages={"required": "Choose the line to move it to."})
    amount = forms.DecimalField(
        max_digits=20,
        decimal_places=4,
        error_messages={"required": "Enter the amount to move."},
    )
    reason = forms.CharField(
        max_length=200, error_messages={"required": "Give a reason for the transfer."}
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(
        max_length=200, error_messages={"required": "Give a reason for the decision."}
    )


def _context(request: BalancesRequest, subscriber: Subscriber, **extra: Any) -> dict[str, Any]:
    buckets = list(buckets_for_line(subscriber, include_expired=True)[:50])
    return {
        "subscriber": subscriber,
        "buckets": [
            (
                bucket,
                adjustment_limit(bucket),
                transfer_targets(bucket) if bucket.unit == Bucket.Unit.MONEY else [],
            )
            for bucket in buckets
        ],
        "entries": ledger_for_line(subscriber),
        "debts": list(debts_open_for(subscriber)),
        "pending": list(adjustments_pending_for(subscriber)),
        "may_adjust": request.user.has_perm(BillingPerm.ADJUST_BALANCES),
        "may_approve": request.user.has_perm(BillingPerm.APPROVE_ADJUSTMENTS),
        "adjust_form": extra.pop("adjust_form", None),
        "adjust_bucket": extra.pop("adjust_bucket", None),
        **extra,
    }


def _url(subscriber: Subscriber) -> str:
    return reverse("crm:line-balances", args=[subscriber.public_id])


@require_GET
@frontend_required(CONSOLE)
def line_balances(request: BalancesRequest, public_id: UUID) -> HttpResponse:
    subscriber = balances_line_get_for(request.user, public_id)
    return render(request, TEMPLATE, _context(request, subscriber))


@require_POST
@frontend_required(CONSOLE)
def line_balance_adjust(request: BalancesRequest, public_id: UUID) -> HttpResponse:
    """Adjust one of the line's buckets: applied at once within the limit, else waiting for a
    supervisor. The same service as every other door (billing.balances.balance_adjust)."""
    subscriber = balances_line_get_for(request.user, public_id)
    require_perm(request, BillingPerm.ADJUST_BALANCES)
    form = AdjustForm(request.POST)
    bucket: Bucket | None = None
    if form.is_valid() or "bucket" not in form.errors:
        # the bucket first (someone else's answers 404), so its row shows the form's errors
        bucket = bucket_get_for_line(subscriber, form["bucket"].value())
    if form.is_valid():
        assert bucket is not None
        try:
            adjustment = balance_adjust(
                bucket=bucket,
                amount=form.cleaned_data["amount"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            fields = exc.fields or {"amount": [exc.message]}
            for name, problems in fields.items():
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
        else:
            if adjustment.status == adjustment.Status.APPLIED:
                messages.success(request, f"{bucket.name}: {adjustment.amount:+} applied.")
            else:
                messages.success(
                    request,
                    f"{bucket.name}: {adjustment.amount:+} is above the limit and waits for a "
                    "supervisor's approval.",
                )
            return redirect(_url(subscriber))
    context = _context(request, subscriber, adjust_form=form, adjust_bucket=bucket)
    return render(request, TEMPLATE, context, status=400)


@require_POST
@frontend_required(CONSOLE)
def line_balance_transfer(request: BalancesRequest, public_id: UUID) -> HttpResponse:
    """Move money from one of the line's buckets to another line of the same customer, with a
    reason (billing.balances.balance_transfer: a debit and a credit, or neither)."""
    subscriber = balances_line_get_for(request.user, public_id)
    require_perm(request, BillingPerm.ADJUST_BALANCES)
    form = TransferForm(request.POST)
    if not form.is_valid():
        problems = " ".join(str(m) for errors in form.errors.values() for m in errors)
        messages.error(request, problems)
        return redirect(_url(subscriber))
    source = bucket_get_for_line(subscriber, form.cleaned_data["bucket"])
    target = next(
        (b for b in transfer_targets(source) if b.public_id == form.cleaned_data["target"]), None
    )
    if target is None:
        raise Http404("No such line to move it to.")
    try:
        balance_transfer(
            source=source,
            target=target,
            amount=form.cleaned_data["amount"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        assert target.subscriber is not None
        messages.success(
            request,
            f"{form.cleaned_data['amount']} {source.currency} moved to "
            f"{target.subscriber.msisdn_display}.",
        )
    return redirect(_url(subscriber))


@require_POST
@frontend_required(CONSOLE)
def adjustment_decide(request: BalancesRequest, public_id: UUID) -> HttpResponse:
    adjustment = adjustment_get_for(request.user, public_id)
    require_perm(request, BillingPerm.APPROVE_ADJUSTMENTS)
    subscriber = adjustment.bucket.subscriber
    assert subscriber is not None
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            decided = balance_adjustment_decide(
                adjustment=adjustment,
                approve=form.cleaned_data["decision"] == "approve",
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"Adjustment of {decided.amount:+} {decided.get_status_display().lower()}."
            )
    else:
        problems = " ".join(str(m) for errors in form.errors.values() for m in errors)
        messages.error(request, problems)
    return redirect(_url(subscriber))


urlpatterns = [
    path("lines/<uuid:public_id>/balances/", line_balances, name="line-balances"),
    path(
        "lines/<uuid:public_id>/balances/adjust/", line_balance_adjust, name="line-balance-adjust"
    ),
    path(
        "lines/<uuid:public_id>/balances/transfer/",
        line_balance_transfer,
        name="line-balance-transfer",
    ),
    path("adjustments/<uuid:public_id>/decide/", adjustment_decide, name="adjustment-decide"),
]
