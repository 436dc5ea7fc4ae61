"""Reads of balances: a line's buckets and a bucket's ledger."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from billing.balances.models import BalanceAdjustment, BalanceDebt, Bucket, LedgerEntry
from crm.permissions import CrmPerm
from crm.selectors import subscriber_get_for

VIEW_BALANCES = "billing.view_balances"


def buckets_for_line(subscriber: Any, *, include_expired: bool = False) -> QuerySet[Bucket]:
    """The buckets a line spends from (its own and its account's shared ones), in the order
    they are used: money after units, then priority, then the one ending soonest."""
    buckets = Bucket.objects.filter(
        Q(subscriber=subscriber) | Q(account_id=subscriber.account_id, subscriber__isnull=True)
    )
    if not include_expired:
        buckets = buckets.exclude(status=Bucket.Status.EXPIRED)
    return buckets.order_by("priority", "valid_until", "pk")


def ledger_for_bucket(bucket: Bucket) -> QuerySet[LedgerEntry]:
    """The bucket's entries, newest first."""
    return bucket.entries.select_related("actor").order_by("-created_at", "-pk")


def adjustments_pending() -> QuerySet[BalanceAdjustment]:
    """Adjustments waiting for a supervisor, oldest first."""
    return (
        BalanceAdjustment.objects.filter(status=BalanceAdjustment.Status.PENDING)
        .select_related("bucket", "bucket__subscriber", "requested_by")
        .order_by("created_at", "pk")
    )


def balances_line_get_for(actor: Any, public_id: Any) -> Any:
    """The line whose balances `actor` may read, or 404: visible to them (crm scoping), and
    staff must also hold billing.view_balances."""
    subscriber = subscriber_get_for(actor, public_id)
    if actor.has_perm(CrmPerm.VIEW_ANY_CUSTOMER) and not actor.has_perm(VIEW_BALANCES):
        raise Http404("No such line.")
    return subscriber


def ledger_for_line(subscriber: Any, *, limit: int = 100) -> list[LedgerEntry]:
    """The latest entries of the line's buckets (its own and its account's shared ones)."""
    return list(
        LedgerEntry.objects.filter(
            Q(bucket__subscriber=subscriber)
            | Q(bucket__account_id=subscriber.account_id, bucket__subscriber__isnull=True)
        )
        .select_related("bucket", "actor")
        .order_by("-created_at", "-pk")[:limit]
    )


def debts_open_for(subscriber: Any) -> QuerySet[BalanceDebt]:
    return BalanceDebt.objects.filter(
        subscriber=subscriber, status=BalanceDebt.Status.OPEN
    ).order_by("created_at", "pk")


def adjustments_pending_for(subscriber: Any) -> QuerySet[BalanceAdjustment]:
    return adjustments_pending().filter(
        Q(bucket__subscriber=subscriber)
        | Q(bucket__account_id=subscriber.account_id, bucket__subscriber__isnull=True)
    )


def bucket_get_for_line(subscriber: Any, public_id: Any) -> Bucket:
    """One of the line's buckets (its own or its account's shared one), or 404."""
    found = buckets_for_line(subscriber, include_expired=True).filter(public_id=public_id).first()
    if found is None:
        raise Http404("No such balance.")
    return found


def adjustment_get_for(actor: Any, public_id: Any) -> BalanceAdjustment:
    """An adjustment on a line `actor` may see, or 404."""
    adjustment = (
        BalanceAdjustment.objects.select_related("bucket", "bucket__subscriber")
        .filter(public_id=public_id)
        .first()
    )
    if adjustment is None or adjustment.bucket.subscriber is None:
        raise Http404("No such adjustment.")
    balances_line_get_for(actor, adjustment.bucket.subscriber.public_id)
    return adjustment


def transfer_targets(bucket: Bucket) -> list[Bucket]:
    """The money buckets a bucket's value may move to: active buckets of the same unit and
    currency on the customer's other lines."""
    if bucket.subscriber_id is None:
        return []
    return list(
        Bucket.objects.filter(
            account__customer_id=bucket.account.customer_id,
            unit=bucket.unit,
            currency=bucket.currency,
            status=Bucket.Status.ACTIVE,
            subscriber__isnull=False,
        )
        .exclude(subscriber_id=bucket.subscriber_id)
        .select_related("subscriber")
        .order_by("subscriber__msisdn", "priority", "pk")
    )
