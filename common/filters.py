"""Query-string filters every API list shares (django-filter)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms


class UtcIsoDateTimeField(forms.DateTimeField):
    """An ISO 8601 date-time with any offset Python accepts (even ±23:59), compared in UTC: the
    database is never handed an offset it cannot store. A time without an offset is the
    operator's local time."""

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        return parsed.astimezone(UTC) if parsed is not None else None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
