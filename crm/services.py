"""Every write to customers, accounts, subscribers, interactions and KYC documents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from common.errors import ApplicationError, InvalidTransition
from crm.models import (
    Account,
    Address,
    Customer,
    Interaction,
    KycDocument,
    NumberSequence,
    Subscriber,
    SubscriberEvent,
    User,
)
from crm.validators import iccid_clean, imsi_clean, msisdn_clean
from partners.models import Partner

MIN_CUSTOMER_AGE = 16
OLDEST_BIRTH_YEAR = 1900
KYC_CONTENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}


class FieldErrors:
    """Collects every field's error so a form shows them all at once, not one per submit."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

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


def _full_clean(instance: Any, *, exclude: list[str] | None = None) -> None:
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


def _readable_number(prefix: str) -> str:
    return f"{prefix}-{sequence_take(prefix.lower()):08d}"


# --- customers --------------------------------------------------------------------------------


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
    if len(country) != 2 or not country.isalpha():
        errors.add(f"{prefix}country", "Use a two-letter country code such as GB.")


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
    customer.number = _readable_number("CUS")
    _full_clean(customer)
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
    _full_clean(customer)
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


# --- accounts ---------------------------------------------------------------------------------


def _decimal(raw: Any, name: str, errors: FieldErrors) -> Decimal:
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    except (InvalidOperation, ValueError):
        errors.add(name, f"{raw!r} is not an amount.")
        return Decimal("0")
    if not value.is_finite():
        errors.add(name, "The amount must be a finite number.")
        return Decimal("0")
    return value


@transaction.atomic
def account_create(
    *,
    customer: Customer,
    actor: User,
    payment_type: str,
    currency: str | None = None,
    bill_cycle_day: int = 1,
    credit_limit_amount: Decimal | str = Decimal("0"),
) -> Account:
    """Open a billing account; prepaid accounts carry no credit limit."""
    errors = FieldErrors()
    currency = (currency or settings.DEFAULT_CURRENCY).upper()
    if currency not in settings.CURRENCIES:
        errors.add("currency", f"{currency} is not a currency the operator bills in.")
    credit_limit = _decimal(credit_limit_amount, "credit_limit_amount", errors)
    if credit_limit < 0:
        errors.add("credit_limit_amount", "A credit limit cannot be negative.")
    if payment_type == Account.PaymentType.PREPAID and credit_limit != 0:
        errors.add("credit_limit_amount", "A prepaid account has no credit limit.")
    if payment_type not in Account.PaymentType.values:
        errors.add("payment_type", "Choose prepaid or postpaid.")
    if not 1 <= int(bill_cycle_day) <= 28:
        errors.add("bill_cycle_day", "The bill cycle day is between 1 and 28.")
    errors.raise_if_any()
    account = Account(
        customer=customer,
        currency=currency,
        payment_type=payment_type,
        bill_cycle_day=int(bill_cycle_day),
        credit_limit_amount=credit_limit,
        number=_readable_number("ACC"),
    )
    _full_clean(account)
    account.save()
    return account


@transaction.atomic
def account_update(
    *,
    account: Account,
    actor: User,
    bill_cycle_day: int | None = None,
    credit_limit_amount: Decimal | str | None = None,
) -> Account:
    account = Account.objects.select_for_update().get(pk=account.pk)
    errors = FieldErrors()
    changed: list[str] = []
    if bill_cycle_day is not None:
        if not 1 <= int(bill_cycle_day) <= 28:
            errors.add("bill_cycle_day", "The bill cycle day is between 1 and 28.")
        account.bill_cycle_day = int(bill_cycle_day)
        changed.append("bill_cycle_day")
    if credit_limit_amount is not None:
        limit = _decimal(credit_limit_amount, "credit_limit_amount", errors)
        if limit < 0:
            errors.add("credit_limit_amount", "A credit limit cannot be negative.")
        if account.payment_type == Account.PaymentType.PREPAID and limit != 0:
            errors.add("credit_limit_amount", "A prepaid account has no credit limit.")
        account.credit_limit_amount = limit
        changed.append("credit_limit_amount")
    errors.raise_if_any()
    account.save(update_fields=[*changed, "updated_at"])
    return account


# --- subscribers ------------------------------------------------------------------------------

_UNIQUE_FIELDS = {
    "msisdn": "This MSISDN belongs to another live subscriber.",
    "iccid": "This SIM (ICCID) belongs to another live subscriber.",
    "imsi": "This IMSI belongs to another live subscriber.",
}


