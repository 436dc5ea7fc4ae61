"""The one error type services raise for a refused business operation."""

from __future__ import annotations


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


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""
