"""The reject queue through the API: listed with the original row and reason, filtered, paged
by cursor, scoped per API key, and recycled once the cause is fixed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from billing.tests.usage.test_api_batches import URL as BATCHES
from billing.tests.usage.test_api_batches import call, key_client
from billing.usage.models import UsageBatch, UsageRecord
from common.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage/rejects/"
RECYCLE = "/api/v1/usage/rejects/recycle/"
STRANGER = "+447400555555"


@pytest.fixture
def integrator(admin: Any) -> APIClient:
    """A mediation system's key: it sends usage and reads its rejects."""
    client, _ = key_client(admin, "billing.push_usage", "billing.view_usage")
    return client


@pytest.fixture
def operator(supervisor: Any) -> APIClient:
    """A supervisor (billing.manage_usage) recycling through the API."""
    client = APIClient()
    client.force_authenticate(supervisor)
    return client


@pytest.fixture
def sent(integrator: APIClient, line: Any) -> dict[str, Any]:
    """Four calls: one rated, two from a number with no line yet, one to a bad number."""
    records = [
        call("c-1"),
        call("c-2", calling_number=STRANGER),
        call("c-3", calling_number=STRANGER),
        call("c-4", called_number="12ab"),
    ]
    response = integrator.post(BATCHES, {"source": "m", "records": records}, format="json")
    assert response.status_code == 201
    return response.json()


def test_rejects_are_listed_with_their_original_row_and_reason(integrator, sent):
    # when
    body = integrator.get(URL).json()
    # then
    assert [r["reject_reason"] for r in body["results"]] == [
        "unknown_line", "unknown_line", "malformed_number",
    ]  # fmt: skip
    first = body["results"][0]
    assert first["batch"] == sent["public_id"]
    assert first["source_record_id"] == "c-2"
    assert f'"calling_number": "{STRANGER}"' in first["raw"]
    assert first["recycled"] == []


def test_rejects_are_filtered_and_paged_by_cursor(integrator, sent):
    # when
    first = integrator.get(URL, {"reason": "unknown_line", "page_size": 1}).json()
    second = integrator.get(first["next"]).json()
    # then
    assert [r["source_record_id"] for r in first["results"]] == ["c-2"]
    assert [r["source_record_id"] for r in second["results"]] == ["c-3"]
    assert second["next"] is None
    by_number = integrator.get(URL, {"number": "7400555555"}).json()["results"]
    assert [r["source_record_id"] for r in by_number] == ["c-2", "c-3"]


@pytest.mark.parametrize(
    ("_case", "query"),
    [("an unknown reason", {"reason": "late"}), ("a batch that is no id", {"batch": "x"}),
     ("a page size of 0", {"page_size": "0"}), ("an empty reason", {"reason": ""})],
)  # fmt: skip
def test_a_bad_filter_is_refused(_case, query, integrator, sent):
    # when
    response = integrator.get(URL, query)
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_another_key_sees_none_of_these_rejects(admin, sent):
    # given
    other, _ = key_client(admin, "billing.view_usage", name="Other")
    # when
    body = other.get(URL, {"batch": sent["public_id"]}).json()
    # then
    assert body["results"] == []


def test_recycling_after_the_line_is_created_rates_the_rejects(
    integrator, operator, sent, customer, plan
):
    # given
    from crm.tests.factories import SubscriberFactory

    SubscriberFactory(account__customer=customer, account__currency="GBP", msisdn=STRANGER,
                      imsi="234100000000009", status="active", plan=plan)  # fmt: skip
    ids = [
        r["record_id"] for r in integrator.get(URL, {"reason": "unknown_line"}).json()["results"]
    ]
    # when
    response = operator.post(RECYCLE, {"record_ids": ids, "reason": "line created"}, format="json")
    # then
    assert response.status_code == 200, response.json()
    assert response.json() == {"rated": 2, "rejected": 0, "skipped": 0, "remaining": 0}
    batch = UsageBatch.objects.get(public_id=sent["public_id"])
    assert (batch.received_count, batch.rated_count, batch.rejected_count) == (4, 3, 1)
    assert batch.reject_reasons == {"malformed_number": 1}
    record = UsageRecord.objects.get(source_record_id="c-2")
    assert record.status == "rated"
    assert record.rating_trace["recycled"][0]["reason"] == "line created"
    assert AuditEvent.objects.filter(action="recycled", reason="line created").count() == 1


def test_recycling_by_filter_reports_what_was_rejected_again(operator, sent):
    # when: the cause is not fixed
    response = operator.post(
        RECYCLE, {"filter": {"reason": "unknown_line"}, "reason": "try again"}, format="json"
    )
    # then
    assert response.status_code == 200
    assert response.json() == {"rated": 0, "rejected": 2, "skipped": 0, "remaining": 2}
    assert UsageRecord.objects.filter(status="rejected").count() == 3


def test_recycle_needs_either_ids_or_a_filter(operator, sent):
    # when
    neither = operator.post(RECYCLE, {"reason": "x"}, format="json")
    both = operator.post(
        RECYCLE,
        {"record_ids": [str(uuid.uuid4())], "filter": {"reason": "unknown_line"}, "reason": "x"},
        format="json",
    )
    # then
    assert neither.status_code == 422
    assert both.status_code == 422
    assert not AuditEvent.objects.filter(action="recycled").exists()


def test_ids_outside_the_queue_are_skipped(operator, sent):
    # given
    rated = UsageRecord.objects.get(source_record_id="c-1")
    # when
    response = operator.post(
        RECYCLE,
        {"record_ids": [str(rated.dedup_key), str(uuid.uuid4())], "reason": "x"},
        format="json",
    )
    # then
    assert response.json() == {"rated": 0, "rejected": 0, "skipped": 2, "remaining": 0}


def test_an_api_key_may_not_recycle(integrator, sent):
    # given
    viewer = integrator
    ids = [str(r.dedup_key) for r in UsageRecord.objects.filter(status="rejected")]
    # when
    response = viewer.post(RECYCLE, {"record_ids": ids, "reason": "x"}, format="json")
    # then
    assert response.status_code == 403
    assert UsageRecord.objects.filter(status="rejected").count() == 3


@pytest.mark.parametrize("actor", ["csr", "reseller_a", "subscriber"])
def test_people_without_manage_usage_cannot_recycle(actor, request, sent):
    # given
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(actor))
    ids = [str(r.dedup_key) for r in UsageRecord.objects.filter(status="rejected")]
    # when
    response = client.post(RECYCLE, {"record_ids": ids, "reason": "x"}, format="json")
    # then
    assert response.status_code == 403
    assert UsageRecord.objects.filter(status="rejected").count() == 3
