"""Scheduled balance jobs: thin, re-runnable, acting as the system actor."""

from __future__ import annotations

from celery import shared_task

from billing.balances.services import buckets_expire


@shared_task
def buckets_expire_task() -> int:
    return buckets_expire()
