"""An upload is processed by a real Celery worker, chunk by chunk, and its page shows the
totals once the worker is done."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.tests.usage.test_backoffice_usage import master_csv, upload
from billing.tests.usage.worker import celery_worker, wait_until
from billing.usage.models import UsageBatch

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

__all__ = ["celery_worker"]


@pytest.mark.usefixtures("celery_worker")
def test_an_upload_is_processed_by_a_celery_worker(client, admin, line, settings, tmp_path):
    # given: three rows in two chunks
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.USAGE_CHUNK_SIZE = 2
    client.force_login(admin)
    # when
    response = upload(client, master_csv())
    batch = UsageBatch.objects.get()
    wait_until(lambda: UsageBatch.objects.get(pk=batch.pk).status == "done")
    # then
    batch.refresh_from_db()
    assert response.url == reverse("usage:batch-detail", args=[batch.public_id])
    assert (batch.chunk_count, batch.chunks_done) == (2, 2)
    assert (batch.received_count, batch.rated_count, batch.rejected_count) == (3, 2, 1)
    page = client.get(response.url).content.decode()
    assert 'id="count-received">3' in page
    assert 'id="count-rated">2' in page
    assert "£0.30" in page
    assert "2 of 2 chunks done" in page
