"""Reads of usage records and batches, scoped by who asks."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from billing.usage.models import UsageBatch, UsageRecord
from common.types import Actor

VIEW_USAGE = "billing.view_usage"


def usage_records_for_line(
    *, subscriber_id: int, since: datetime, until: datetime, rated_only: bool = True
) -> QuerySet[UsageRecord]:
    """A line's usage in [since, until), newest first: the (subscriber_id, started_at) index,
    pruned to the months asked for on PostgreSQL."""
    records = UsageRecord.objects.filter(
        subscriber_id=subscriber_id, started_at__gte=since, started_at__lt=until
    )
    if rated_only:
        records = records.filter(status__in=["rated", "billed", "rerated"])
    return records.order_by("-started_at", "-id")


def usage_reject_queue(
    *, actor: Actor, reason: str = "", batch: UsageBatch | None = None
) -> QuerySet[UsageRecord]:
    """Rejected records waiting for their cause to be fixed, oldest first (the partial index on
    rejected records); nothing for someone who may not see usage."""
    if not actor.has_perm(VIEW_USAGE):
        return UsageRecord.objects.none()
    rejects = UsageRecord.objects.filter(status=UsageRecord.Status.REJECTED)
    if reason:
        rejects = rejects.filter(reject_reason=reason)
    if batch is not None:
        rejects = rejects.filter(batch_id=batch.pk)
    return rejects.order_by("created_at", "id")


def usage_batch_qs_for(actor: Actor) -> QuerySet[UsageBatch]:
    if not actor.has_perm(VIEW_USAGE):
        return UsageBatch.objects.none()
    return UsageBatch.objects.order_by("-created_at", "-pk")


def usage_batch_records(*, batch: UsageBatch) -> QuerySet[UsageRecord]:
    return UsageRecord.objects.filter(batch_id=batch.pk).order_by("line_number", "id")