@transaction.atomic
def subscriber_create(
    *,
    account: Account,
    actor: User,
    msisdn: str,
    iccid: str,
    imsi: str,
    activate: bool = False,
    reason: str = "New connection",
) -> Subscriber:
    """Connect a line to an account: validated identifiers, one live owner per number and SIM."""
    errors = FieldErrors()
    values = {
        "msisdn": errors.clean("msisdn", msisdn_clean, msisdn),
        "iccid": errors.clean("iccid", iccid_clean, iccid),
        "imsi": errors.clean("imsi", imsi_clean, imsi),
    }
    if account.status != Account.Status.ACTIVE:
        errors.add("account", f"Account {account.number} is {account.status}.")
    errors.raise_if_any()
    live = Subscriber.objects.exclude(status=Subscriber.Status.TERMINATED)
    for name, message in _UNIQUE_FIELDS.items():
        if live.filter(**{name: values[name]}).exists():
            errors.add(name, message)
    errors.raise_if_any()
    # A stocked number or SIM leaves the pool with the line (imported here: inventory builds
    # on crm, not the other way round).
    from orders.inventory.services import line_identifiers_claim

    line_identifiers_claim(
        msisdn=values["msisdn"], iccid=values["iccid"], actor=actor, reason=reason
    )
    now = timezone.now()
    try:
        with transaction.atomic():  # a concurrent sale of the same number loses here, cleanly
            subscriber = Subscriber.objects.create(
                account=account, status=Subscriber.Status.PENDING, status_changed_at=now, **values
            )
    except IntegrityError as exc:
        text = str(exc)
        fields = {n: [m] for n, m in _UNIQUE_FIELDS.items() if f"live_{n}_unique" in text}
        raise ApplicationError(
            "The number or SIM was taken by another sale a moment ago.",
            code="conflict",
            fields=fields or {"msisdn": [_UNIQUE_FIELDS["msisdn"]]},
        ) from exc
    SubscriberEvent.objects.create(
        subscriber=subscriber,
        old_status="",
        new_status=Subscriber.Status.PENDING,
        actor=actor,
        reason=reason,
        created_at=now,
    )
    if activate:
        subscriber = subscriber_activate(subscriber=subscriber, actor=actor, reason=reason)
    return subscriber


def _subscriber_transition(
    *, subscriber: Subscriber, new_status: str, actor: User, reason: str
) -> Subscriber:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "Give a reason for the change.",
            code="reason_required",
            fields={"reason": ["A reason is required."]},
        )
    if len(reason) > 200:
        raise ApplicationError(
            "The reason is too long.", fields={"reason": ["At most 200 characters."]}
        )
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        old_status = locked.status
        if new_status not in locked.allowed_transitions():
            raise InvalidTransition(
                f"{locked.msisdn_display} is {old_status}; it cannot become {new_status}."
            )
        now = timezone.now()
        locked.status = new_status
        locked.status_changed_at = now
        locked.save(update_fields=["status", "status_changed_at", "updated_at"])
        SubscriberEvent.objects.create(
            subscriber=locked,
            old_status=old_status,
            new_status=new_status,
            actor=actor,
            reason=reason,
            created_at=now,
        )
    return locked


def subscriber_activate(*, subscriber: Subscriber, actor: User, reason: str) -> Subscriber:
    return _subscriber_transition(
        subscriber=subscriber, new_status=Subscriber.Status.ACTIVE, actor=actor, reason=reason
    )


def subscriber_suspend(*, subscriber: Subscriber, actor: User, reason: str) -> Subscriber:
    """Bar the line (lost phone, fraud, non-payment); audited with who and why."""
    return _subscriber_transition(
        subscriber=subscriber, new_status=Subscriber.Status.SUSPENDED, actor=actor, reason=reason
    )


def subscriber_resume(*, subscriber: Subscriber, actor: User, reason: str) -> Subscriber:
    if subscriber.status != Subscriber.Status.SUSPENDED:
        raise InvalidTransition(f"{subscriber.msisdn_display} is not suspended.")
    return _subscriber_transition(
        subscriber=subscriber, new_status=Subscriber.Status.ACTIVE, actor=actor, reason=reason
    )


def subscriber_terminate(*, subscriber: Subscriber, actor: User, reason: str) -> Subscriber:
    return _subscriber_transition(
        subscriber=subscriber, new_status=Subscriber.Status.TERMINATED, actor=actor, reason=reason
    )


SUBSCRIBER_ACTIONS: dict[str, Callable[..., Subscriber]] = {
    "activate": subscriber_activate,
    "suspend": subscriber_suspend,
    "resume": subscriber_resume,
    "terminate": subscriber_terminate,
}


# --- onboarding: customer + account + subscriber in one go -------------------------------------


