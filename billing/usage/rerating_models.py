"""Re-rating runs: a period of chosen lines priced again with the tariffs now in force, kept as
a preview (old and new charge per record) until someone commits or discards it.

A run is the audit record of a re-rate: who started it and why, which lines and period, the
totals old/new/difference per currency, and who committed or discarded it. `RerateItem` holds
one row per record whose charge was looked at; `record_id` and `started_at` together point at
the partitioned record table (a plain reference, like the record's own references).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models

from common.models import TimeStampedModel, money_field


class RerateRun(TimeStampedModel):
    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        COMMITTED = "committed", "Committed"
        DISCARDED = "discarded", "Discarded"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.PREVIEWED: frozenset({Status.COMMITTED, Status.DISCARDED}),
        Status.COMMITTED: frozenset(),
        Status.DISCARDED: frozenset(),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive: the last day re-rated.")
    subscriber_ids = models.JSONField(default=list, help_text="The lines re-rated (pks).")
    selection = models.CharField(
        max_length=300, blank=True, help_text="How the lines were chosen, in words."
    )
    reason = models.CharField(max_length=200)
    record_count = models.PositiveIntegerField(default=0)
    changed_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(
        default=0, help_text="Records the tariff now refuses: kept at their old charge."
    )
    totals = models.JSONField(
        default=dict,
        blank=True,
        help_text='Currency -> {"old", "new", "difference"} (strings).',
    )
    prepaid_differences = models.JSONField(
        default=dict,
        blank=True,
        help_text="Line pk -> {currency: difference} for prepaid lines, for the balances "
        "issue to credit or debit; nothing is posted for them yet.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        permissions = [
            ("rerate_usage", "Re-rate a period of usage and post the differences"),
            ("view_reconciliation", "See the usage reconciliation report"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="billing_reraterun_period_order",
            )
        ]

    def __str__(self) -> str:
        return f"Re-rate {self.period_start}..{self.period_end} ({self.status})"


class RerateItem(models.Model):
    """One record of a run: its charge before and after."""

    run = models.ForeignKey(RerateRun, models.CASCADE, related_name="items")
    record_id = models.BigIntegerField()
    started_at = models.DateTimeField()
    subscriber_id = models.BigIntegerField()
    payment_type = models.CharField(max_length=8, blank=True)
    service = models.CharField(max_length=5)
    called_number = models.CharField(max_length=80, blank=True)
    rated_units = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    currency = models.CharField(max_length=3)
    old_amount = money_field()
    new_amount = money_field()
    old_tariff_version_id = models.BigIntegerField(null=True, blank=True)
    new_tariff_version_id = models.BigIntegerField(null=True, blank=True)
    new_trace = models.JSONField(default=dict, blank=True)
    problem = models.CharField(
        max_length=300, blank=True, help_text="Why the record keeps its old charge."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "record_id"], name="billing_rerateitem_once")
        ]
        indexes = [
            models.Index(fields=["run", "subscriber_id", "started_at"], name="billing_rerate_line")
        ]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.old_amount} -> {self.new_amount} {self.currency}"

    @property
    def difference(self) -> Decimal:
        return self.new_amount - self.old_amount
