"""KYC documents: what a copy may be, which dates and numbers pass, the review under a lock, and
the one rule that sets the customer's KYC status."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.utils import timezone

from common.errors import ApplicationError, InvalidTransition
from common.roles import Role
from crm.models import Customer, Interaction, KycDocument, User
from crm.services import customer_kyc_status, kyc_document_add, kyc_document_review
from crm.tasks import kyc_expiries_apply_task
from crm.tests.factories import CustomerFactory, UserFactory

TODAY = dt.date(2026, 6, 1)
NOON = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 3 3]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _files_in(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _document(
    customer: Customer, status: str = "submitted", kind: str = "passport", **fields: Any
) -> KycDocument:
    return KycDocument.objects.create(
        customer=customer, kind=kind, document_number="P1", status=status, **fields
    )


# --- the rule ---------------------------------------------------------------------------------


def _unsaved(status: str, expires_on: dt.date | None = None) -> KycDocument:
    return KycDocument(kind="passport", status=status, expires_on=expires_on)


YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("_case", "documents", "expected"),
    [
        ("no documents", [], "pending"),
        ("one waiting for review", [("submitted", None)], "pending"),
        ("accepted, another still waiting", [("accepted", None), ("submitted", None)], "pending"),
        ("rejected, another still waiting", [("rejected", None), ("submitted", None)], "pending"),
        ("one accepted", [("accepted", None)], "verified"),
        ("accepted and rejected", [("rejected", None), ("accepted", None)], "verified"),
        ("accepted, expires today", [("accepted", TODAY)], "verified"),
        ("every one rejected", [("rejected", None), ("rejected", None)], "rejected"),
        ("the accepted one has expired", [("accepted", YESTERDAY)], "pending"),
        (
            "accepted one expired, the rest rejected",
            [("accepted", YESTERDAY), ("rejected", None)],
            "pending",
        ),
        (
            "one expired, one current accepted",
            [("accepted", YESTERDAY), ("accepted", TODAY + dt.timedelta(days=1))],
            "verified",
        ),
    ],
)
def test_the_customers_kyc_status_follows_one_rule(_case, documents, expected):
    # when
    status = customer_kyc_status(
        documents=[_unsaved(status, expires_on) for status, expires_on in documents], today=TODAY
    )
    # then
    assert status == expected


# --- review -----------------------------------------------------------------------------------


def test_rejecting_one_document_while_another_waits_leaves_the_customer_pending(
    supervisor, customer
):
    # given: the bug was that one rejection marked the whole customer rejected
    passport = _document(customer)
    _document(customer, kind="id_card")
    # when
    kyc_document_review(document=passport, actor=supervisor, accept=False, note="Blurred")
    # then
    customer.refresh_from_db()
    assert customer.kyc_status == "pending"


def test_accepting_verifies_the_customer_and_writes_the_timeline(supervisor, customer):
    # given
    document = _document(customer)
    # when
    reviewed = kyc_document_review(document=document, actor=supervisor, accept=True, note=" ok ")
    # then
    customer.refresh_from_db()
    assert (reviewed.status, reviewed.reviewed_by, reviewed.review_note) == (
        "accepted",
        supervisor,
        "ok",
    )
    assert customer.kyc_status == "verified"
    entry = Interaction.objects.get(customer=customer)
    assert (entry.subject, entry.body, entry.author) == (
        "KYC document accepted",
        "Passport P1: ok\nCustomer's KYC status: pending → verified.",
        supervisor,
    )


def test_rejecting_every_document_rejects_the_customer(supervisor, customer):
    # given
    first = _document(customer)
    second = _document(customer, kind="id_card")
    # when
    kyc_document_review(document=first, actor=supervisor, accept=False, note="Blurred")
    kyc_document_review(document=second, actor=supervisor, accept=False, note="Not theirs")
    # then
    customer.refresh_from_db()
    assert customer.kyc_status == "rejected"
    assert Interaction.objects.filter(customer=customer).count() == 2


def test_a_rejection_after_an_acceptance_keeps_the_customer_verified(supervisor, customer):
    # given
    _document(customer, status="accepted")
    waiting = _document(customer, kind="id_card")
    # when
    kyc_document_review(document=waiting, actor=supervisor, accept=False, note="Blurred")
    # then
    customer.refresh_from_db()
    assert customer.kyc_status == "verified"


def _nothing_changed(document: KycDocument, customer: Customer, status: str = "submitted"):
    document.refresh_from_db()
    customer.refresh_from_db()
    assert (document.status, document.reviewed_by, document.review_note) == (status, None, "")
    assert customer.kyc_status == "pending"
    assert not Interaction.objects.filter(customer=customer).exists()


def test_rejecting_needs_a_reason(supervisor, customer):
    # given
    document = _document(customer)
    # when
    with pytest.raises(ApplicationError) as refused:
        kyc_document_review(document=document, actor=supervisor, accept=False, note="   ")
    # then
    assert refused.value.fields == {"note": ["A reason is required."]}
    _nothing_changed(document, customer)


def test_a_review_note_longer_than_200_characters_is_refused_not_cut(supervisor, customer):
    # given
    document = _document(customer)
    # when
    with pytest.raises(ApplicationError) as refused:
        kyc_document_review(document=document, actor=supervisor, accept=False, note="x" * 201)
    # then
    assert refused.value.fields == {"note": ["A review note has at most 200 characters."]}
    _nothing_changed(document, customer)


def test_a_review_note_of_200_characters_is_kept_whole(supervisor, customer):
    # given
    document = _document(customer)
    # when
    kyc_document_review(document=document, actor=supervisor, accept=False, note="x" * 200)
    # then
    document.refresh_from_db()
    assert document.review_note == "x" * 200


def test_a_document_is_reviewed_once(supervisor, customer):
    # given
    document = _document(customer, status="rejected")
    # when
    with pytest.raises(InvalidTransition, match="already rejected"):
        kyc_document_review(document=document, actor=supervisor, accept=True)
    # then
    _nothing_changed(document, customer, status="rejected")


@time_machine.travel(NOON, tick=False)
def test_an_expired_document_cannot_be_accepted(supervisor, customer):
    # given: it expired after it was added
    document = _document(customer, expires_on=YESTERDAY)
    # when
    with pytest.raises(InvalidTransition, match="expired on 31 May 2026"):
        kyc_document_review(document=document, actor=supervisor, accept=True)
    # then
    _nothing_changed(document, customer)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        ((True, False), "verified"),
        ((False, False), "rejected"),
        ((True, True), "verified"),
    ],
)
def test_two_supervisors_reviewing_two_documents_at_once_leave_the_rule_applied(
    decisions, expected, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given
    customer = CustomerFactory()
    documents = [_document(customer), _document(customer, kind="id_card")]
    supervisors = [UserFactory(role=Role.SUPERVISOR), UserFactory(role=Role.SUPERVISOR)]
    save = KycDocument.save

    def slow_save(self: KycDocument, *args: Any, **kwargs: Any) -> None:
        # widen the window between writing the decision and reading the other document, so
        # without the customer's lock each review reliably misses the other's
        save(self, *args, **kwargs)
        time.sleep(0.2)

    monkeypatch.setattr(KycDocument, "save", slow_save)
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def review(index: int) -> None:
        try:
            barrier.wait()
            kyc_document_review(
                document=documents[index],
                actor=supervisors[index],
                accept=decisions[index],
                note="" if decisions[index] else "Blurred",
            )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=review, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert failures == []
    customer.refresh_from_db()
    final = list(KycDocument.objects.filter(customer=customer))
    assert sorted(d.status for d in final) == sorted(
        "accepted" if accept else "rejected" for accept in decisions
    )
    assert customer.kyc_status == customer_kyc_status(documents=final, today=timezone.localdate())
    assert customer.kyc_status == expected
    assert Interaction.objects.filter(customer=customer).count() == 2


# --- adding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "extension"), [(MINIMAL_PDF, "pdf"), (JPEG, "jpg"), (PNG, "png")]
)
def test_a_copy_is_kept_under_a_random_name_with_the_extension_of_its_content(
    content, extension, csr, customer, media
):
    # given: the name and content type the browser sent say nothing true
    upload = SimpleUploadedFile("../../evil name.exe", content, content_type="text/plain")
    # when
    document = kyc_document_add(customer=customer, actor=csr, kind="passport", file=upload)
    # then
    stored = Path(document.file.name)
    assert stored.parent == Path(f"kyc/{document.created_at:%Y/%m}")
    assert stored.suffix == f".{extension}"
    assert len(stored.stem) == 32
    assert "evil" not in document.file.name
    assert _files_in(media) == [media / document.file.name]
    assert (media / document.file.name).read_bytes() == content


def test_two_copies_with_one_name_get_two_names(csr, customer, media):
    # when
    first = kyc_document_add(
        customer=customer,
        actor=csr,
        kind="passport",
        file=SimpleUploadedFile("scan.pdf", MINIMAL_PDF),
    )
    second = kyc_document_add(
        customer=customer,
        actor=csr,
        kind="id_card",
        file=SimpleUploadedFile("scan.pdf", MINIMAL_PDF),
    )
    # then
    assert first.file.name != second.file.name


def test_adding_a_document_writes_the_timeline_and_waits_for_review(csr, customer):
    # given: a verified customer sends another document
    _document(customer, status="accepted")
    Customer.objects.filter(pk=customer.pk).update(kyc_status="verified")
    # when
    document = kyc_document_add(
        customer=customer, actor=csr, kind="id_card", document_number=" ID 123-456 "
    )
    # then
    customer.refresh_from_db()
    assert (document.document_number, document.status) == ("ID 123-456", "submitted")
    assert customer.kyc_status == "pending"
    entry = Interaction.objects.get(customer=customer)
    assert (entry.subject, entry.body, entry.author) == (
        "KYC document added",
        "National ID card ID 123-456\nCustomer's KYC status: verified → pending.",
        csr,
    )


def _refused_and_nothing_written(customer: Customer, media: Path, **fields: Any) -> dict:
    with pytest.raises(ApplicationError) as refused:
        kyc_document_add(customer=customer, actor=cast(User, UserFactory(role=Role.CSR)), **fields)
    assert not KycDocument.objects.exists()
    assert not Interaction.objects.exists()
    assert _files_in(media) == []
    customer.refresh_from_db()
    assert customer.kyc_status == "pending"
    return refused.value.fields


NOT_A_COPY = "This file is not a PDF, JPEG or PNG (whatever its name says); upload one of these."


@pytest.mark.parametrize(
    ("_case", "name", "content", "content_type", "message"),
    [
        ("text named .pdf", "passport.pdf", b"hello, I am text", "application/pdf", NOT_A_COPY),
        ("HTML named .png", "id.png", b"<html><script>x</script>", "image/png", NOT_A_COPY),
        ("PDF magic too late", "p.pdf", b" %PDF-1.4", "application/pdf", NOT_A_COPY),
        ("truncated PNG magic", "p.png", b"\x89PNG\r\n", "image/png", NOT_A_COPY),
        ("empty", "passport.pdf", b"", "application/pdf", "The file is empty."),
    ],
)
def test_a_copy_that_is_not_a_pdf_jpeg_or_png_is_refused(
    _case, name, content, content_type, message, customer, media
):
    # given
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    # when
    fields = _refused_and_nothing_written(
        customer, media, kind="passport", document_number="P1", file=upload
    )
    # then
    assert fields == {"file": [message]}


def test_a_copy_over_the_size_limit_is_refused(customer, media, settings):
    # given
    settings.KYC_DOCUMENT_MAX_BYTES = 2048
    upload = SimpleUploadedFile("big.pdf", MINIMAL_PDF + b"0" * 2048)
    # when
    fields = _refused_and_nothing_written(customer, media, kind="passport", file=upload)
    # then
    assert fields == {"file": ["The file is larger than 2 KB."]}


def test_a_copy_at_the_size_limit_is_kept(csr, customer, media, settings):
    # given
    settings.KYC_DOCUMENT_MAX_BYTES = 2048
    content = MINIMAL_PDF + b"0" * (2048 - len(MINIMAL_PDF))
    # when
    document = kyc_document_add(
        customer=customer, actor=csr, kind="passport", file=SimpleUploadedFile("p.pdf", content)
    )
    # then
    assert document.file.size == 2048


@time_machine.travel(NOON, tick=False)
@pytest.mark.parametrize(
    ("expires_on", "message"),
    [
        (dt.date(2026, 5, 31), "This document has expired."),
        (
            dt.date(2041, 6, 2),
            "No identity document is valid for more than 15 years; check the expiry date.",
        ),
        (
            dt.date(2099, 1, 1),
            "No identity document is valid for more than 15 years; check the expiry date.",
        ),
    ],
)
def test_an_expiry_date_outside_the_sane_window_is_refused(expires_on, message, customer, media):
    # when
    fields = _refused_and_nothing_written(
        customer, media, kind="passport", document_number="P1", expires_on=expires_on
    )
    # then
    assert fields == {"expires_on": [message]}


@time_machine.travel(NOON, tick=False)
@pytest.mark.parametrize("expires_on", [dt.date(2026, 6, 1), dt.date(2041, 6, 1)])
def test_an_expiry_date_from_today_to_15_years_ahead_is_kept(expires_on, csr, customer):
    # when
    document = kyc_document_add(
        customer=customer, actor=csr, kind="passport", document_number="P1", expires_on=expires_on
    )
    # then
    assert document.expires_on == expires_on


@time_machine.travel(dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC), tick=False)
def test_fifteen_years_from_29_february_ends_on_28_february(csr, customer, media):
    # then
    kyc_document_add(
        customer=customer,
        actor=csr,
        kind="passport",
        document_number="P1",
        expires_on=dt.date(2043, 2, 28),
    )
    with pytest.raises(ApplicationError):
        kyc_document_add(
            customer=customer,
            actor=csr,
            kind="passport",
            document_number="P2",
            expires_on=dt.date(2043, 3, 1),
        )


SHAPE = "Use only letters, digits, spaces and hyphens, starting with a letter or digit."


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("P123/456", SHAPE),
        ("<script>", SHAPE),
        ("P_123", SHAPE),
        ("--", SHAPE),
        ("P1\n23", SHAPE),
        ("A" * 61, "A document number has at most 60 characters."),
    ],
)
def test_a_document_number_of_the_wrong_shape_is_refused(number, message, customer, media):
    # when
    fields = _refused_and_nothing_written(customer, media, kind="passport", document_number=number)
    # then
    assert fields == {"document_number": [message]}


@pytest.mark.parametrize("number", ["X1234567", "AB 12 34 56 C", "ID-2026-0001", "A" * 60, "Ö12"])
def test_a_document_number_of_sane_shape_is_kept(number, csr, customer):
    # when
    document = kyc_document_add(
        customer=customer, actor=csr, kind="id_card", document_number=number
    )
    # then
    assert document.document_number == number


def test_every_fault_is_reported_at_once(customer, media):
    # when
    fields = _refused_and_nothing_written(
        customer,
        media,
        kind="library_card",
        document_number="P/1",
        expires_on=dt.date(2000, 1, 1),
        file=SimpleUploadedFile("x.pdf", b"text"),
    )
    # then
    assert sorted(fields) == ["document_number", "expires_on", "file", "kind"]


def test_a_document_needs_a_number_or_a_copy(customer, media):
    # when
    fields = _refused_and_nothing_written(customer, media, kind="passport", document_number=" ")
    # then
    assert fields == {"document_number": ["Give the document's number or upload a copy."]}


def test_the_copy_is_removed_when_the_write_fails_after_it(csr, customer, media, monkeypatch):
    # given: the timeline write fails after the copy was stored
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Interaction.objects, "create", broken)
    # when
    with pytest.raises(RuntimeError):
        kyc_document_add(
            customer=customer,
            actor=csr,
            kind="passport",
            file=SimpleUploadedFile("p.pdf", MINIMAL_PDF),
        )
    # then
    assert _files_in(media) == []


def test_a_verified_customer_whose_documents_expire_goes_back_to_pending(db):
    # given a customer verified on a passport that expired yesterday, another on a current one
    today = timezone.localdate()
    lapsed = CustomerFactory(kyc_status="verified")
    current = CustomerFactory(kyc_status="verified")
    for customer, expires in ((lapsed, today - dt.timedelta(days=1)), (current, today)):
        KycDocument.objects.create(
            customer=customer,
            kind="passport",
            document_number="P1",
            expires_on=expires,
            status="accepted",
        )
    # when the job runs (twice: it can be re-run)
    assert kyc_expiries_apply_task.apply().get() == 1
    assert kyc_expiries_apply_task.apply().get() == 0
    # then
    lapsed.refresh_from_db()
    current.refresh_from_db()
    assert (lapsed.kyc_status, current.kyc_status) == ("pending", "verified")
    note = Interaction.objects.get(customer=lapsed)
    assert note.subject == "KYC document expired"
    assert note.author.email == "system@telecrm.invalid"
    assert "verified → pending" in note.body
    assert not Interaction.objects.filter(customer=current).exists()
    assert Customer.objects.filter(kyc_status="verified").count() == 1
