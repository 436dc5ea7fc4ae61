"""The product catalog (price plans, add-ons, devices) and the number and SIM inventory."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models

from common.models import StatusEvent, TimeStampedModel, money_field


class Service(models.TextChoices):
    VOICE = "voice", "Voice (minutes)"
    SMS = "sms", "SMS (messages)"
    DATA = "data", "Data (MB)"


class Channel(models.TextChoices):
    CONSOLE = "console", "CSR console"
    PARTNER = "partner", "Partner portal"
    SELFCARE = "selfcare", "Self-care"
    API = "api", "API"


# --- catalog -----------------------------------------------------------------------------------


class PricePlan(TimeStampedModel):
    """One version of a price plan. `code` names the plan across its versions; publishing a
    change makes a new version, and subscribers keep the version they bought until they
    change plan."""

    class PaymentType(models.TextChoices):
        PREPAID = "prepaid", "Prepaid"
        POSTPAID = "postpaid", "Postpaid"

    class Period(models.TextChoices):
        MONTH = "month", "Monthly"
        WEEK = "week", "Weekly"
        DAYS_30 = "30d", "Every 30 days"

    class Proration(models.TextChoices):
        NONE = "none", "None: whole periods only"
        DAILY = "daily", "Daily: by the day within the bill period"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.DRAFT: frozenset({Status.PUBLISHED, Status.RETIRED}),
        Status.PUBLISHED: frozenset({Status.RETIRED}),
        Status.RETIRED: frozenset(),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(max_length=40, help_text="Names the plan across its versions.")
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    payment_type = models.CharField(max_length=16, choices=PaymentType.choices)
    currency = models.CharField(max_length=3)
    recurring_fee_amount = money_field()
    recurring_period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    activation_fee_amount = money_field(default=Decimal("0"))
    proration = models.CharField(max_length=8, choices=Proration.choices, default=Proration.DAILY)
    tariff_code = models.CharField(
        max_length=40, blank=True, help_text="The tariff that rates usage beyond the allowances."
    )
    eligible_customer_kinds = models.JSONField(
        default=list, help_text='Customer kinds that may buy it, e.g. ["individual"]; empty: all.'
    )
    eligible_channels = models.JSONField(
        default=list, help_text='Sales channels, e.g. ["console", "partner"]; empty: all.'
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        permissions = [("manage_catalog", "Create, version and retire catalog items")]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="orders_plan_code_version"),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(status="published"),
                name="orders_plan_one_published_version",
            ),
            models.CheckConstraint(
                condition=models.Q(recurring_fee_amount__gte=0, activation_fee_amount__gte=0),
                name="orders_plan_fees_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="orders_plan_validity_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class AddOn(TimeStampedModel):
    """Bought on top of a plan for a number of days: data boosters, roaming and SMS packs."""

    class Kind(models.TextChoices):
        DATA_BOOSTER = "data_booster", "Data booster"
        ROAMING_PACK = "roaming_pack", "Roaming pack"
        SMS_PACK = "sms_pack", "SMS pack"
        VOICE_PACK = "voice_pack", "Voice pack"

    class Status(models.TextChoices):
        ACTIVE = "active", "On sale"
        RETIRED = "retired", "Retired"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    price_amount = money_field()
    currency = models.CharField(max_length=3)
    validity_days = models.PositiveSmallIntegerField()
    stackable = models.BooleanField(
        default=False, help_text="Whether a line may hold several at once."
    )
    zone = models.CharField(
        max_length=40, blank=True, help_text="Roaming zone or ISO country code, for roaming packs."
    )
    conflicts_with = models.ManyToManyField("self", blank=True, symmetrical=True)
    plan_codes = models.JSONField(
        default=list, help_text="Plan codes it may be bought on; empty: any plan."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_amount__gte=0), name="orders_addon_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(validity_days__gte=1), name="orders_addon_validity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Allowance(models.Model):
    """What a plan or add-on includes, per service and scope."""

    class Scope(models.TextChoices):
        ALL = "all", "Any destination"
        ON_NET = "on_net", "On-net"
        OFF_NET = "off_net", "Off-net"
        ZONE = "zone", "Zone"

    plan = models.ForeignKey(
        PricePlan, models.CASCADE, null=True, blank=True, related_name="allowances"
    )
    addon = models.ForeignKey(
        AddOn, models.CASCADE, null=True, blank=True, related_name="allowances"
    )
    service = models.CharField(max_length=8, choices=Service.choices)
    quantity = models.DecimalField(max_digits=14, decimal_places=2)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.ALL)
    zone = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(plan__isnull=False, addon__isnull=True)
                    | models.Q(plan__isnull=True, addon__isnull=False)
                ),
                name="orders_allowance_belongs_to_one",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="orders_allowance_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.get_service_display()} ({self.get_scope_display()})"


class ChargingTier(models.Model):
    """Usage price by volume band: e.g. the first 100 SMS at one price, then another."""

    plan = models.ForeignKey(PricePlan, models.CASCADE, related_name="tiers")
    service = models.CharField(max_length=8, choices=Service.choices)
    from_quantity = models.DecimalField(max_digits=14, decimal_places=2)
    to_quantity = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Empty: no upper end."
    )
    unit_price_amount = money_field()

    class Meta:
        ordering = ["service", "from_quantity"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(to_quantity__isnull=True)
                | models.Q(to_quantity__gt=models.F("from_quantity")),
                name="orders_tier_band_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(from_quantity__gte=0, unit_price_amount__gte=0),
                name="orders_tier_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.from_quantity} to {self.to_quantity or '∞'}"


class Device(TimeStampedModel):
    """A sellable device model (router, modem, handset); each unit is a DeviceItem."""

    class Kind(models.TextChoices):
        HANDSET = "handset", "Handset"
        ROUTER = "router", "Router"
        MODEM = "modem", "Modem"
        ACCESSORY = "accessory", "Accessory"

    class Status(models.TextChoices):
        ACTIVE = "active", "On sale"
        RETIRED = "retired", "Retired"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sku = models.CharField("SKU", max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    price_amount = money_field()
    currency = models.CharField(max_length=3)
    included_with_plan_codes = models.JSONField(
        default=list, help_text="Plan codes that include this device at no charge."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_amount__gte=0), name="orders_device_price_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class DeviceItem(TimeStampedModel):
    """One serial-numbered unit in stock."""

    class Status(models.TextChoices):
        IN_STOCK = "in_stock", "In stock"
        RESERVED = "reserved", "Reserved"
        SOLD = "sold", "Sold"
        RETURNED = "returned", "Returned"
        DAMAGED = "damaged", "Damaged"

    device = models.ForeignKey(Device, models.PROTECT, related_name="items")
    serial = models.CharField(max_length=60, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_STOCK)
    reserved_until = models.DateTimeField(null=True, blank=True)
    reservation_ref = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["device", "status"], name="orders_device_item_stock")]

    def __str__(self) -> str:
        return self.serial


# --- number and SIM inventory -------------------------------------------------------------------


class Msisdn(TimeStampedModel):
    """A number in the operator's pool: available → reserved → assigned → quarantined → …"""

    class Category(models.TextChoices):
        STANDARD = "standard", "Standard"
        SILVER = "silver", "Silver"
        GOLDEN = "golden", "Golden"

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        RESERVED = "reserved", "Reserved"
        ASSIGNED = "assigned", "Assigned"
        QUARANTINED = "quarantined", "Quarantined"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.AVAILABLE: frozenset({Status.RESERVED, Status.ASSIGNED}),
        Status.RESERVED: frozenset({Status.AVAILABLE, Status.ASSIGNED}),
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


class InventoryEvent(models.Model):
    """Every status change of a number or SIM: who, when, why (the stock audit trail)."""

    msisdn = models.ForeignKey(Msisdn, models.CASCADE, null=True, blank=True, related_name="events")
    sim = models.ForeignKey(SimCard, models.CASCADE, null=True, blank=True, related_name="events")
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
                    models.Q(msisdn__isnull=False, sim__isnull=True)
                    | models.Q(msisdn__isnull=True, sim__isnull=False)
                ),
                name="orders_inventory_event_one_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.old_status or '∅'} → {self.new_status}"


# --- orders -------------------------------------------------------------------------------------


class Order(TimeStampedModel):
    """Every change to a subscriber's services: quoted as a draft, then submitted and completed
    in one transaction that applies all its effects exactly once."""

    class Type(models.TextChoices):
        NEW_CONNECTION = "new_connection", "New connection"
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
        NEXT_BILL_DATE = "next_bill_date", "At the next bill date"

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
    effective = models.CharField(max_length=16, choices=Effective.choices, default=Effective.NOW)
    effective_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("place_order", "Place, submit and cancel orders")]
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
