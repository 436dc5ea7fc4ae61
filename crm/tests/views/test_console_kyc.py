"""KYC documents: a CSR adds one, a supervisor accepts or rejects it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.models import Customer, Interaction, KycDocument

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 3 3]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _review_url(document):
    return reverse("crm:kyc-document-review", args=[document.public_id])


def test_csr_adds_a_document_with_a_copy(csr_client, customer, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    copy = SimpleUploadedFile("passport.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    # when
    response = csr_client.post(
        reverse("crm:kyc-document-create", args=[customer.public_id]),
        {"kind": "passport", "document_number": "P1234567", "file": copy},
    )
    # then
    assert response.status_code == 302
    document = KycDocument.objects.get(customer=customer)
    assert (document.kind, document.document_number, document.status) == (
        "passport",
        "P1234567",
        "submitted",
    )
    page = csr_client.get(response.url).content.decode()
    assert "Passport added for review." in page
    assert "Waiting for a supervisor" in page
    download = csr_client.get(reverse("crm:kyc-document-file", args=[document.public_id]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"
    assert download["Content-Disposition"] == (
        f'attachment; filename="{customer.number}-passport.pdf"'
    )


def test_document_needs_a_number_or_a_copy(csr_client, customer):
    # when
    response = csr_client.post(
        reverse("crm:kyc-document-create", args=[customer.public_id]), {"kind": "passport"}
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["document_number"] == [
        "Give the document's number or upload a copy."
    ]
    assert not KycDocument.objects.exists()


def test_supervisor_accepts_and_the_customer_is_verified(supervisor_client, supervisor, customer):
    # given
    document = KycDocument.objects.create(customer=customer, kind="passport", document_number="P1")
    # when
    response = supervisor_client.post(_review_url(document), {"decision": "accept"})
    # then
    assert response.status_code == 302
    document.refresh_from_db()
    customer.refresh_from_db()
    assert (document.status, document.reviewed_by) == ("accepted", supervisor)
    assert customer.kyc_status == Customer.KycStatus.VERIFIED


def test_rejecting_needs_a_note(supervisor_client, customer):
    # given
    document = KycDocument.objects.create(customer=customer, kind="passport", document_number="P1")
    # when
    response = supervisor_client.post(_review_url(document), {"decision": "reject"}, follow=True)
    # then
    assert "A reason is required." in response.content.decode()
    document.refresh_from_db()
    assert document.status == "submitted"


def test_supervisor_sees_review_buttons_and_csr_does_not(client, csr, supervisor, customer):
    # given
    KycDocument.objects.create(customer=customer, kind="passport", document_number="P1")
    url = reverse("crm:customer-detail", args=[customer.public_id])
    # when
    client.force_login(supervisor)
    as_supervisor = client.get(url).content.decode()
    client.force_login(csr)
    as_csr = client.get(url).content.decode()
    # then
    assert 'name="decision" value="accept"' in as_supervisor
    assert 'name="decision" value="accept"' not in as_csr


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("csr", 200),
        ("supervisor", 200),
        ("admin", 403),
        ("reseller_a", 403),
        ("subscriber", 403),
        (None, 302),
    ],
)
def test_document_copy_is_only_for_the_console(
    actor, status, client, request, customer, settings, tmp_path
):
    # given
    settings.MEDIA_ROOT = tmp_path
    document = KycDocument.objects.create(
        customer=customer,
        kind="passport",
        file=SimpleUploadedFile("passport.pdf", b"%PDF-1.4 secret", content_type="application/pdf"),
    )
    if actor is not None:
        client.force_login(request.getfixturevalue(actor))
    # when
    response = client.get(reverse("crm:kyc-document-file", args=[document.public_id]))
    # then
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == b"%PDF-1.4 secret"
    else:
        assert b"secret" not in response.content


def test_document_without_a_copy_has_nothing_to_download(csr_client, customer):
    # given
    document = KycDocument.objects.create(customer=customer, kind="passport", document_number="P1")
    # when
    response = csr_client.get(reverse("crm:kyc-document-file", args=[document.public_id]))
    # then
    assert response.status_code == 404


# --- uploads are checked by their content, refusals show on the field and write nothing -------


def _create_url(customer):
    return reverse("crm:kyc-document-create", args=[customer.public_id])


def _files_in(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _assert_nothing_written(customer, media: Path):
    assert not KycDocument.objects.exists()
    assert not Interaction.objects.filter(customer=customer).exists()
    assert _files_in(media) == []


def test_a_text_file_named_pdf_is_refused_on_the_file_field(
    csr_client, customer, settings, tmp_path
):
    # given: the name and the content type the browser sends both say PDF
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile(
        "passport.pdf", b"just some text, honest", content_type="application/pdf"
    )
    # when
    response = csr_client.post(
        _create_url(customer), {"kind": "passport", "document_number": "P1", "file": fake}
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": [
            "This file is not a PDF, JPEG or PNG (whatever its name says); upload one of these."
        ]
    }
    assert "Nothing was saved." in response.content.decode()
    _assert_nothing_written(customer, tmp_path)


def test_a_real_pdf_is_kept_under_a_random_name(csr_client, customer, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("my passport.PDF", MINIMAL_PDF, content_type="application/pdf")
    # when
    response = csr_client.post(_create_url(customer), {"kind": "passport", "file": upload})
    # then
    assert response.status_code == 302
    document = KycDocument.objects.get(customer=customer)
    stored = Path(document.file.name)
    assert stored.suffix == ".pdf"
    assert "passport" not in stored.name
    assert _files_in(tmp_path) == [tmp_path / document.file.name]
    assert (tmp_path / document.file.name).read_bytes() == MINIMAL_PDF
    assert Interaction.objects.get(customer=customer).subject == "KYC document added"


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False)
@pytest.mark.parametrize(
    ("_case", "data", "field", "message"),
    [
        (
            "empty file",
            {"file": SimpleUploadedFile("p.pdf", b"", content_type="application/pdf")},
            "file",
            "The submitted file is empty.",
        ),
        (
            "too big",
            {"file": SimpleUploadedFile("p.pdf", MINIMAL_PDF + b"0" * 2048)},
            "file",
            "The file is larger than 2 KB.",
        ),
        ("expired", {"expires_on": "2026-05-31"}, "expires_on", "This document has expired."),
        (
            "too far ahead",
            {"expires_on": "2041-06-02"},
            "expires_on",
            "No identity document is valid for more than 15 years; check the expiry date.",
        ),
        (
            "number with a slash",
            {"document_number": "P12/345"},
            "document_number",
            "Use only letters, digits, spaces and hyphens, starting with a letter or digit.",
        ),
        (
            "number too long",
            {"document_number": "A" * 61},
            "document_number",
            "Ensure this value has at most 60 characters (it has 61).",
        ),
    ],
)
def test_an_upload_refused_shows_why_on_its_field_and_writes_nothing(
    _case, data, field, message, csr_client, customer, settings, tmp_path
):
    # given
    settings.MEDIA_ROOT = tmp_path
    settings.KYC_DOCUMENT_MAX_BYTES = 2048
    # when
    response = csr_client.post(
        _create_url(customer), {"kind": "passport", "document_number": "P1", **data}
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    _assert_nothing_written(customer, tmp_path)


def test_the_upload_form_says_what_a_copy_may_be(csr_client, customer, settings):
    # given
    settings.KYC_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    # when
    page = csr_client.get(_create_url(customer)).content.decode()
    # then
    assert "A scan or photo, at most 10.0\xa0MB." in page
    assert 'accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"' in page


# --- review -----------------------------------------------------------------------------------


def test_a_review_note_too_long_shows_on_the_document_and_changes_nothing(
    supervisor_client, customer
):
    # given
    document = KycDocument.objects.create(customer=customer, kind="passport", document_number="P1")
    note = "x" * 201
    # when
    response = supervisor_client.post(_review_url(document), {"decision": "reject", "note": note})
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="review-errors-{document.public_id}"' in page
    assert "Ensure this value has at most 200 characters (it has 201)." in page
    assert f'value="{note}" aria-invalid="true"' in page  # what was typed is kept
    document.refresh_from_db()
    customer.refresh_from_db()
    assert (document.status, document.review_note, customer.kyc_status) == (
        "submitted",
        "",
        "pending",
    )
    assert not Interaction.objects.filter(customer=customer).exists()


def test_rejecting_one_document_while_another_waits_keeps_the_customer_pending(
    supervisor_client, customer
):
    # given
    first = KycDocument.objects.create(customer=customer, kind="passport", document_number="P1")
    KycDocument.objects.create(customer=customer, kind="id_card", document_number="ID1")
    # when
    response = supervisor_client.post(_review_url(first), {"decision": "reject", "note": "Blur"})
    # then
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.kyc_status == Customer.KycStatus.PENDING


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False)
def test_accepting_an_expired_document_is_refused_on_the_page(supervisor_client, customer):
    # given
    document = KycDocument.objects.create(
        customer=customer, kind="passport", document_number="P1", expires_on=dt.date(2026, 5, 1)
    )
    # when
    response = supervisor_client.post(_review_url(document), {"decision": "accept"})
    # then
    assert response.status_code == 200
    assert "This document expired on 01 May 2026" in response.content.decode()
    document.refresh_from_db()
    assert document.status == "submitted"


def test_a_csr_without_the_review_permission_cannot_review(csr_client, customer):
    # given
    document = KycDocument.objects.create(customer=customer, kind="passport", document_number="P1")
    # when
    response = csr_client.post(_review_url(document), {"decision": "accept"})
    # then
    assert response.status_code == 403
    document.refresh_from_db()
    customer.refresh_from_db()
    assert (document.status, document.reviewed_by, customer.kyc_status) == (
        "submitted",
        None,
        "pending",
    )
    assert not Interaction.objects.filter(customer=customer).exists()
