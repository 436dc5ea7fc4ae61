"""The product catalog: versioned price plans with their allowances and charging tiers,
add-ons and device models."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models

from common.models import TimeStampedModel, money_field


class Service(models.TextChoices):
    VOICE = "voice", "Voice (minutes)"
    SMS = "sms", "SMS (messages)"
    DATA = "data", "Data (MB)"


class Channel(models.TextChoices):
    CONSOLE = "console", "CSR console"
    PARTNER = "partner", "Partner portal"
    SELFCARE = "selfcare", "Self-care"
    API = "api", "API"


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
    # A string reference: the catalog sits below billing and never imports it.
    tariff = models.ForeignKey(
        "billing.Tariff",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="plans",
        help_text="The tariff that rates usage beyond the allowances (none: usage is refused).",
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