@transaction.atomic
def customer_onboard(
    *,
    actor: User,
    customer: dict[str, Any],
    account: dict[str, Any],
    subscriber: dict[str, Any],
) -> Subscriber:
    """New customer with an account and a line, all or nothing; every field error reported."""
    errors = FieldErrors()
    created_customer = account_row = None
    try:
        created_customer = customer_create(actor=actor, **customer)
    except ApplicationError as exc:
        errors.fields.update(exc.fields)
    if created_customer is not None:
        try:
            account_row = account_create(customer=created_customer, actor=actor, **account)
        except ApplicationError as exc:
            errors.fields.update(exc.fields)
    # Check the line's identifiers even when the customer failed, so every error shows at once.
    for name, cleaner in (("msisdn", msisdn_clean), ("iccid", iccid_clean), ("imsi", imsi_clean)):
        errors.clean(name, cleaner, subscriber.get(name, ""))
    errors.raise_if_any()  # raising rolls back the customer and account created above
    assert account_row is not None
    return subscriber_create(account=account_row, actor=actor, **subscriber)


# --- interactions and KYC ---------------------------------------------------------------------


@transaction.atomic
def interaction_add(
    *,
    customer: Customer,
    actor: User,
    body: str,
    kind: str = Interaction.Kind.NOTE,
    direction: str = Interaction.Direction.INTERNAL,
    subject: str = "",
) -> Interaction:
    errors = FieldErrors()
    body = (body or "").strip()
    if not body:
        errors.add("body", "Write something in the note.")
    elif len(body) > 10_000:
        errors.add("body", "A note has at most 10,000 characters.")
    if kind not in Interaction.Kind.values:
        errors.add("kind", f"{kind!r} is not a kind of interaction.")
    if direction not in Interaction.Direction.values:
        errors.add("direction", f"{direction!r} is not a direction.")
    if len(subject) > 200:
        errors.add("subject", "A subject has at most 200 characters.")
    errors.raise_if_any()
    return Interaction.objects.create(
        customer=customer,
        kind=kind,
        direction=direction,
        subject=subject.strip(),
        body=body,
        author=actor,
    )


@transaction.atomic
def kyc_document_add(
    *,
    customer: Customer,
    actor: User,
    kind: str,
    document_number: str = "",
    expires_on: date | None = None,
    file: UploadedFile | None = None,
) -> KycDocument:
    errors = FieldErrors()
    if kind not in KycDocument.Kind.values:
        errors.add("kind", f"{kind!r} is not a kind of document.")
    if expires_on is not None and expires_on < timezone.localdate():
        errors.add("expires_on", "This document has expired.")
    if file is not None:
        if file.size is not None and file.size > settings.KYC_DOCUMENT_MAX_BYTES:
            limit = settings.KYC_DOCUMENT_MAX_BYTES // (1024 * 1024)
            errors.add("file", f"The file is larger than {limit} MB.")
        if file.content_type not in KYC_CONTENT_TYPES:
            errors.add("file", "Upload a PDF, JPEG or PNG file.")
    if file is None and not document_number.strip():
        errors.add("document_number", "Give the document's number or upload a copy.")
    errors.raise_if_any()
    document = KycDocument.objects.create(
        customer=customer,
        kind=kind,
        document_number=document_number.strip(),
        expires_on=expires_on,
        file=file or "",
    )
    Interaction.objects.create(
        customer=customer,
        subject="KYC document added",
        body=f"{document.get_kind_display()} {document.document_number}".strip(),
        author=actor,
    )
    return document


@transaction.atomic
def kyc_document_review(
    *, document: KycDocument, actor: User, accept: bool, note: str = ""
) -> KycDocument:
    """Accept or reject a document; the customer is verified once one document is accepted."""
    document = KycDocument.objects.select_for_update().get(pk=document.pk)
    if document.status != KycDocument.Status.SUBMITTED:
        raise InvalidTransition(f"This document was already {document.status}.")
    if not accept and not note.strip():
        raise ApplicationError(
            "Say why the document is rejected.", fields={"note": ["A reason is required."]}
        )
    document.status = KycDocument.Status.ACCEPTED if accept else KycDocument.Status.REJECTED
    document.reviewed_by = actor
    document.reviewed_at = timezone.now()
    document.review_note = note.strip()[:200]
    document.save(
        update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"]
    )
    customer = document.customer
    accepted = customer.kyc_documents.filter(status=KycDocument.Status.ACCEPTED).exists()
    customer.kyc_status = Customer.KycStatus.VERIFIED if accepted else Customer.KycStatus.REJECTED
    customer.save(update_fields=["kyc_status", "updated_at"])
    Interaction.objects.create(
        customer=customer,
        subject=f"KYC document {document.status}",
        body=f"{document}: {document.review_note or document.status}",
        author=actor,
    )
    return document
