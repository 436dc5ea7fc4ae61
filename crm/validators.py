"""Identifiers of a mobile line: MSISDN (E.164 via phonenumbers), ICCID (Luhn) and IMSI."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

_NOT_DIGITS = re.compile(r"[\s\-().]")
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def msisdn_parse(raw: str) -> phonenumbers.PhoneNumber | None:
    """Parse a number typed any way a person types it; None when it is not a phone number.

    `+44 7400 123456`, `07400 123456`, `447400123456` and `00447400123456` all parse to the
    same number; a bare international number without `+` is tried as such first.
    """
    text = _NOT_DIGITS.sub("", raw.strip())
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    candidates = [text] if text.startswith("+") else []
    if not text.startswith("+"):
        if not text.startswith("0"):
            candidates.append("+" + text)
        candidates.append(text)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, settings.OPERATOR_COUNTRY)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return number
    return None


def msisdn_to_e164(raw: str) -> str | None:
    """Best-effort E.164 form for search; does not check the number is valid."""
    number = msisdn_parse(raw)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def msisdn_clean(raw: str) -> str:
    """E.164 form of a valid mobile number of the operator's country, or a ValidationError."""
    number = msisdn_parse(raw)
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(f"{raw!r} is not a valid phone number.", code="invalid_msisdn")
    region = phonenumbers.region_code_for_number(number)
    if region != settings.OPERATOR_COUNTRY:
        raise ValidationError(
            f"{raw!r} is a number of {region}, not of the operator's country "
            f"({settings.OPERATOR_COUNTRY}).",
            code="foreign_msisdn",
        )
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValidationError(f"{raw!r} is not a mobile number.", code="not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def msisdn_display(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def luhn_check_digit(payload: str) -> str:
    """The Luhn digit that makes `payload + digit` valid."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def iccid_build(serial: int, issuer: str = "10") -> str:
    """A valid 19-digit ICCID: 89 (telecom), 44 (country), issuer, 12-digit serial, Luhn digit."""
    payload = f"8944{issuer}{serial:012d}"
    return payload + luhn_check_digit(payload)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def iccid_clean(raw: str) -> str:
    """ICCID as 19 or 20 digits beginning 89 (telecom), with a valid Luhn check digit."""
    text = _NOT_DIGITS.sub("", raw.strip())
    if not text.isdigit():
        raise ValidationError("An ICCID has only digits.", code="invalid_iccid")
    if len(text) not in (19, 20):
        raise ValidationError(
            f"An ICCID has 19 or 20 digits; this has {len(text)}.", code="invalid_iccid"
        )
    if not text.startswith("89"):
        raise ValidationError("An ICCID begins with 89.", code="invalid_iccid")
    if not luhn_valid(text):
        raise ValidationError(
            "The ICCID's check digit is wrong: check it was typed correctly.",
            code="iccid_check_digit",
        )
    return text


def imsi_clean(raw: str) -> str:
    """IMSI as 15 digits beginning with the operator's mobile country code."""
    text = _NOT_DIGITS.sub("", raw.strip())
    if not text.isdigit() or len(text) != 15:
        raise ValidationError("An IMSI has exactly 15 digits.", code="invalid_imsi")
    if settings.OPERATOR_MCC and not text.startswith(settings.OPERATOR_MCC):
        raise ValidationError(
            f"This IMSI's country code is {text[:3]}, not the operator's "
            f"({settings.OPERATOR_MCC}).",
            code="foreign_imsi",
        )
    return text
