"""The billing app's models: charges waiting for the bill here; balances, tariffs and usage in
their sub-packages, registered under the "billing" app."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from billing.rating.models import Tariff, TariffVersion, TariffVersionEvent  # noqa: F401
from common.models import TimeStampedModel, money_field


class Charge(TimeStampedModel):
    """A one-time or prorated amount posted for the account's next bill.

    `source_key` is unique: whatever posts a charge names it after its origin (an order line),
    so applying the same order twice can never charge twice.
    """

    class Kind(models.TextChoices):
        ONE_TIME = "one_time", "One-time"
        RECURRING = "recurring", "Recurring"
        PRORATION_CREDIT = "proration_credit", "Proration credit"
        PRORATION_DEBIT = "proration_debit", "Proration debit"
        USAGE_ADJUSTMENT = "usage_adjustment", "Usage adjustment (re-rating)"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the bill"
        INVOICED = "invoiced", "Invoiced"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey("crm.Account", models.PROTECT, related_name="charges")
    subscriber = models.ForeignKey(
        "crm.Subscriber", models.PROTECT, null=True, blank=True, related_name="charges"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=200)
    amount = money_field(help_text="Signed: a credit is negative.")
    currency = models.CharField(max_length=3)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="e.g. the proration formula")
    source_key = models.CharField(max_length=80, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["account", "created_at"],
                condition=models.Q(status="pending"),
                name="billing_charge_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount} {self.currency}"


from billing.balances.models import (  # noqa: E402, F401  (registered under the "billing" app)
    BalanceAdjustment,
    BalanceDebt,
    Bucket,
    LedgerEntry,
)
from billing.charging.models import (  # noqa: E402, F401
    ChargingRequest,
    ChargingSession,
    Reservation,
)
from billing.usage.models import (  # noqa: E402, F401
    UsageBatch,
    UsageBatchChunk,
    UsageCounter,
    UsageMapping,
    UsageRecord,
)
from billing.usage.rerating_models import RerateItem, RerateRun  # noqa: E402, F401
