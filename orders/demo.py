"""What the demo lines hold: each live line on a plan holds its plan's allowances for the
plan's current period, as if its orders had granted them. Set-based and idempotent."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from billing.models import AllowanceGrant
from common.bulk import rows_write
from crm.models import Subscriber, User
from orders.catalog.models import Allowance
from orders.proration import fee_period_containing

CHUNK = 20_000


def demo_lines_allowances_ensure(actor: User, *, msisdn_prefix: str) -> int:
    """Grant every live demo line (active or suspended) on a plan the allowances of its plan
    for the period that contains today; lines that already hold plan allowances are left as
    they are. Returns how many lines got allowances."""
    today = timezone.localdate()
    now = timezone.now()
    allowances: dict[int, list[Allowance]] = {}
    for allowance in Allowance.objects.filter(plan__isnull=False).order_by("pk"):
        assert allowance.plan_id is not None
        allowances.setdefault(allowance.plan_id, []).append(allowance)
    lines = (
        Subscriber.objects.filter(
            msisdn__startswith=msisdn_prefix,
            status__in=(Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED),
            plan__isnull=False,
        )
        .filter(
            ~Exists(
                AllowanceGrant.objects.filter(
                    subscriber=OuterRef("pk"), source_key__startswith="plan:"
                )
            )
        )
        .order_by("pk")
        .values_list(
            "pk",
            "plan_id",
            "plan__recurring_period",
            "plan__name",
            "plan_started_on",
            "account__bill_cycle_day",
        )
    )
    done = 0
    rows: list[tuple[Any, ...]] = []
    with transaction.atomic():
        for pk, plan_id, period_kind, plan_name, started_on, cycle_day in lines.iterator(
            chunk_size=CHUNK
        ):
            period = fee_period_containing(
                today, period=period_kind, bill_cycle_day=cycle_day, started_on=started_on
            )
            start = timezone.make_aware(datetime.combine(period.start, time.min))
            end = timezone.make_aware(datetime.combine(period.end, time.min))
            for allowance in allowances.get(plan_id, []):
                rows.append(
                    (
                        now,
                        now,
                        pk,
                        allowance.service,
                        allowance.scope,
                        allowance.zone,
                        allowance.quantity,
                        0,
                        start,
                        end,
                        f"plan:demo:{pk}:{allowance.pk}",
                        f"{plan_name} (demo data)",
                        actor.pk,
                    )
                )
            done += 1
            if len(rows) >= CHUNK:
                _write(rows)
                rows = []
        if rows:
            _write(rows)
    return done


def _write(rows: list[tuple[Any, ...]]) -> None:
    rows_write(
        AllowanceGrant,
        [
            "created_at",
            "updated_at",
            "subscriber_id",
            "service",
            "scope",
            "zone",
            "quantity",
            "used",
            "valid_from",
            "valid_until",
            "source_key",
            "source_description",
            "granted_by_id",
        ],
        rows,
    )
