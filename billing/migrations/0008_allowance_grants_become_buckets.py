"""Allowance grants become allowance buckets (one way to hold units): each grant is a bucket with
the same pk (usage records keep pointing at what they drew on), holding seconds, messages or
bytes, with an opening entry and, for what was used before, one usage entry."""

import uuid
from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations, models
from django.utils import timezone

SYSTEM_EMAIL = "system@telecrm.invalid"
UNITS = {"voice": ("seconds", Decimal(60)), "sms": ("messages", Decimal(1)),
         "data": ("bytes", Decimal(1_000_000))}  # fmt: skip


def _system_user(apps):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    user = user_model.objects.filter(email=getattr(settings, "SYSTEM_ACTOR_EMAIL", SYSTEM_EMAIL))
    return user.first() or user_model.objects.create(
        email=SYSTEM_EMAIL, first_name="System", last_name="(scheduled jobs)", is_machine=True,
        password="!",
    )  # fmt: skip


def grants_to_buckets(apps, schema_editor):
    Grant = apps.get_model("billing", "AllowanceGrant")
    Bucket = apps.get_model("billing", "Bucket")
    Entry = apps.get_model("billing", "LedgerEntry")
    grants = Grant.objects.select_related("subscriber").order_by("pk")
    if not grants.exists():
        return
    system = _system_user(apps)
    now = timezone.now()
    buckets, entries = [], []
    for grant in grants.iterator(chunk_size=5000):
        unit, factor = UNITS.get(grant.service, ("messages", Decimal(1)))
        opening = grant.quantity * factor
        used = min(grant.used, grant.quantity) * factor
        buckets.append(Bucket(
            pk=grant.pk, public_id=uuid.uuid4(), created_at=grant.created_at, updated_at=now,
            account_id=grant.subscriber.account_id, subscriber_id=grant.subscriber_id,
            kind="allowance", unit=unit, currency="", service=grant.service, scope=grant.scope,
            zone=grant.zone, priority=100, status="active", valid_from=grant.valid_from,
            valid_until=grant.valid_until, opening_amount=opening, balance=opening - used,
            name=grant.source_description[:200], source_key=grant.source_key,
        ))  # fmt: skip
        entries.append(Entry(
            public_id=uuid.uuid4(), bucket_id=grant.pk, kind="opening", amount=opening,
            unit=unit, currency="", balance_after=opening, reference=grant.source_key[:120],
            actor_id=grant.granted_by_id or system.pk,
            reason=grant.source_description[:200] or "Allowance",
            idempotency_key=f"open:{grant.source_key}", created_at=grant.created_at,
        ))  # fmt: skip
        if used:
            entries.append(Entry(
                public_id=uuid.uuid4(), bucket_id=grant.pk, kind="usage", amount=-used,
                unit=unit, currency="", balance_after=opening - used,
                reference=f"allowance grant {grant.pk}", actor_id=system.pk,
                reason="Usage rated before allowances were buckets", created_at=now,
            ))  # fmt: skip
        if len(buckets) >= 5000:
            Bucket.objects.bulk_create(buckets)
            Entry.objects.bulk_create(entries)
            buckets, entries = [], []
    Bucket.objects.bulk_create(buckets)
    Entry.objects.bulk_create(entries)
    # the buckets took the grants' pks: the next bucket numbers after them
    with schema_editor.connection.cursor() as cursor:
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [Bucket]):
            cursor.execute(sql)


def buckets_to_grants(apps, schema_editor):
    # the ledger is append-only on PostgreSQL: going back lifts the trigger for this
    # transaction only (dropped before anything is written, created again at the end)
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(
            "DROP TRIGGER billing_ledger_entry_append_only ON billing_ledgerentry"
        )
    Grant = apps.get_model("billing", "AllowanceGrant")
    Bucket = apps.get_model("billing", "Bucket")
    Entry = apps.get_model("billing", "LedgerEntry")
    factors = {unit: factor for unit, factor in UNITS.values()}
    allowances = Bucket.objects.filter(kind="allowance", subscriber__isnull=False)
    Grant.objects.bulk_create(
        Grant(
            pk=b.pk, created_at=b.created_at, updated_at=b.updated_at,
            subscriber_id=b.subscriber_id, service=b.service, scope=b.scope, zone=b.zone,
            quantity=b.opening_amount / factors[b.unit],
            used=max(b.opening_amount - b.balance, Decimal(0)) / factors[b.unit],
            valid_from=b.valid_from, valid_until=b.valid_until, source_key=b.source_key,
            source_description=b.name,
        )
        for b in allowances.iterator(chunk_size=5000)
        if b.opening_amount > 0
    )  # fmt: skip
    Entry.objects.filter(bucket__in=allowances).delete()
    allowances.delete()
    if postgresql:
        schema_editor.execute(
            "CREATE TRIGGER billing_ledger_entry_append_only "
            "BEFORE UPDATE OR DELETE ON billing_ledgerentry "
            "FOR EACH ROW EXECUTE FUNCTION billing_ledger_entry_append_only()"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_balances_and_ledger"),
    ]

    operations = [
        migrations.RunPython(grants_to_buckets, buckets_to_grants),
        migrations.AlterField(
            model_name="usagerecord",
            name="allowance_grant",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="billing.bucket",
            ),
        ),
        migrations.DeleteModel(name="AllowanceGrant"),
    ]
