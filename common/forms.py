"""Form plumbing every front end shares: service errors onto fields, date inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from common.errors import ApplicationError

DATE_ERROR = "Enter a real date as YYYY-MM-DD, for example 2026-01-31."


def service_errors_to_form(
    form: forms.Form, error: ApplicationError, aliases: Mapping[str, str] | None = None
) -> None:
    """Put a service's field errors on the form's fields (`aliases` renames the service's field
    names to the form's); errors about anything else go above the form."""
    aliases = aliases or {}
    for name, messages in error.fields.items():
        target = aliases.get(name, name)
        for message in messages:
            form.add_error(target if target in form.fields else None, message)
    if not error.fields:
        form.add_error(None, error.message)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: str, **kwargs: Any) -> forms.DateField:
    kwargs.setdefault("required", False)
    return forms.DateField(
        label=label,
        widget=DateInput(),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": DATE_ERROR},
        **kwargs,
    )
