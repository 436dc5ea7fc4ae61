"""KYC documents: a CSR adds one, a supervisor accepts or rejects it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.models import Customer, KycDocument


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
    assert download["Content-Disposition"].startswith("attachment")


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
