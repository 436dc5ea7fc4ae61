from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("telecrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Sub-packages with tasks of their own (autodiscovery looks only at each app's `tasks`).
app.autodiscover_tasks(["billing.usage", "billing.balances", "billing.charging"])

# Periodic jobs; each entry names a thin task that calls one service.
app.conf.beat_schedule = {
    "idempotency-records-purge": {
        "task": "common.tasks.idempotency_records_purge_task",
        "schedule": 3600.0,
    },
    "msisdn-reservations-expire": {
        "task": "orders.tasks.msisdn_reservations_expire_task",
        "schedule": 60.0,
    },
    "sim-reservations-expire": {
        "task": "orders.tasks.sim_reservations_expire_task",
        "schedule": 60.0,
    },
    "orders-due-complete": {
        "task": "orders.tasks.orders_due_complete_task",
        "schedule": 3600.0,
    },
    "orders-stale-drafts-cancel": {
        "task": "orders.tasks.orders_stale_drafts_cancel_task",
        "schedule": 300.0,
    },
    "kyc-expiries-apply": {
        "task": "crm.tasks.kyc_expiries_apply_task",
        "schedule": 6 * 3600.0,
    },
    "usage-uploads-clean": {
        "task": "billing.usage.tasks.usage_uploads_clean_task",
        "schedule": 6 * 3600.0,
    },
    "usage-partitions-ensure": {
        "task": "billing.usage.tasks.usage_partitions_ensure_task",
        "schedule": 24 * 3600.0,
    },
    "buckets-expire": {
        "task": "billing.balances.tasks.buckets_expire_task",
        "schedule": 60.0,
    },
    "charging-sessions-expire": {
        "task": "billing.charging.tasks.charging_sessions_expire_task",
        "schedule": 60.0,
    },
    "charged-usage-record": {
        "task": "billing.charging.tasks.charged_usage_record_task",
        "schedule": 60.0,
    },
    "msisdn-quarantines-end": {
        "task": "orders.tasks.msisdn_quarantines_end_task",
        "schedule": 3600.0,
    },
}
