"""Abstract bases only: common owns no tables."""

from __future__ import annotations

from typing import Any

from django.conf import settings
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
