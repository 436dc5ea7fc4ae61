"""Reads of balances: a line's buckets and a bucket's ledger."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from billing.balances.models import BalanceAdjustment, Bucket, LedgerEntry


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
