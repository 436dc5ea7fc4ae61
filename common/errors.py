"""The error types services raise for a refused business operation, and the collector that
reports every field at fault at once."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    """A business rule refused the operation; the message is safe to show to a user.

    `fields` names the input fields at fault so forms and the API can point at them.
    """

    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}


class InvalidTransition(ApplicationError):
    code = "invalid_transition"


class CurrencyMismatch(ApplicationError, ValueError):
    """Two amounts in different currencies were combined, or a price does not match the
    currency it is charged in. Refused, never relabelled."""

    code = "currency_mismatch"


class FieldErrors:
    """Collects every field's error so a form shows them all at once, not one per submit."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def extend(self, error: ApplicationError) -> None:
        """Take over a refused service's field errors (or its message, on no field)."""
        if not error.fields:
            self.add("non_field_errors", error.message)
        for name, messages in error.fields.items():
            for message in messages:
                self.add(name, message)

    def clean(self, name: str, cleaner: Callable[[str], str], raw: str) -> str:
        try:
            return cleaner(raw)
        except ValidationError as exc:
            for message in exc.messages:
                self.add(name, message)
            return raw

    def raise_if_any(self, message: str = "Some fields are not valid.") -> None:
        if self.fields:
            raise ApplicationError(message, code="invalid", fields=self.fields)
