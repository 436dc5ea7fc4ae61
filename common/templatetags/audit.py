"""How the audit log shows a change: `{{ name|audit_field }}: {{ before|audit_value }} →
{{ after|audit_value }}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter(name="audit_field")
def audit_field(name: str) -> str:
    """A field's name as people read it: "credit_limit_amount" → "credit limit amount"."""
    return str(name).replace("_", " ")


@register.filter(name="audit_value")
def audit_value(value: Any) -> str:
    """A before or after value as the log keeps it (JSON), for reading: nothing is "—", a list
    is its items joined, an empty list is "none"."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(audit_value(item) for item in value) if value else "none"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {audit_value(item)}" for key, item in value.items())
    return str(value)
