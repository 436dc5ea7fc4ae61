"""KYC: a customer's identity documents and their review."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from common.errors import ApplicationError, FieldErrors, InvalidTransition
from crm.models import Customer, Interaction, KycDocument, User

KYC_CONTENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}


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
