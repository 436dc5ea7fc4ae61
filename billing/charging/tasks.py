"""Scheduled charging jobs: thin and re-runnable."""

from __future__ import annotations

from celery import shared_task

from billing.charging.sessions import sessions_expire


@shared_task
def charging_sessions_expire_task() -> int:
    return sessions_expire()
