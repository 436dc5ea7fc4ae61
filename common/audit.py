"""The audit log of changes to records that have no status history of their own: catalog items,
accounts, partners, API keys. One row per change: who, when, what changed (before and after)
and why. Written by the service that makes the change, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from common.models import AuditEvent
from common.permissions import CommonPerm
from common.types import Actor, UserLike


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


def changes_created(after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{"field": [None, value]} for a new record: every field that was given a value (empty
    ones are left out, so the row says what the record was created with)."""
    return {
        name: [None, _json_value(value)]
        for name, value in after.items()
        if _json_value(value) not in (None, "", [], {})
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


def audit_events_for_many(instances: Sequence[models.Model]) -> QuerySet[AuditEvent]:
    """The audit trails of several records of one model (e.g. every version of a plan, every
    account of a customer) in one query, newest first."""
    if not instances:
        return AuditEvent.objects.none()
    return (
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(instances[0], for_concrete_model=False),
            object_pk__in=[str(instance.pk) for instance in instances],
        )
        .select_related("actor", "content_type")
        .order_by("-created_at", "-pk")
    )


# --- the audit log page -------------------------------------------------------------------------


def audit_event_qs_for(actor: Actor) -> QuerySet[AuditEvent]:
    """Every change, newest first, for those who may read the audit log; nothing for others."""
    if not actor.has_perm(CommonPerm.VIEW_AUDIT_LOG):
        return AuditEvent.objects.none()
    return AuditEvent.objects.select_related("actor", "content_type").order_by("-created_at", "-pk")


def audit_events_search(
    events: QuerySet[AuditEvent],
    *,
    kind: ContentType | None = None,
    actor_email: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """Narrow the log: one kind of record, an actor (part of their email), one action, and
    days from and to (both included, in the operator's time zone)."""
    if kind is not None:
        events = events.filter(content_type=kind)
    if actor_email.strip():
        events = events.filter(actor__email__icontains=actor_email.strip())
    if action:
        events = events.filter(action=action)
    if date_from is not None:
        events = events.filter(created_at__date__gte=date_from)
    if date_to is not None:
        events = events.filter(created_at__date__lte=date_to)
    return events


def audit_kinds() -> list[tuple[ContentType, str]]:
    """The kinds of record the log holds changes of, with a readable name, by name."""
    kinds = ContentType.objects.filter(
        pk__in=AuditEvent.objects.values("content_type_id").distinct()
    )
    named = []
    for kind in kinds:
        model = kind.model_class()
        named.append((kind, str(model._meta.verbose_name) if model else kind.model))
    return sorted(named, key=lambda pair: pair[1].lower())


def audit_actions() -> list[str]:
    """The actions the log holds ("created", "updated", "retired" …), alphabetically."""
    return list(AuditEvent.objects.values_list("action", flat=True).distinct().order_by("action"))
