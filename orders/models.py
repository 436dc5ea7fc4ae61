"""Orders: every change to a line's services, with its lines, status events and the add-ons
a line holds. The catalog's and the inventory's models live in their sub-packages and are
registered with the orders app from here."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models

from common.models import StatusEvent, TimeStampedModel, money_field
from orders.catalog.models import (  # noqa: F401  (registers the catalog's models)
    AddOn,
    Allowance,
    Channel,
    ChargingTier,
    Device,
    PricePlan,
    Service,
)
from orders.inventory.models import (  # noqa: F401  (registers the inventory's models)
    DeviceItem,
    InventoryEvent,
    Msisdn,
    SimBatch,
    SimCard,
)


class Order(TimeStampedModel):
    """Every change to a subscriber's services: quoted as a draft, then submitted and completed
    in one transaction that applies all its effects exactly once."""

    class Type(models.TextChoices):
        NEW_CONNECTION = "new_connection", "New connection"
        ACTIVATE = "activate", "Activate"
        PLAN_CHANGE = "plan_change", "Plan change"
        ADD_ON = "add_on", "Add-on purchase"
        SIM_SWAP = "sim_swap", "SIM swap"
        SUSPEND = "suspend", "Suspend"
        RESUME = "resume", "Resume"
        TERMINATE = "terminate", "Terminate"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.DRAFT: frozenset({Status.SUBMITTED, Status.CANCELLED}),
        Status.SUBMITTED: frozenset({Status.IN_PROGRESS, Status.CANCELLED, Status.FAILED}),
        Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.FAILED}),
        Status.COMPLETED: frozenset(),
        Status.FAILED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    class Effective(models.TextChoices):
        NOW = "now", "Now"
        NEXT_BILL_DATE = "next_bill_date", "At the end of the current period"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=20, unique=True)
    type = models.CharField(max_length=16, choices=Type.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    customer = models.ForeignKey("crm.Customer", models.PROTECT, related_name="orders")
    account = models.ForeignKey("crm.Account", models.PROTECT, related_name="orders")
    subscriber = models.ForeignKey(
        "crm.Subscriber", models.PROTECT, null=True, blank=True, related_name="orders"
    )
    plan = models.ForeignKey(
        PricePlan, models.PROTECT, null=True, blank=True, related_name="orders"
    )
    msisdn = models.ForeignKey(Msisdn, models.PROTECT, null=True, blank=True, related_name="+")
    sim = models.ForeignKey(SimCard, models.PROTECT, null=True, blank=True, related_name="+")
    ported_msisdn = models.CharField(
        max_length=16, blank=True, help_text="E.164 of a number brought from another operator."
    )
    donor_operator = models.CharField(
        max_length=80, blank=True, help_text="The operator a ported number comes from."
    )
    partner = models.ForeignKey(
        "partners.Partner",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        help_text="The partner that sold it (its stock is what the order takes).",
    )
    quote_token = models.UUIDField(
        null=True,
        blank=True,
        help_text="The form that asked for this quote: asking twice gives the same draft.",
    )
    effective = models.CharField(max_length=16, choices=Effective.choices, default=Effective.NOW)
    effective_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("place_order", "Place, submit and cancel orders")]
        constraints = [
            models.UniqueConstraint(
                fields=["placed_by", "quote_token"],
                condition=models.Q(quote_token__isnull=False),
                name="orders_order_one_draft_per_quote_form",
            )
        ]
        indexes = [
            models.Index(
                fields=["effective_on"],
                condition=models.Q(status="submitted"),
                name="orders_order_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_type_display()}"

    def allowed_transitions(self) -> frozenset[str]:
        return self.TRANSITIONS[self.Status(self.status)]


class OrderLine(models.Model):
    """What the order sells or changes, with its one-time and recurring amounts."""

    class Kind(models.TextChoices):
        PLAN = "plan", "Price plan"
        ADD_ON = "add_on", "Add-on"
        DEVICE = "device", "Device"
        NUMBER = "number", "Number"
        SIM = "sim", "SIM"
        ACTIVATION_FEE = "activation_fee", "Activation fee"
        PRORATION_CREDIT = "proration_credit", "Proration credit"
        PRORATION_DEBIT = "proration_debit", "Proration debit"
        SERVICE = "service", "Service change"

    order = models.ForeignKey(Order, models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=200)
    plan = models.ForeignKey(PricePlan, models.PROTECT, null=True, blank=True, related_name="+")
    addon = models.ForeignKey(AddOn, models.PROTECT, null=True, blank=True, related_name="+")
    device = models.ForeignKey(Device, models.PROTECT, null=True, blank=True, related_name="+")
    device_item = models.ForeignKey(
        DeviceItem, models.PROTECT, null=True, blank=True, related_name="+"
    )
    one_time_amount = money_field(default=Decimal("0"), help_text="Signed: credits are negative.")
    recurring_amount = money_field(default=Decimal("0"))
    currency = models.CharField(max_length=3)
    details = models.JSONField(default=dict, blank=True, help_text="e.g. the proration formula")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.description


class OrderEvent(StatusEvent):
    order = models.ForeignKey(Order, models.CASCADE, related_name="events")

    class Meta:
        ordering = ["created_at", "pk"]


class SubscriberAddOn(TimeStampedModel):
    """An add-on a line holds, from the order that bought it until it expires."""

    subscriber = models.ForeignKey("crm.Subscriber", models.CASCADE, related_name="addons")
    addon = models.ForeignKey(AddOn, models.PROTECT, related_name="holdings")
    order = models.ForeignKey(Order, models.PROTECT, related_name="+")
    activated_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["subscriber", "expires_at"], name="orders_addon_holding")]

    def __str__(self) -> str:
        return f"{self.addon} until {self.expires_at:%Y-%m-%d}"
