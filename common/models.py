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


def money_field(**kwargs: Any) -> models.DecimalField[Any, Any]:
    """An amount at rating precision; its currency is a sibling `currency` column."""
    return models.DecimalField(
        max_digits=18, decimal_places=settings.MONEY_DECIMAL_PLACES, **kwargs
    )
