"""What crm's services share: model validation as field errors, and readable numbers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F

from common.errors import ApplicationError
from crm.models import NumberSequence


def full_clean(instance: Any, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ApplicationError(
            "Some fields are not valid.",
            code="invalid",
            fields={k: list(v) for k, v in exc.message_dict.items()},
        ) from exc


def sequence_take(name: str, count: int = 1) -> int:
    """Reserve `count` numbers of sequence `name`; returns the first. Call in a transaction."""
    NumberSequence.objects.get_or_create(name=name)
    sequence = NumberSequence.objects.select_for_update().get(name=name)
    NumberSequence.objects.filter(name=name).update(last_value=F("last_value") + count)
    return sequence.last_value + 1


def readable_number(prefix: str) -> str:
    return f"{prefix}-{sequence_take(prefix.lower()):08d}"
