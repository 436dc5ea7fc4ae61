"""Back-office usage pages: batches and their progress, uploading a file, the reject queue and
its recycling, CSV column mappings; who may open and change them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.tests.usage.conftest import asterisk_row, at, csv_text
from billing.usage.models import UsageBatch, UsageMapping, UsageRecord
from billing.usage.services import usage_batch_ingest_file
from common.actors import SYSTEM_ACTOR_EMAIL
from common.models import AuditEvent

pytestmark = pytest.mark.django_db

ME = "07400123456"
STRANGER = "07400555555"


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Chunk tasks run in the request, as they do without Redis."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def master_csv() -> bytes:
    rows = [
        asterisk_row(ME, "07700900123", start=at(), billsec=60, uniqueid="1.1"),
        asterisk_row(ME, "07700900124", start=at(hour=11), billsec=120, uniqueid="1.2"),
        asterisk_row(STRANGER, "07700900123", start=at(hour=12), uniqueid="1.3"),
    ]
    return csv_text(rows).encode()


def upload(client: Any, content: bytes, **fields: Any) -> Any:
    data = {
        "file": SimpleUploadedFile("Master.csv", content, "text/csv"),
        "format": "asterisk",
        "source": "pbx-1",
        **fields,
    }
    return client.post(reverse("usage:upload"), data)


@pytest.fixture
def loaded(line: Any, admin: Any, tmp_path: Any) -> UsageBatch:
    path = tmp_path / "Master.csv"
    path.write_bytes(master_csv())
    return usage_batch_ingest_file(
        path_or_file=path, format="asterisk", source="pbx-1", actor=admin
    )


def test_an_upload_is_processed_and_its_page_shows_the_totals(
    client, admin, line, settings, tmp_path, eager_celery, django_capture_on_commit_callbacks
):
    # given
    settings.MEDIA_ROOT = tmp_path
    client.force_login(admin)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, master_csv())
    # then
    batch = UsageBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("usage:batch-detail", args=[batch.public_id])
    assert batch.status == "done"
    assert (batch.received_count, batch.rated_count, batch.rejected_count) == (3, 2, 1)
    assert batch.file_path.startswith(str(tmp_path))
    page = client.get(response.url).content.decode()
    assert 'id="count-rated">2' in page
    assert "unknown_line" in page
    assert "hx-trigger" not in page  # done: no polling


def test_the_upload_queues_a_task_per_chunk_after_commit(
    client, admin, line, settings, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    # given
    settings.MEDIA_ROOT = tmp_path
    settings.USAGE_CHUNK_SIZE = 2
    queued: list[int] = []
    from billing.usage import tasks

    monkeypatch.setattr(tasks.usage_chunk_process_task, "delay", queued.append)
    client.force_login(admin)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, master_csv())
    # then
    batch = UsageBatch.objects.get()
    assert len(queued) == 2 == batch.chunk_count
    assert batch.status == "processing"
    page = client.get(reverse("usage:batch-detail", args=[batch.public_id])).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "0 of 2 chunks done" in page


def test_the_progress_poll_answers_the_panel_then_reloads_once_done(client, admin, loaded):
    # given
    client.force_login(admin)
    url = reverse("usage:batch-detail", args=[loaded.public_id])
    UsageBatch.objects.filter(pk=loaded.pk).update(status="processing")
    # when
    running = client.get(url, {"polling": "1"}, headers={"HX-Request": "true"})
    UsageBatch.objects.filter(pk=loaded.pk).update(status="done")
    done = client.get(url, {"polling": "1"}, headers={"HX-Request": "true"})
    # then
    assert 'id="batch-progress"' in running.content.decode()
    assert "<html" not in running.content.decode()
    assert done.headers["HX-Refresh"] == "true"


def test_a_csv_upload_without_a_mapping_is_refused_and_nothing_is_stored(
    client, admin, line, settings, tmp_path
):
    # given
    settings.MEDIA_ROOT = tmp_path
    client.force_login(admin)
    # when
    response = upload(client, b"a,b\n", format="csv")
    # then
    assert response.status_code == 200
    assert "A generic CSV file needs a saved column mapping." in response.content.decode()
    assert not UsageBatch.objects.exists()
    assert not list(tmp_path.rglob("*.csv"))


def test_a_mapping_that_does_not_fit_the_file_is_refused(
    client, admin, line, settings, tmp_path, eager_celery
):
    # given
    settings.MEDIA_ROOT = tmp_path
    UsageMapping.objects.create(name="sms", columns={"started_at": "time"})
    client.force_login(admin)
    # when
    response = upload(client, b"when,from\n2026-01-01T10:00:00,07400123456\n", format="csv",
                      mapping="sms")  # fmt: skip
    # then
    assert response.status_code == 200
    assert "which the header lacks" in response.content.decode()
    assert UsageRecord.objects.count() == 0


def test_the_reject_queue_shows_the_original_row_and_filters_by_reason(client, admin, loaded):
    # given
    client.force_login(admin)
    # when
    page = client.get(reverse("usage:reject-queue"), {"reason": "unknown_line"}).content.decode()
    other = client.get(reverse("usage:reject-queue"), {"reason": "no_rate"}).content.decode()
    # then
    assert STRANGER in page
    assert "1 rejected record matches" in page
    assert "No rejected record matches." in other


def test_recycling_the_ticked_rows_after_creating_the_line_rates_them(
    client, admin, loaded, customer, plan
):
    # given
    from crm.tests.factories import SubscriberFactory

    SubscriberFactory(account__customer=customer, account__currency="GBP", msisdn="+447400555555",
                      imsi="234100000000009", status="active", plan=plan)  # fmt: skip
    reject = UsageRecord.objects.get(status="rejected")
    client.force_login(admin)
    # when
    response = client.post(
        reverse("usage:reject-recycle") + f"?batch={loaded.public_id}",
        {"scope": "selected", "ids": [reject.pk], "reason": "line created"},
        follow=True,
    )
    # then
    assert "Recycled 1 record: 1 rated, 0 rejected again." in response.content.decode()
    reject.refresh_from_db()
    assert reject.status == "rated"
    loaded.refresh_from_db()
    assert (loaded.rated_count, loaded.rejected_count) == (3, 0)
    event = AuditEvent.objects.get(action="recycled")
    assert (event.actor, event.reason) == (admin, "line created")


def test_recycling_every_matching_reject_reports_those_rejected_again(client, admin, loaded):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("usage:reject-recycle") + "?reason=unknown_line",
        {"scope": "matching", "reason": "retry"},
        follow=True,
    )
    # then
    assert "Recycled 1 record: 0 rated, 1 rejected again." in response.content.decode()


def test_recycling_without_a_reason_changes_nothing(client, admin, loaded):
    # given
    reject = UsageRecord.objects.get(status="rejected")
    client.force_login(admin)
    # when
    response = client.post(
        reverse("usage:reject-recycle"), {"scope": "selected", "ids": [reject.pk]}, follow=True
    )
    # then
    assert "This field is required." in response.content.decode()
    reject.refresh_from_db()
    assert reject.rating_trace.get("recycled") is None
    assert not AuditEvent.objects.filter(action="recycled").exists()


def test_a_mapping_is_created_and_edited(client, admin):
    # given
    client.force_login(admin)
    data = {"name": "partner-sms", "has_header": "on", "delimiter": ";", "time_format": "iso",
            "time_zone": "Europe/London", "default_service": "sms",
            "column_started_at": "sent", "column_calling_number": "from",
            "column_called_number": "to"}  # fmt: skip
    # when
    created = client.post(reverse("usage:mapping-create"), data)
    mapping = UsageMapping.objects.get()
    edited = client.post(
        reverse("usage:mapping-edit", args=[mapping.public_id]), {**data, "column_imsi": "imsi"}
    )
    # then
    assert created.status_code == edited.status_code == 302
    mapping.refresh_from_db()
    assert mapping.columns == {"calling_number": "from", "called_number": "to",
                               "started_at": "sent", "imsi": "imsi"}  # fmt: skip
    assert (mapping.delimiter, mapping.defaults) == (";", {"service": "sms"})
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("pk")) == [
        "created", "updated",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("_case", "changes", "message"),
    [
        ("no start column", {"column_started_at": ""}, "This field is required."),
        ("an unknown zone", {"time_zone": "Mars/Olympus"}, "Unknown zone."),
        ("a name without a header", {"has_header": ""}, "give the column&#x27;s position"),
        ("a time format without codes", {"time_format": "dd/mm"}, "strptime format"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused(_case, changes, message, client, admin):
    # given
    client.force_login(admin)
    data = {"name": "m", "has_header": "on", "delimiter": ",", "time_format": "iso",
            "time_zone": "UTC", "column_started_at": "when", **changes}  # fmt: skip
    # when
    response = client.post(reverse("usage:mapping-create"), data)
    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not UsageMapping.objects.exists()


PAGES = ["usage:batch-list", "usage:reject-queue", "usage:mapping-list", "usage:upload",
         "usage:mapping-create"]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("actor", ["csr", "reseller_a", "subscriber"])
def test_others_cannot_open_the_usage_pages(page, actor, request, client):
    # given
    client.force_login(request.getfixturevalue(actor))
    # when
    response = client.get(reverse(page))
    # then
    assert response.status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_the_admin_opens_the_usage_pages(page, client, admin, loaded):
    # given
    client.force_login(admin)
    # when
    response = client.get(reverse(page))
    # then
    assert response.status_code == 200


def test_the_batch_page_is_for_the_back_office_only(client, request, loaded):
    # given
    url = reverse("usage:batch-detail", args=[loaded.public_id])
    statuses = {}
    # when
    for actor in ("csr", "reseller_a", "subscriber"):
        client.force_login(request.getfixturevalue(actor))
        statuses[actor] = client.get(url).status_code
    # then
    assert statuses == {"csr": 403, "reseller_a": 403, "subscriber": 403}


@pytest.mark.parametrize("actor", ["csr", "reseller_a", "subscriber"])
def test_others_change_nothing(actor, request, client, loaded, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(request.getfixturevalue(actor))
    reject = UsageRecord.objects.get(status="rejected")
    # when
    uploaded = upload(client, master_csv())
    recycled = client.post(
        reverse("usage:reject-recycle"), {"scope": "selected", "ids": [reject.pk], "reason": "x"}
    )
    mapped = client.post(
        reverse("usage:mapping-create"),
        {"name": "m", "delimiter": ",", "time_format": "iso", "time_zone": "UTC",
         "column_started_at": "0"},
    )  # fmt: skip
    # then
    assert (uploaded.status_code, recycled.status_code, mapped.status_code) == (403, 403, 403)
    assert UsageBatch.objects.count() == 1
    assert not UsageMapping.objects.exists()
    assert not AuditEvent.objects.exists()
    assert not (tmp_path / "media").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    # when
    response = client.get(reverse("usage:batch-list"))
    # then
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_a_viewer_without_manage_usage_cannot_upload(client, admin, loaded):
    # given: an admin whose role lost manage_usage
    from django.contrib.auth.models import Permission

    admin.user_permissions.clear()
    for group in admin.groups.all():
        group.permissions.remove(Permission.objects.get(codename="manage_usage"))
    client.force_login(admin)
    # when
    response = client.get(reverse("usage:upload"))
    queue = client.get(reverse("usage:reject-queue")).content.decode()
    # then
    assert response.status_code == 403
    assert 'name="ids"' not in queue


def test_stored_uploads_are_deleted_once_past_their_retention_and_no_other_file(
    client, admin, line, settings, tmp_path, eager_celery, django_capture_on_commit_callbacks
):
    # given: an upload done 8 days ago, and a batch loaded from an operator's own file
    from datetime import timedelta

    from django.utils import timezone

    from billing.usage.services import usage_uploads_clean

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.USAGE_UPLOAD_RETENTION_DAYS = 7
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, master_csv())
    uploaded = UsageBatch.objects.get()
    own = tmp_path / "switch" / "Master.csv"
    own.parent.mkdir()
    own.write_bytes(master_csv())
    operator = usage_batch_ingest_file(
        path_or_file=own, format="asterisk", source="pbx-2", actor=admin
    )
    later = timezone.now() + timedelta(days=8)
    # when: run a day too early, then on time
    assert usage_uploads_clean(now=timezone.now() + timedelta(days=6)) == 0
    deleted = usage_uploads_clean(now=later)
    # then
    uploaded_path = uploaded.file_path
    uploaded.refresh_from_db()
    operator.refresh_from_db()
    assert deleted == 1
    assert not Path(uploaded_path).exists()
    assert uploaded.file_path == ""
    assert own.exists()
    assert operator.file_path == str(own)
    assert UsageRecord.objects.filter(batch_id=uploaded.pk).count() == 3  # records stay
    event = AuditEvent.objects.get(action="upload deleted")
    assert event.object_pk == str(uploaded.pk)
    assert event.changes == {"file_path": [uploaded_path, ""]}
    assert event.actor.email == SYSTEM_ACTOR_EMAIL
