"""The audit log of changes to records that have no status history of their own: catalog items,
accounts, partners, API keys. One row per change: who, when, what changed (before and after)
and why. Written by the service that makes the change, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from common.models import AuditEvent
from common.types import UserLike


def _json_value(value: Any) -> Any:
    """A value as the audit log keeps it: JSON, exact (amounts as strings, never floats)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return _json_value(value.value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [_json_value(v) for v in value]
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The audited fields of `instance` as they are now; take one before and one after."""
    return {name: _json_value(getattr(instance, name)) for name in fields}


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{"field": [before, after]} for every field whose value differs."""
    names = list(dict.fromkeys([*before, *after]))
    return {
        name: [_json_value(before.get(name)), _json_value(after.get(name))]
        for name in names
        if _json_value(before.get(name)) != _json_value(after.get(name))
    }


def audit_record(
    *,
    actor: UserLike,
    instance: models.Model,
    action: str,
    changes: Mapping[str, list[Any]] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Record one change of `instance`. `action` says what happened in a word or two
    ("created", "updated", "published", "retired", "revoked", "moved"); `changes` is what
    changed, {"field": [before, after]} (see changes_between)."""
    if actor is None or not getattr(actor, "pk", None):
        raise ValueError("An audited change needs the user who made it (or the system actor).")
    return AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
        object_pk=str(instance.pk),
        object_repr=str(instance)[:200],
        action=action[:40],
        changes=dict(changes or {}),
        actor=actor,
        reason=(reason or "").strip()[:200],
    )


def audit_events_for(instance: models.Model) -> QuerySet[AuditEvent]:
    """The audit trail of one record, newest first."""
    return (
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
            object_pk=str(instance.pk),
        )
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )
