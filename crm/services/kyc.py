"""KYC: a customer's identity documents, their review, and the customer's KYC status.

Every write here locks the customer's row first (then the document's), so two supervisors
reviewing two documents of one customer at the same moment queue on the customer, and the
status is always computed from every document as the last writer left them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from common.actors import system_actor
from common.errors import FieldErrors, InvalidTransition
from crm.models import Customer, Interaction, KycDocument, User

# What a copy may be, told by its first bytes, never by the name or content type the browser
# sends; the stored file gets the extension of the detected type.
KYC_FILE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)
KYC_EXPIRY_HORIZON_YEARS = 15  # passports last 10 years, some national ID cards 15
DOCUMENT_NUMBER_MAX_LENGTH = 60
REVIEW_NOTE_MAX_LENGTH = 200
_DOCUMENT_NUMBER_SHAPE = re.compile(r"[^\W_](?:[^\W_]| |-)*")  # letters, digits, spaces, hyphens


def customer_kyc_status(*, documents: Iterable[KycDocument], today: date) -> str:
    """The customer's KYC status from their documents, by one rule applied in this order:

    1. no documents: pending (nothing to check yet);
    2. any document still submitted, waiting for review: pending (the answer is not in yet);
    3. at least one accepted document that has not expired (no expiry date, or on or after
       `today`): verified;
    4. every document rejected: rejected;
    5. otherwise (the accepted documents have all expired, the rest were rejected): pending,
       because a current document is needed, and nothing about the customer was refused.
    """
    documents = list(documents)
    if not documents:
        return Customer.KycStatus.PENDING
    if any(d.status == KycDocument.Status.SUBMITTED for d in documents):
        return Customer.KycStatus.PENDING
    if any(
        d.status == KycDocument.Status.ACCEPTED and not _expired(d.expires_on, today)
        for d in documents
    ):
        return Customer.KycStatus.VERIFIED
    if all(d.status == KycDocument.Status.REJECTED for d in documents):
        return Customer.KycStatus.REJECTED
    return Customer.KycStatus.PENDING


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
    """Add an identity document for review. A copy is kept only if its content is a PDF, JPEG
    or PNG, under a random name: a customer-chosen file name never reaches the disk. The
    customer goes back to pending until the new document is reviewed."""
    today = timezone.localdate()
    errors = FieldErrors()
    if kind not in KycDocument.Kind.values:
        errors.add("kind", f"{kind!r} is not a kind of document.")
    document_number = _document_number_check(document_number, errors)
    if expires_on is not None:
        _expiry_check(expires_on, today, errors)
    extension = _file_check(file, errors) if file is not None else None
    if file is None and not document_number:
        errors.add("document_number", "Give the document's number or upload a copy.")
    errors.raise_if_any()

    customer = _customer_locked(customer.pk)
    document = KycDocument(
        customer=customer, kind=kind, document_number=document_number, expires_on=expires_on
    )
    if file is not None:
        document.file.save(f"{secrets.token_hex(16)}.{extension}", File(file), save=False)
    try:
        document.save()
        change = _customer_kyc_status_refresh(customer, today=today)
        Interaction.objects.create(
            customer=customer,
            subject="KYC document added",
            body=_timeline_body(str(document), change),
            author=actor,
        )
    except BaseException:
        if document.file:
            document.file.delete(save=False)  # the row is rolled back: leave no copy behind
        raise
    return document


@transaction.atomic
def kyc_document_review(
    *, document: KycDocument, actor: User, accept: bool, note: str = ""
) -> KycDocument:
    """Accept or reject a submitted document, then set the customer's status by the rule in
    `customer_kyc_status` from all their documents. The customer's row is locked before the
    document's, so concurrent reviews of one customer's documents run one after the other and
    the last one sees the other's decision."""
    today = timezone.localdate()
    note = (note or "").strip()
    errors = FieldErrors()
    if not accept and not note:
        errors.add("note", "A reason is required.")
    if len(note) > REVIEW_NOTE_MAX_LENGTH:
        errors.add("note", f"A review note has at most {REVIEW_NOTE_MAX_LENGTH} characters.")
    errors.raise_if_any()

    customer = _customer_locked(document.customer_id)
    document = KycDocument.objects.select_for_update().get(pk=document.pk)
    document.customer = customer
    if document.status != KycDocument.Status.SUBMITTED:
        raise InvalidTransition(f"This document was already {document.status}.")
    if accept and _expired(document.expires_on, today):
        raise InvalidTransition(
            f"This document expired on {document.expires_on:%d %b %Y}; reject it and ask for "
            "a current one."
        )
    document.status = KycDocument.Status.ACCEPTED if accept else KycDocument.Status.REJECTED
    document.reviewed_by = actor
    document.reviewed_at = timezone.now()
    document.review_note = note
    document.save(
        update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"]
    )
    change = _customer_kyc_status_refresh(customer, today=today)
    Interaction.objects.create(
        customer=customer,
        subject=f"KYC document {document.status}",
        body=_timeline_body(f"{document}: {document.review_note or document.status}", change),
        author=actor,
    )
    return document


