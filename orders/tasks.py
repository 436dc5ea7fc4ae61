"""Celery tasks of the orders app: thin, idempotent, each calls one service."""

from __future__ import annotations

from celery import shared_task

from orders.inventory.services import (
    msisdn_quarantines_end,
    msisdn_reservations_expire,
    sim_reservations_expire,
)
from orders.services import orders_due_complete, orders_stale_drafts_cancel


@shared_task
def msisdn_reservations_expire_task() -> int:
    return msisdn_reservations_expire()


@shared_task
def msisdn_quarantines_end_task() -> int:
    return msisdn_quarantines_end()


@shared_task
def sim_reservations_expire_task() -> int:
    return sim_reservations_expire()


@shared_task
def orders_due_complete_task() -> int:
    return orders_due_complete()


@shared_task
def orders_stale_drafts_cancel_task() -> int:
    return orders_stale_drafts_cancel()
