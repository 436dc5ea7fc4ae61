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

    class Step(models.TextChoices):
        EVENT = "event", "Event"
        INITIATE = "initiate", "Session initiate"
        UPDATE = "update", "Session update"
        TERMINATE = "terminate", "Session terminate"

    client = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    request_id = models.CharField(max_length=120)
    fingerprint = models.CharField(max_length=64)
    step = models.CharField(max_length=10, choices=Step.choices, default=Step.EVENT)
    session = models.ForeignKey(
        "billing.ChargingSession", models.PROTECT, null=True, blank=True, related_name="requests"
    )
    granted_units = models.DecimalField(max_digits=22, decimal_places=4, default=Decimal("0"))
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
    # when a granted prepaid event became a usage record (billing.usage)
    usage_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "request_id"], name="billing_charging_request_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(step="event", result="granted", usage_recorded_at=None),
                name="billing_charging_to_record",
            )
        ]
        permissions = [("charge_online", "Ask for online charging decisions (network elements)")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.result} {self.reason}".strip()


class ChargingSession(models.Model):
    """A voice call or data session charged as it happens, in the shape of Diameter Gy's
    credit control: initiate reserves a quota, update commits what was used and reserves more,
    terminate commits the last use and releases the rest. A session not heard from before
    `expires_at` is closed by a scheduled task and its reservations released."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        EXPIRED = "expired", "Expired"

    client = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    session_id = models.CharField(max_length=120)
    subscriber = models.ForeignKey("crm.Subscriber", models.PROTECT, related_name="+")
    service = models.CharField(max_length=8)  # voice (seconds) or data (bytes)
    destination = models.CharField(max_length=100, blank=True)  # called number, or APN
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    used = models.DecimalField(max_digits=22, decimal_places=4, default=Decimal("0"))
    charged = models.DecimalField(max_digits=22, decimal_places=4, default=Decimal("0"))
    currency = models.CharField(max_length=3, blank=True)
    # what the reservation now held covers: units of usage, and in money (when from money)
    quota = models.DecimalField(max_digits=22, decimal_places=4, default=Decimal("0"))
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    usage_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "session_id"], name="billing_charging_session_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="open"),
                name="billing_charging_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_id} ({self.get_status_display()})"


class Reservation(models.Model):
    """What a session holds of one bucket (added to the bucket's `reserved`)."""

    session = models.ForeignKey(ChargingSession, models.CASCADE, related_name="reservations")
    bucket = models.ForeignKey("billing.Bucket", models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=22, decimal_places=4)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="billing_reservation_held"
            ),
            models.UniqueConstraint(fields=["session", "bucket"], name="billing_reservation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of bucket {self.bucket_id}"
