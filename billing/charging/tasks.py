"""Scheduled charging jobs: thin and re-runnable."""

from __future__ import annotations

from celery import shared_task

from billing.charging.sessions import charged_usage_record, sessions_expire


@shared_task
def charging_sessions_expire_task() -> int:
    return sessions_expire()


@shared_task
def charged_usage_record_task() -> int:
    return charged_usage_record()
