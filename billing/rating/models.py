"""Tariffs as versioned records: a tariff (e.g. postpaid-standard) and its versions, each one a
whole tariff plan (billing.rating.plan.TariffPlan as JSON).

A published version is never edited: what rated a call must still say how it rated it. A
correction is a new draft copied from it, published with a later `valid_from`; the version in
force at a call's time is the published one with the latest `valid_from` at or before it.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models

from common.models import TimeStampedModel

# The tenant every tariff of this operator is rated under (CGRateS's Tenant column).
TENANT = "telecrm"


class Category(models.TextChoices):
    """What is rated (CGRateS's Category), and the base unit its quantities are counted in."""

    CALL = "call", "Voice call"
    SMS = "sms", "SMS"
    MMS = "mms", "MMS"
    DATA = "data", "Data"


# The base unit of each category's quantities (billing.rating.plan): see CATEGORY_UNITS.
CATEGORY_UNITS: dict[str, str] = {
    Category.CALL: "nanoseconds",
    Category.SMS: "messages",
    Category.MMS: "messages",
    Category.DATA: "bytes",
}


class Tariff(TimeStampedModel):
    """What a price plan points at to rate usage beyond its allowances."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    currency = models.CharField(max_length=3)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["code"]
        permissions = [
            ("view_tariffs", "See tariffs, their versions and what a call would cost"),
            ("manage_tariffs", "Create, edit, publish, retire, import and export tariffs"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class TariffVersion(TimeStampedModel):
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
    tariff = models.ForeignKey(Tariff, models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    valid_from = models.DateTimeField(
        null=True, blank=True, help_text="From when it rates calls (set when published)."
    )
    content = models.JSONField(default=dict, help_text="TariffPlan.to_dict()")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tariff", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "number"], name="billing_tariff_version"),
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(valid_from__isnull=False),
                name="billing_tariff_version_published_has_valid_from",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tariff", "valid_from"],
                condition=models.Q(status="published"),
                name="billing_tariff_timeline",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tariff.code} v{self.number}"


class TariffVersionEvent(models.Model):
    """Every change of a version: created, edited (which section and row), published, retired,
    imported; who, when and why."""

    version = models.ForeignKey(TariffVersion, models.CASCADE, related_name="events")
    action = models.CharField(max_length=24)
    old_status = models.CharField(max_length=16, blank=True)
    new_status = models.CharField(max_length=16, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.version}: {self.action}"
