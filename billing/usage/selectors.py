"""Reads of usage records and batches, scoped by who asks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from billing.usage.models import UsageBatch, UsageRecord
from common.money import Money
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


# --- the doors: API and back office --------------------------------------------------------------

PUSH_USAGE = "billing.push_usage"


def _is_machine(actor: Actor) -> bool:
    return bool(getattr(actor, "is_machine", False))


def usage_batches_for(actor: Actor) -> QuerySet[UsageBatch]:
    """The batches someone may see, newest first: an API key only those it sent (with
    push_usage or view_usage); a person with view_usage every batch; nobody else any."""
    batches = UsageBatch.objects.order_by("-created_at", "-pk")
    if _is_machine(actor):
        if actor.has_perm(PUSH_USAGE) or actor.has_perm(VIEW_USAGE):
            return batches.filter(created_by_id=actor.pk)
        return UsageBatch.objects.none()
    if not actor.has_perm(VIEW_USAGE):
        return UsageBatch.objects.none()
    return batches


def usage_batch_get_for(actor: Actor, public_id: UUID | str) -> UsageBatch:
    """One batch the actor may see; any other answers 404 (denial looks like absence)."""
    return get_object_or_404(usage_batches_for(actor), public_id=public_id)


def usage_rejects_for(
    actor: Actor,
    *,
    reason: str = "",
    batch: UsageBatch | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    number: str = "",
) -> QuerySet[UsageRecord]:
    """The reject queue as someone may see it, oldest first: rejected records of the batches
    they may see (an API key: its own), narrowed by reason, batch, usage start in
    [since, until) and a number (calling, called or IMSI, any part of it)."""
    if _is_machine(actor):
        if not actor.has_perm(VIEW_USAGE):
            return UsageRecord.objects.none()
        rejects = UsageRecord.objects.filter(
            status=UsageRecord.Status.REJECTED,
            batch_id__in=usage_batches_for(actor).values("pk"),
        )
    else:
        if not actor.has_perm(VIEW_USAGE):
            return UsageRecord.objects.none()
        rejects = UsageRecord.objects.filter(status=UsageRecord.Status.REJECTED)
    if reason:
        rejects = rejects.filter(reject_reason=reason)
    if batch is not None:
        rejects = rejects.filter(batch_id=batch.pk)
    if since is not None:
        rejects = rejects.filter(started_at__gte=since)
    if until is not None:
        rejects = rejects.filter(started_at__lt=until)
    if number:
        rejects = rejects.filter(
            Q(calling_number__contains=number)
            | Q(called_number__contains=number)
            | Q(calling_e164__contains=number)
            | Q(called_e164__contains=number)
            | Q(imsi__contains=number)
        )
    return rejects.order_by("id")


def usage_batch_outcomes(*, batch: UsageBatch) -> list[dict[str, Any]]:
    """What became of each record of an API batch, by its 0-based index in the request: its
    status, reject reason and charge. An index with no record of its own was a duplicate (of
    an earlier record, in this batch or before it)."""
    found = {
        line: (status, reason, detail, amount, currency)
        for line, status, reason, detail, amount, currency in UsageRecord.objects.filter(
            batch_id=batch.pk
        ).values_list(
            "line_number", "status", "reject_reason", "reject_detail", "charge_amount", "currency"
        )
    }
    outcomes = []
    for index in range(batch.received_count):
        row = found.get(index + 1)
        if row is None:
            outcomes.append({"index": index, "status": "duplicate", "reject_reason": "",
                             "reject_detail": "", "charge": None})  # fmt: skip
            continue
        status, reason, detail, amount, currency = row
        rated = status != UsageRecord.Status.REJECTED
        outcomes.append(
            {
                "index": index,
                "status": "rated" if rated else "rejected",
                "reject_reason": reason,
                "reject_detail": detail,
                "charge": Money(amount, currency) if rated and amount is not None else None,
            }
        )
    return outcomes
