"""Buckets and their ledger (in the shape of TM Forum's prepay balance API, TMF654).

A bucket holds money (a main or bonus balance) or units of a service (voice seconds, messages,
data bytes) for one line, or for every line of an account. Its `balance` is the sum of its
ledger entries: each change is one `LedgerEntry`, written in the same transaction as the
balance, and never changed afterwards (on PostgreSQL a trigger refuses UPDATE and DELETE).
`reserved` is what open charging sessions hold; what may still be spent is
balance - reserved - lowest_balance, and the database refuses any row where that goes negative.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_DOWN, Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.models import TimeStampedModel


def amount_field(**kwargs: Any) -> models.DecimalField[Any, Any]:
    """Money at rating precision or units (bytes run to twelve digits and more), signed."""
    return models.DecimalField(max_digits=22, decimal_places=4, **kwargs)


class Bucket(TimeStampedModel):
    class Unit(models.TextChoices):
        MONEY = "money", "Money"
        SECONDS = "seconds", "Voice seconds"
        MESSAGES = "messages", "Messages"
        BYTES = "bytes", "Data bytes"

    class Kind(models.TextChoices):
        MAIN = "main", "Main balance"
        BONUS = "bonus", "Bonus"
        ALLOWANCE = "allowance", "Allowance"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        EXPIRED = "expired", "Expired"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.ACTIVE: frozenset({Status.SUSPENDED, Status.EXPIRED}),
        Status.SUSPENDED: frozenset({Status.ACTIVE, Status.EXPIRED}),
        Status.EXPIRED: frozenset(),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey("crm.Account", models.PROTECT, related_name="buckets")
    # None: shared by every line of the account
    subscriber = models.ForeignKey(
        "crm.Subscriber", models.PROTECT, null=True, blank=True, related_name="buckets"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    unit = models.CharField(max_length=8, choices=Unit.choices)
    currency = models.CharField(max_length=3, blank=True)  # money only
    # what usage it pays for: "" any (money), else voice / sms / data; scope and zone as the
    # plan allowance it came from (all, onnet, offnet, zone)
    service = models.CharField(max_length=8, blank=True)
    scope = models.CharField(max_length=8, default="all")
    zone = models.CharField(max_length=40, blank=True)
    priority = models.PositiveSmallIntegerField(default=100)  # lower is spent first
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    opening_amount = amount_field(default=Decimal("0"))  # what it was opened with
    balance = amount_field(default=Decimal("0"))
    reserved = amount_field(default=Decimal("0"))
    lowest_balance = amount_field(default=Decimal("0"))
    name = models.CharField(max_length=200)
    # where it came from ("plan:ORD-…:3", "main:ACC-…"): opening the same bucket twice is a no-op
    source_key = models.CharField(max_length=80, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=models.F("reserved") + models.F("lowest_balance")),
                name="billing_bucket_never_overspent",
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__gte=0, lowest_balance__lte=0),
                name="billing_bucket_reserved_and_floor",
            ),
            models.CheckConstraint(
                condition=(
                    (models.Q(unit="money") & ~models.Q(currency=""))
                    | (~models.Q(unit="money") & models.Q(currency=""))
                ),
                name="billing_bucket_currency_only_for_money",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="billing_bucket_validity_order",
            ),
        ]
        indexes = [
            models.Index(fields=["subscriber", "unit", "status"], name="billing_bucket_line"),
            models.Index(
                fields=["valid_until"],
                condition=models.Q(status="active", valid_until__isnull=False),
                name="billing_bucket_to_expire",
            ),
        ]
        permissions = [
            ("view_balances", "See balances, buckets and their ledger"),
            ("adjust_balances", "Adjust balances and transfer between a customer's lines"),
            ("approve_adjustments", "Approve balance adjustments above the limit"),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.balance} {self.unit_label}"

    @property
    def unit_label(self) -> str:
        return self.currency if self.unit == self.Unit.MONEY else self.get_unit_display()

    # Allowances are counted by people (and by file rating, tiers and the itemised usage) in
    # minutes, messages and MB; a bucket holds seconds, messages and bytes.
    COUNTED_IN: ClassVar[dict[str, tuple[Decimal, str]]] = {
        Unit.SECONDS: (Decimal(60), "min"),
        Unit.MESSAGES: (Decimal(1), "SMS"),
        Unit.BYTES: (Decimal(1_000_000), "MB"),
    }
    SERVICE_LABELS: ClassVar[dict[str, str]] = {"voice": "Voice", "sms": "SMS", "data": "Data"}

    @property
    def counted_unit(self) -> str:
        """The unit people count this bucket in: min, SMS, MB, or the currency."""
        counted = self.COUNTED_IN.get(self.unit)
        return counted[1] if counted else self.currency

    def _counted(self, amount: Decimal) -> Decimal:
        counted = self.COUNTED_IN.get(self.unit)
        value = amount / counted[0] if counted else amount
        return value.quantize(Decimal("0.01"), ROUND_DOWN)

    @property
    def quantity(self) -> Decimal:
        """What it was opened with, counted in `counted_unit`."""
        return self._counted(self.opening_amount)

    @property
    def remaining(self) -> Decimal:
        """What is left, counted in `counted_unit` (never below zero)."""
        return self._counted(max(self.balance, Decimal("0")))

    @property
    def used(self) -> Decimal:
        return max(self.quantity - self.remaining, Decimal("0"))

    @property
    def service_label(self) -> str:
        return self.SERVICE_LABELS.get(self.service, self.get_kind_display())

    @property
    def available(self) -> Decimal:
        """What may still be spent: the balance less what sessions hold, down to the floor."""
        return self.balance - self.reserved - self.lowest_balance


class LedgerEntry(models.Model):
    """One change of one bucket's balance. Written once; the bucket's balance is their sum."""

    class Kind(models.TextChoices):
        OPENING = "opening", "Opening"
        TOP_UP = "top_up", "Top-up"
        VOUCHER = "voucher", "Voucher"
        USAGE = "usage", "Usage"
        ADJUSTMENT = "adjustment", "Adjustment"
        TRANSFER = "transfer", "Transfer"
        EXPIRY = "expiry", "Expiry"
        REFUND = "refund", "Refund"
        SETTLEMENT = "settlement", "Owed usage settled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bucket = models.ForeignKey(Bucket, models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = amount_field()  # signed: credits positive
    unit = models.CharField(max_length=8, choices=Bucket.Unit.choices)
    currency = models.CharField(max_length=3, blank=True)
    balance_after = amount_field()
    reference = models.CharField(max_length=120, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount=0), name="billing_ledger_entry_moves_something"
            ),
        ]
        indexes = [models.Index(fields=["bucket", "created_at"], name="billing_ledger_bucket")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+} {self.currency or self.unit}"


class BalanceAdjustment(TimeStampedModel):
    """A person's correction of a balance, with the reason. Above the approval limit it waits
    for a supervisor (not the one who asked); the ledger entry is written when it is applied."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.PENDING: frozenset({Status.APPLIED, Status.REJECTED}),
        Status.APPLIED: frozenset(),
        Status.REJECTED: frozenset(),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bucket = models.ForeignKey(Bucket, models.PROTECT, related_name="adjustments")
    amount = amount_field()
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=200, blank=True)
    entry = models.OneToOneField(
        LedgerEntry, models.PROTECT, null=True, blank=True, related_name="adjustment"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount=0), name="billing_adjustment_moves_something"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="billing_adjustment_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount:+} on {self.bucket.name} ({self.get_status_display()})"


class BalanceDebt(TimeStampedModel):
    """Usage that already happened (rated from files) which the line's money buckets could not
    cover: owed, never dropped. Settled by later top-ups."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SETTLED = "settled", "Settled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey("crm.Account", models.PROTECT, related_name="balance_debts")
    subscriber = models.ForeignKey(
        "crm.Subscriber", models.PROTECT, null=True, blank=True, related_name="balance_debts"
    )
    amount = amount_field()
    currency = models.CharField(max_length=3)
    settled_amount = amount_field(default=Decimal("0"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    reference = models.CharField(max_length=120)
    reason = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, settled_amount__gte=0)
                & models.Q(settled_amount__lte=models.F("amount")),
                name="billing_debt_amounts",
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscriber", "created_at"],
                condition=models.Q(status="open"),
                name="billing_debt_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount - self.settled_amount} {self.currency} owed ({self.reference})"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.settled_amount
