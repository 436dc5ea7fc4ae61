"""Stock: the number pool, SIM cards and serial-numbered device units, with the audit trail
of every status change."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models

from common.models import TimeStampedModel, money_field
from orders.catalog.models import Device


class Msisdn(TimeStampedModel):
    """A number in the operator's pool: available (or allocated to a partner) → reserved →
    assigned → quarantined → available."""

    class Category(models.TextChoices):
        STANDARD = "standard", "Standard"
        SILVER = "silver", "Silver"
        GOLDEN = "golden", "Golden"

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        ALLOCATED = "allocated", "Allocated to a partner"
        RESERVED = "reserved", "Reserved"
        ASSIGNED = "assigned", "Assigned"
        QUARANTINED = "quarantined", "Quarantined"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.AVAILABLE: frozenset({Status.ALLOCATED, Status.RESERVED, Status.ASSIGNED}),
        Status.ALLOCATED: frozenset({Status.AVAILABLE, Status.RESERVED, Status.ASSIGNED}),
        Status.RESERVED: frozenset({Status.AVAILABLE, Status.ALLOCATED, Status.ASSIGNED}),
        Status.ASSIGNED: frozenset({Status.QUARANTINED}),
        Status.QUARANTINED: frozenset({Status.AVAILABLE}),
    }

    number = models.CharField(max_length=16, unique=True, help_text="E.164")
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.STANDARD)
    price_amount = money_field(default=Decimal("0"))
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    reserved_until = models.DateTimeField(null=True, blank=True)
    reservation_ref = models.CharField(max_length=40, blank=True)
    quarantined_until = models.DateTimeField(null=True, blank=True)
    partner = models.ForeignKey(
        "partners.Partner", models.PROTECT, null=True, blank=True, related_name="msisdns"
    )

    class Meta:
        permissions = [("manage_inventory", "Import and manage numbers, SIMs and devices")]
        indexes = [
            models.Index(
                fields=["category", "number"],
                condition=models.Q(status="available"),
                name="orders_msisdn_available",
            ),
            models.Index(
                fields=["reserved_until"],
                condition=models.Q(status="reserved"),
                name="orders_msisdn_reservations",
            ),
            models.Index(
                fields=["quarantined_until"],
                condition=models.Q(status="quarantined"),
                name="orders_msisdn_quarantine",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_amount__gte=0), name="orders_msisdn_price_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.number


class SimBatch(TimeStampedModel):
    """One imported file of SIM cards."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    file_name = models.CharField(max_length=200, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    card_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class SimCard(TimeStampedModel):
    """A physical SIM: in stock → allocated (to a shop or partner) → assigned → blocked/damaged."""

    class Status(models.TextChoices):
        IN_STOCK = "in_stock", "In stock"
        ALLOCATED = "allocated", "Allocated"
        RESERVED = "reserved", "Reserved"
        ASSIGNED = "assigned", "Assigned"
        BLOCKED = "blocked", "Blocked"
        DAMAGED = "damaged", "Damaged"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.IN_STOCK: frozenset(
            {Status.ALLOCATED, Status.RESERVED, Status.ASSIGNED, Status.DAMAGED}
        ),
        Status.ALLOCATED: frozenset(
            {Status.IN_STOCK, Status.RESERVED, Status.ASSIGNED, Status.DAMAGED}
        ),
        Status.RESERVED: frozenset({Status.IN_STOCK, Status.ALLOCATED, Status.ASSIGNED}),
        Status.ASSIGNED: frozenset({Status.BLOCKED, Status.DAMAGED}),
        Status.BLOCKED: frozenset(),
        Status.DAMAGED: frozenset(),
    }

    iccid = models.CharField("ICCID", max_length=20, unique=True)
    imsi = models.CharField("IMSI", max_length=15, unique=True)
    puk = models.CharField("PUK", max_length=8)
    batch = models.ForeignKey(SimBatch, models.PROTECT, related_name="cards")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_STOCK)
    partner = models.ForeignKey(
        "partners.Partner", models.PROTECT, null=True, blank=True, related_name="sim_cards"
    )
    reserved_until = models.DateTimeField(null=True, blank=True)
    reservation_ref = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "partner"], name="orders_sim_stock")]

    def __str__(self) -> str:
        return self.iccid


class DeviceItem(TimeStampedModel):
    """One serial-numbered unit of a device model: in stock → reserved (for an order) → sold,
    and back in when it is returned; every change is an InventoryEvent."""

    class Status(models.TextChoices):
        IN_STOCK = "in_stock", "In stock"
        RESERVED = "reserved", "Reserved"
        SOLD = "sold", "Sold"
        RETURNED = "returned", "Returned"
        DAMAGED = "damaged", "Damaged"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.IN_STOCK: frozenset({Status.RESERVED, Status.DAMAGED}),
        Status.RESERVED: frozenset({Status.IN_STOCK, Status.SOLD}),
        Status.SOLD: frozenset({Status.RETURNED}),
        Status.RETURNED: frozenset({Status.IN_STOCK, Status.DAMAGED}),
        Status.DAMAGED: frozenset(),
    }

    device = models.ForeignKey(Device, models.PROTECT, related_name="items")
    serial = models.CharField(max_length=60, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_STOCK)
    reserved_until = models.DateTimeField(null=True, blank=True)
    reservation_ref = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["device", "status"], name="orders_device_item_stock")]

    def __str__(self) -> str:
        return self.serial


class InventoryEvent(models.Model):
    """Every status change of a number, a SIM or a device unit: who, when, why (the stock audit
    trail)."""

    msisdn = models.ForeignKey(Msisdn, models.CASCADE, null=True, blank=True, related_name="events")
    sim = models.ForeignKey(SimCard, models.CASCADE, null=True, blank=True, related_name="events")
    device_item = models.ForeignKey(
        DeviceItem, models.CASCADE, null=True, blank=True, related_name="events"
    )
    old_status = models.CharField(max_length=16, blank=True)
    new_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(msisdn__isnull=False, sim__isnull=True, device_item__isnull=True)
                    | models.Q(msisdn__isnull=True, sim__isnull=False, device_item__isnull=True)
                    | models.Q(msisdn__isnull=True, sim__isnull=True, device_item__isnull=False)
                ),
                name="orders_inventory_event_one_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.old_status or '∅'} → {self.new_status}"
