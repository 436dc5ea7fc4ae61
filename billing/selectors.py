"""Reads of what a line holds and what waits for its bill."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from billing.balances.models import Bucket
from billing.models import Charge
from crm.models import Subscriber


def _allowances_live(now: datetime) -> QuerySet[Bucket]:
    return (
        Bucket.objects.filter(
            kind=Bucket.Kind.ALLOWANCE, status=Bucket.Status.ACTIVE, valid_from__lte=now
        )
        .exclude(valid_until__lte=now)
        .order_by("valid_until", "service", "pk")
    )


def allowances_live_for(subscriber: Subscriber) -> QuerySet[Bucket]:
    """The line's allowance buckets in force now, soonest to end first."""
    return _allowances_live(timezone.now()).filter(subscriber=subscriber)


def charges_pending_for(subscriber: Subscriber) -> QuerySet[Charge]:
    return Charge.objects.filter(subscriber=subscriber, status=Charge.Status.PENDING).order_by(
        "created_at", "pk"
    )


def allowances_live_by_line(subscriber_pks: list[int]) -> dict[int, list[Bucket]]:
    """The allowance buckets in force now of many lines in one query, by line pk."""
    found: dict[int, list[Bucket]] = {pk: [] for pk in subscriber_pks}
    for bucket in _allowances_live(timezone.now()).filter(subscriber_id__in=subscriber_pks):
        assert bucket.subscriber_id is not None
        found[bucket.subscriber_id].append(bucket)
    return found
