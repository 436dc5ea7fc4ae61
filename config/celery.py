from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("telecrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs; each entry names a thin task that calls one service.
app.conf.beat_schedule = {
    "idempotency-records-purge": {
        "task": "crm.tasks.idempotency_records_purge_task",
        "schedule": 3600.0,
    },
}