def _customer_locked(pk: int) -> Customer:
    """The customer's row FOR UPDATE: every KYC write takes it first, before any document."""
    return Customer.objects.select_for_update().get(pk=pk)


def _customer_kyc_status_refresh(customer: Customer, *, today: date) -> tuple[str, str] | None:
    """Apply the rule to the customer's documents as they are now (the customer is locked);
    returns (old, new) when the status changed."""
    new = customer_kyc_status(documents=customer.kyc_documents.all(), today=today)
    old = customer.kyc_status
    if new == old:
        return None
    customer.kyc_status = new
    customer.save(update_fields=["kyc_status", "updated_at"])
    return old, new


def _timeline_body(text: str, change: tuple[str, str] | None) -> str:
    if change is None:
        return text
    old, new = (Customer.KycStatus(s).label.lower() for s in change)
    return f"{text}\nCustomer's KYC status: {old} → {new}."


def _expired(expires_on: date | None, today: date) -> bool:
    return expires_on is not None and expires_on < today


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def _document_number_check(raw: str, errors: FieldErrors) -> str:
    number = (raw or "").strip()
    if len(number) > DOCUMENT_NUMBER_MAX_LENGTH:
        errors.add(
            "document_number",
            f"A document number has at most {DOCUMENT_NUMBER_MAX_LENGTH} characters.",
        )
    elif number and not _DOCUMENT_NUMBER_SHAPE.fullmatch(number):
        errors.add(
            "document_number",
            "Use only letters, digits, spaces and hyphens, starting with a letter or digit.",
        )
    return number


def _expiry_check(expires_on: date, today: date, errors: FieldErrors) -> None:
    if _expired(expires_on, today):
        errors.add("expires_on", "This document has expired.")
    elif expires_on > _years_after(today, KYC_EXPIRY_HORIZON_YEARS):
        errors.add(
            "expires_on",
            f"No identity document is valid for more than {KYC_EXPIRY_HORIZON_YEARS} years; "
            "check the expiry date.",
        )


def _file_check(file: UploadedFile, errors: FieldErrors) -> str | None:
    """The extension of the copy's real type, read from its first bytes; None, with the
    error on `file`, when the copy is refused."""
    size = file.size
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    if size == 0:
        errors.add("file", "The file is empty.")
        return None
    if size > settings.KYC_DOCUMENT_MAX_BYTES:
        errors.add(
            "file", f"The file is larger than {_size_text(settings.KYC_DOCUMENT_MAX_BYTES)}."
        )
        return None
    file.seek(0)
    head = file.read(max(len(signature) for signature, _ in KYC_FILE_SIGNATURES))
    file.seek(0)
    for signature, extension in KYC_FILE_SIGNATURES:
        if head.startswith(signature):
            return extension
    errors.add(
        "file", "This file is not a PDF, JPEG or PNG (whatever its name says); upload one of these."
    )
    return None


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{size / 1024:.3g} KB"


def kyc_expiries_apply(*, today: date | None = None, chunk_size: int = 500) -> int:
    """Move verified customers whose accepted documents have all expired back to pending (a
    current document is needed), each under its row lock, acting as the system actor; the
    timeline says why. Chunked and re-runnable: a customer already changed is not found again.
    Returns how many customers changed."""
    today = today or timezone.localdate()
    actor = system_actor()
    candidates = (
        Customer.objects.filter(
            kyc_status=Customer.KycStatus.VERIFIED,
            kyc_documents__status=KycDocument.Status.ACCEPTED,
            kyc_documents__expires_on__lt=today,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    changed = 0
    last = 0
    while pks := list(candidates.filter(pk__gt=last)[:chunk_size]):
        last = pks[-1]
        for pk in pks:
            with transaction.atomic():
                customer = _customer_locked(pk)
                change = _customer_kyc_status_refresh(customer, today=today)
                if change is None:
                    continue
                Interaction.objects.create(
                    customer=customer,
                    subject="KYC document expired",
                    body=_timeline_body("Every accepted identity document has expired.", change),
                    author=actor,
                )
                changed += 1
    return changed
