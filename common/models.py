"""The abstract bases every app's models use, and the few tables of the shared plumbing: API
keys, idempotency records and the audit log (and a proxy carrying the two-factor reset
permissions)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class StatusEvent(models.Model):
    """One row per status change of an entity: who, when and why (its audit trail).
    Subclasses add the foreign key to what changed and their ordering."""

    old_status = models.CharField(max_length=16, blank=True)
    new_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.old_status or '∅'} → {self.new_status}"


def money_field(**kwargs: Any) -> models.DecimalField[Any, Any]:
    """An amount at rating precision; its currency is a sibling `currency` column."""
    return models.DecimalField(
        max_digits=18, decimal_places=settings.MONEY_DECIMAL_PLACES, **kwargs
    )


class DecimalSum(models.Sum):
    """SUM of a decimal column, at the column's decimal places on every database. SQLite adds
    decimals as floats and Django hands back the float's digits (0.2 as 0.200000000000000,
    8.00 as 8), which then show on pages and in the API."""

    def get_db_converters(self, connection: Any) -> list[Any]:
        return [*super().get_db_converters(connection), self._at_places]

    def _at_places(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        places: int = getattr(self.output_field, "decimal_places", 0) or 0
        return Decimal(value).quantize(Decimal(1).scaleb(-places))


class ApiKey(TimeStampedModel):
    """A machine client's credential. Only a hash is stored; the key is shown once at issue."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.PROTECT, related_name="api_key")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("manage_api_keys", "Issue and revoke API keys")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """A write API call made with an `Idempotency-Key`, kept so a retry replays its response.

    Keyed per caller, so two clients cannot collide; the fingerprint refuses a key reused for
    a different request. Purged after settings.IDEMPOTENCY_KEY_HOURS by a beat task.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    key = models.CharField(max_length=80)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="crm_idempotency_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code}"


class AuditEvent(models.Model):
    """One change to a record that has no status history of its own (catalog items, accounts,
    partners, API keys): who made it, when, what changed (before and after) and why.

    Append-only: written by common.audit.audit_record inside the change's own transaction, so a
    change and its audit row commit together or not at all.
    """

    content_type = models.ForeignKey(ContentType, models.PROTECT, related_name="+")
    object_pk = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=40)
    changes = models.JSONField(
        default=dict, blank=True, help_text='{"field": [before, after]} for each changed field'
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("view_audit_log", "Read the audit log of every change")]
        indexes = [
            models.Index(
                fields=["content_type", "object_pk", "-created_at"], name="common_audit_object"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_repr}: {self.action}"


class StaffTwoFactor(Authenticator):
    """allauth.mfa's authenticators (TOTP, recovery codes) seen from the staff pages; it exists
    to carry the permissions to reset another person's two-factor sign-in (common.mfa)."""

    class Meta:
        proxy = True
        default_permissions = ()
        permissions = [
            ("reset_csr_two_factor", "Reset the two-factor sign-in of a CSR"),
            ("reset_staff_two_factor", "Reset the two-factor sign-in of any other staff member"),
        ]
