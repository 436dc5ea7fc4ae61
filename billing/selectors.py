"""Reads of what a line holds and what waits for its bill."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from billing.models import AllowanceGrant, Charge
from crm.models import Subscriber


def allowances_live_for(subscriber: Subscriber) -> QuerySet[AllowanceGrant]:
    """The line's allowances in force now, soonest to end first."""
    now = timezone.now()
    return (
        AllowanceGrant.objects.filter(subscriber=subscriber, valid_from__lte=now)
        .exclude(valid_until__lte=now)
        .order_by("valid_until", "service", "pk")
    )


def charges_pending_for(subscriber: Subscriber) -> QuerySet[Charge]:
    return Charge.objects.filter(subscriber=subscriber, status=Charge.Status.PENDING).order_by(
        "created_at", "pk"
    )


def allowances_live_by_line(subscriber_pks: list[int]) -> dict[int, list[AllowanceGrant]]:
    """The allowances in force now of many lines in one query, by line pk."""
    now = timezone.now()
    found: dict[int, list[AllowanceGrant]] = {pk: [] for pk in subscriber_pks}
    grants = (
        AllowanceGrant.objects.filter(subscriber_id__in=subscriber_pks, valid_from__lte=now)
        .exclude(valid_until__lte=now)
        .order_by("valid_until", "service", "pk")
    )
    for grant in grants:
        found[grant.subscriber_id].append(grant)
    return found
