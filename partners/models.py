from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models

from common.models import TimeStampedModel


class Partner(TimeStampedModel):
    """A reseller, dealer or distributor; partners form a tree (distributor → dealers).

    `path` is the materialised path of codes from the root ("DIST1/DEAL7/"), so a partner's
    whole subtree is one indexed prefix filter.
    """

    class Kind(models.TextChoices):
        DISTRIBUTOR = "distributor", "Distributor"
        DEALER = "dealer", "Dealer"
        RESELLER = "reseller", "Reseller"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.ACTIVE: frozenset({Status.SUSPENDED}),
        Status.SUSPENDED: frozenset({Status.ACTIVE}),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.RESELLER)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        permissions = [
            ("manage_partners", "Create, change, move and suspend partners and their users")
        ]
        indexes = [
            models.Index(fields=["path"], name="partners_path", opclasses=["varchar_pattern_ops"])
        ]

    def __str__(self) -> str:
        return self.name


class PartnerUser(TimeStampedModel):
    """Links a (never staff) user to the partner whose staff they are.

    A user belongs to at most one partner. Removing them keeps the row, inactive, so the link
    is gone (they no longer act for the partner) while the partner's history still names them;
    adding them again, to this partner or another, reactivates the same row.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="partner_membership"
    )
    partner = models.ForeignKey(Partner, models.PROTECT, related_name="members")
    is_active = models.BooleanField(
        default=True, help_text="False once removed: the user no longer acts for the partner."
    )

    def __str__(self) -> str:
        return f"{self.user} @ {self.partner}"
