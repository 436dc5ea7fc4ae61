"""What the demo lines hold: each live line on a plan holds its plan's allowances for the
plan's current period, as if its orders had granted them, and each live prepaid line a main
balance. Set-based and idempotent."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from billing.balances.models import Bucket
from billing.balances.services import BucketOpening, buckets_open_bulk
from billing.services import ALLOWANCE_UNITS
from crm.models import Subscriber, User
from orders.catalog.models import Allowance
from orders.proration import fee_period_containing

CHUNK = 20_000


def demo_lines_allowances_ensure(actor: User, *, msisdn_prefix: str) -> int:
    """Grant every live demo line (active or suspended) on a plan the allowances of its plan
    for the period that contains today; lines that already hold plan allowances are left as
    they are. Returns how many lines got allowances."""
    today = timezone.localdate()
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
                Bucket.objects.filter(subscriber=OuterRef("pk"), source_key__startswith="plan:")
            )
        )
        .order_by("pk")
        .values_list(
            "pk",
            "account_id",
            "plan_id",
            "plan__recurring_period",
            "plan__name",
            "plan_started_on",
            "account__bill_cycle_day",
        )
    )
    done = 0
    openings: list[BucketOpening] = []
    with transaction.atomic():
        for (
            pk,
            account_pk,
            plan_id,
            period_kind,
            plan_name,
            started_on,
            cycle_day,
        ) in lines.iterator(chunk_size=CHUNK):
            period = fee_period_containing(
                today, period=period_kind, bill_cycle_day=cycle_day, started_on=started_on
            )
            start = timezone.make_aware(datetime.combine(period.start, time.min))
            end = timezone.make_aware(datetime.combine(period.end, time.min))
            for allowance in allowances.get(plan_id, []):
                unit, factor = ALLOWANCE_UNITS[allowance.service]
                openings.append(
                    BucketOpening(
                        subscriber_id=pk,
                        account_id=account_pk,
                        kind=Bucket.Kind.ALLOWANCE,
                        unit=unit,
                        amount=allowance.quantity * factor,
                        name=f"{plan_name} (demo data)",
                        source_key=f"plan:demo:{pk}:{allowance.pk}",
                        valid_from=start,
                        valid_until=end,
                        service=allowance.service,
                        scope=allowance.scope,
                        zone=allowance.zone,
                    )
                )
            done += 1
            if len(openings) >= CHUNK:
                buckets_open_bulk(openings, actor=actor, reason="Plan allowances (demo data)")
                openings = []
        if openings:
            buckets_open_bulk(openings, actor=actor, reason="Plan allowances (demo data)")
    return done


def demo_lines_balances_ensure(actor: User, *, msisdn_prefix: str) -> int:
    """Give every live prepaid demo line without one a main balance of a few pounds (its
    opening top-up), so its usage is debited from something. Returns how many got one."""
    lines = (
        Subscriber.objects.filter(
            msisdn__startswith=msisdn_prefix,
            status__in=(Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED),
            account__payment_type="prepaid",
        )
        .filter(~Exists(Bucket.objects.filter(subscriber=OuterRef("pk"), kind="main")))
        .order_by("pk")
        .values_list("pk", "account_id", "account__currency", "created_at")
    )
    return buckets_open_bulk(
        (
            BucketOpening(
                subscriber_id=pk,
                account_id=account_pk,
                kind=Bucket.Kind.MAIN,
                unit=Bucket.Unit.MONEY,
                currency=currency,
                amount=Decimal(5 + pk % 16),
                name="Main balance",
                source_key=f"main:demo:{pk}",
                valid_from=created,
                valid_until=None,
            )
            for pk, account_pk, currency, created in lines.iterator(chunk_size=CHUNK)
        ),
        actor=actor,
        reason="Opening top-up (demo data)",
    )
