"""Customers: register, change details and billing address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_countries import countries

from common.errors import ApplicationError, FieldErrors
from crm.models import Address, Customer, Interaction, User
from crm.services._shared import full_clean, readable_number
from partners.models import Partner

MIN_CUSTOMER_AGE = 16
OLDEST_BIRTH_YEAR = 1900


@dataclass(frozen=True, slots=True)
class AddressData:
    line1: str
    city: str
    line2: str = ""
    postcode: str = ""
    country: str = ""
    kind: str = Address.Kind.BILLING


def _contact_phone_clean(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, settings.OPERATOR_COUNTRY)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(f"{raw!r} is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_customer(customer: Customer, errors: FieldErrors) -> None:
    if customer.kind == Customer.Kind.INDIVIDUAL:
        if not customer.first_name.strip():
            errors.add("first_name", "An individual needs a first name.")
        if not customer.last_name.strip():
            errors.add("last_name", "An individual needs a last name.")
        if customer.date_of_birth is not None:
            _check_date_of_birth(customer.date_of_birth, errors)
    elif customer.kind == Customer.Kind.BUSINESS:
        if not customer.company_name.strip():
            errors.add("company_name", "A business needs its registered company name.")
        if customer.date_of_birth is not None:
            errors.add("date_of_birth", "A business has no date of birth.")
    else:
        errors.add("kind", f"{customer.kind!r} is not a kind of customer.")


def _check_date_of_birth(born: date, errors: FieldErrors) -> None:
    today = timezone.localdate()
    if born > today:
        errors.add("date_of_birth", "The date of birth is in the future.")
    elif born.year < OLDEST_BIRTH_YEAR:
        errors.add("date_of_birth", f"The date of birth is before {OLDEST_BIRTH_YEAR}.")
    else:
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if age < MIN_CUSTOMER_AGE:
            errors.add(
                "date_of_birth", f"A customer must be at least {MIN_CUSTOMER_AGE} years old."
            )


def _check_address(address: AddressData, errors: FieldErrors, prefix: str = "address_") -> None:
    if not address.line1.strip():
        errors.add(f"{prefix}line1", "The first line of the address is required.")
    if not address.city.strip():
        errors.add(f"{prefix}city", "The town or city is required.")
    country = (address.country or settings.OPERATOR_COUNTRY).upper()
    if country not in countries:
        errors.add(
            f"{prefix}country", f"{country!r} is not an ISO 3166 country code; use one such as GB."
        )


@transaction.atomic
def customer_create(
    *,
    actor: User,
    kind: str,
    first_name: str = "",
    last_name: str = "",
    company_name: str = "",
    company_number: str = "",
    date_of_birth: date | None = None,
    email: str = "",
    phone: str = "",
    address: AddressData | None = None,
    partner: Partner | None = None,
    owner: User | None = None,
) -> Customer:
    """Register a customer (and its billing address); KYC starts as pending."""
    errors = FieldErrors()
    customer = Customer(
        kind=kind,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        company_name=company_name.strip(),
        company_number=company_number.strip(),
        date_of_birth=date_of_birth,
        email=email.strip().lower(),
        phone=errors.clean("phone", _contact_phone_clean, phone) if phone.strip() else "",
        partner=partner,
        owner=owner,
    )
    _check_customer(customer, errors)
    if address is not None:
        _check_address(address, errors)
    errors.raise_if_any()
    customer.number = readable_number("CUS")
    full_clean(customer)
    customer.save()
    if address is not None:
        _address_save(customer, address)
    return customer


def _address_save(customer: Customer, address: AddressData) -> Address:
    row, _ = Address.objects.update_or_create(
        customer=customer,
        kind=address.kind,
        defaults={
            "line1": address.line1.strip(),
            "line2": address.line2.strip(),
            "city": address.city.strip(),
            "postcode": address.postcode.strip().upper(),
            "country": (address.country or settings.OPERATOR_COUNTRY).upper(),
        },
    )
    return row


CUSTOMER_EDITABLE = (
    "first_name",
    "last_name",
    "company_name",
    "company_number",
    "date_of_birth",
    "email",
    "phone",
)


@transaction.atomic
def customer_update(
    *, customer: Customer, actor: User, address: AddressData | None = None, **changes: Any
) -> Customer:
    """Change a customer's details; the change is written to the customer's timeline."""
    unknown = set(changes) - set(CUSTOMER_EDITABLE)
    if unknown:
        raise ApplicationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    errors = FieldErrors()
    if "email" in changes:
        changes["email"] = (changes["email"] or "").strip().lower()
    if changes.get("phone"):
        changes["phone"] = errors.clean("phone", _contact_phone_clean, changes["phone"])
    changed = [name for name, value in changes.items() if getattr(customer, name) != value]
    for name in changed:
        setattr(customer, name, changes[name])
    _check_customer(customer, errors)
    if address is not None:
        _check_address(address, errors)
    errors.raise_if_any()
    full_clean(customer)
    customer.save(update_fields=[*changed, "updated_at"])
    if address is not None:
        _address_save(customer, address)
        changed.append("address")
    if changed:
        Interaction.objects.create(
            customer=customer,
            kind=Interaction.Kind.NOTE,
            direction=Interaction.Direction.INTERNAL,
            subject="Details changed",
            body="Changed: " + ", ".join(name.replace("_", " ") for name in changed),
            author=actor,
        )
    return customer
