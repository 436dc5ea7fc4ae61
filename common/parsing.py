"""Parsing helpers for service input: each one reads a raw value (from a form, an API body or
a file), reports a problem on the named field, and returns the clean value or None.

Services call them with one `FieldErrors`, so every field at fault is reported in one go.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import TextChoices

from common.errors import ApplicationError, FieldErrors

# Amounts above this are typing mistakes, and would not fit the 18-digit columns anyway.
AMOUNT_MAX = Decimal("1000000")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


def decimal_parse(
    raw: Any,
    name: str,
    errors: FieldErrors,
    *,
    what: str,
    places: int,
    maximum: Decimal,
    missing: str | None = None,
    negative: bool = False,
) -> Decimal | None:
    """`raw` as a Decimal, or None (with an error) when it is missing or not a number.

    `missing` is the message for an empty value; without it an empty value is allowed.
    A float is refused: it has already lost the exact decimal the person typed.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if missing is not None:
            errors.add(name, missing)
        return None
    if isinstance(raw, float):
        errors.add(name, f"{what} must be given as a decimal string, never a float.")
        return None
    if isinstance(raw, str) and not PLAIN_DECIMAL.fullmatch(raw):
        # Decimal() would take "1_000", " 10 ", Arabic-Indic digits or "1e3": an amount is
        # written plainly.
        errors.add(name, f"{raw!r} is not a number; write it with digits and a point, e.g. 12.50.")
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    except (InvalidOperation, ValueError):
        errors.add(name, f"{raw!r} is not a number.")
        return None
    if not value.is_finite():
        errors.add(name, f"{what} must be a finite number.")
        return None
    if value < 0 and not negative:
        errors.add(name, f"{what} cannot be negative.")
        return None
    if abs(value) >= maximum:
        errors.add(name, f"{what} must be less than {maximum:,}.")
        return None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        errors.add(name, f"{what} has more than {places} decimal places.")
        return None
    return value


def amount_parse(
    raw: Any,
    name: str,
    errors: FieldErrors,
    *,
    what: str,
    missing: str | None = None,
    negative: bool = False,
) -> Decimal | None:
    """An amount of money at rating precision (settings.MONEY_DECIMAL_PLACES)."""
    return decimal_parse(
        raw,
        name,
        errors,
        what=what,
        places=settings.MONEY_DECIMAL_PLACES,
        maximum=AMOUNT_MAX,
        missing=missing,
        negative=negative,
    )


def currency_parse(raw: str | None, errors: FieldErrors, name: str = "currency") -> str:
    """An ISO 4217 code the operator sells in (settings.CURRENCIES); its default when empty."""
    currency = (raw or settings.DEFAULT_CURRENCY).strip().upper()
    if currency not in settings.CURRENCIES:
        errors.add(
            name,
            f"{currency} is not a currency the operator sells in; "
            f"use one of {', '.join(settings.CURRENCIES)}.",
        )
    return currency


def choice_parse(
    raw: str, name: str, errors: FieldErrors, choices: type[TextChoices], what: str
) -> str:
    if raw not in choices.values:
        allowed = ", ".join(choices.values)
        errors.add(name, f"{raw!r} is not a {what}; use one of {allowed}.")
    return raw


def choices_parse(
    raw: Iterable[str] | None, name: str, errors: FieldErrors, choices: type[TextChoices]
) -> list[str]:
    """A list of choice values, deduplicated and in the choices' own order."""
    given = [raw] if isinstance(raw, str) else [str(value) for value in (raw or [])]
    unknown = [value for value in given if value not in choices.values]
    if unknown:
        errors.add(
            name,
            f"Unknown: {', '.join(repr(v) for v in unknown)}; "
            f"use any of {', '.join(choices.values)}.",
        )
    return [value for value in choices.values if value in given]


def text_parse(
    raw: str | None, name: str, errors: FieldErrors, *, limit: int, missing: str | None = None
) -> str:
    value = (raw or "").strip()
    if not value and missing is not None:
        errors.add(name, missing)
    elif len(value) > limit:
        errors.add(name, f"At most {limit} characters (this has {len(value)}).")
    return value


def int_parse(
    raw: Any, name: str, errors: FieldErrors, *, minimum: int, maximum: int, what: str
) -> int | None:
    """A whole number between `minimum` and `maximum`, or None with an error naming the range."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        errors.add(name, f"{what} is a whole number from {minimum} to {maximum}.")
        return None
    if isinstance(raw, str):
        if not re.fullmatch(r"-?[0-9]+", raw.strip(), re.ASCII):
            errors.add(name, f"{what} is a whole number from {minimum} to {maximum}.")
            return None
        raw = int(raw.strip())
    value: int = raw
    if not minimum <= value <= maximum:
        errors.add(name, f"{what} is between {minimum} and {maximum}.")
        return None
    return value


def date_parse(raw: Any, name: str, errors: FieldErrors) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors.add(name, f"{raw!r} is not a date; use YYYY-MM-DD, e.g. 2026-01-31.")
        return None


def reason_parse(reason: str | None, *, default: str = "", limit: int = 200) -> str:
    """The reason for a change a person decides; required (sensitive changes are audited)."""
    text = " ".join((reason or "").split()) or default
    if not text:
        raise ApplicationError(
            "Give a reason for the change.",
            code="reason_required",
            fields={"reason": ["A reason is required."]},
        )
    if len(text) > limit:
        raise ApplicationError(
            "The reason is too long.", fields={"reason": [f"At most {limit} characters."]}
        )
    return text
