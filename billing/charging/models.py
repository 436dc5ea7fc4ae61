"""What network elements asked the online charging system and what it answered.

Every request carries the client's own id; (client, request id) is unique, so a repeated
request finds the first answer here and changes nothing."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class ChargingRequest(models.Model):
    class Result(models.TextChoices):
        GRANTED = "granted", "Granted"
        DENIED = "denied", "Denied"

    client = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    request_id = models.CharField(max_length=120)
    fingerprint = models.CharField(max_length=64)
    subscriber = models.ForeignKey(
        "crm.Subscriber", models.PROTECT, null=True, blank=True, related_name="+"
    )
    service = models.CharField(max_length=8)
    quantity = models.PositiveIntegerField(default=1)
    destination = models.CharField(max_length=40, blank=True)
    occurred_at = models.DateTimeField()
    result = models.CharField(max_length=8, choices=Result.choices)
    reason = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    units_charged = models.DecimalField(max_digits=22, decimal_places=4, default=Decimal("0"))
    amount_charged = models.DecimalField(max_digits=22, decimal_places=4, default=Decimal("0"))
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "request_id"], name="billing_charging_request_once"
            )
        ]
        permissions = [("charge_online", "Ask for online charging decisions (network elements)")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.result} {self.reason}".strip()
