"""Celery tasks of the crm app: thin, idempotent, each calls one service."""

from __future__ import annotations

from celery import shared_task

from crm.services import kyc_expiries_apply


@shared_task
def kyc_expiries_apply_task() -> int:
    return kyc_expiries_apply()
