"""The usage API: batches of JSON records from a mediation system, their control records and
per-record outcomes, idempotent resends, and who sees which batch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from billing.tests.usage.conftest import at
from billing.usage.models import UsageBatch, UsageRecord
from common.api_keys import api_key_issue
from common.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage/batches/"


def key_client(admin: Any, *permissions: str, name: str = "Mediation") -> tuple[APIClient, Any]:
    api_key, secret = api_key_issue(actor=admin, name=name, permissions=list(permissions))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client, api_key


@pytest.fixture
def mediation(admin: Any) -> APIClient:
    client, _ = key_client(admin, "billing.push_usage", "billing.view_usage")
    return client


def call(record_id: str, called: str = "+447700900123", **extra: Any) -> dict[str, Any]:
    start = at(days_ago=1)
    return {
        "record_id": record_id,
        "service": "voice",
        "direction": "originating",
        "calling_number": "+447400123456",
        "called_number": called,
        "started_at": start.isoformat(),
        "answered_at": start.replace(second=5).isoformat(),
        "duration_seconds": 65,
        "billable_seconds": 60,
        "disposition": "answered",
        **extra,
    }


def test_a_batch_is_rated_and_answers_its_control_record_and_each_outcome(mediation, line):
    # given
    records = [
        call("c-1"),
        call("c-2", called="not a number"),
        call("c-3", calling_number="+447400999999"),  # no such line
        {"record_id": "s-1", "service": "sms", "calling_number": "+447400123456",
         "called_number": "+447700900123", "started_at": at(days_ago=1).isoformat()},
    ]  # fmt: skip
    # when
    response = mediation.post(URL, {"source": "mediation-1", "records": records}, format="json")
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["received"], body["rated"], body["rejected"], body["duplicate"]) == (4, 2, 2, 0)
    assert body["status"] == "done"
    assert body["reject_reasons"] == {"malformed_number": 1, "unknown_line": 1}
    assert body["amounts"] == [{"amount": "0.15", "currency": "GBP"}]
    outcomes = body["records"]
    assert [o["status"] for o in outcomes] == ["rated", "rejected", "rejected", "rated"]
    assert outcomes[0]["charge"] == {"amount": "0.10", "currency": "GBP"}
    assert outcomes[1]["reject_reason"] == "malformed_number"
    assert outcomes[2]["reject_reason"] == "unknown_line"
    assert outcomes[3]["charge"] == {"amount": "0.05", "currency": "GBP"}
    rejected = UsageRecord.objects.get(source_record_id="c-2")
    assert '"called_number": "not a number"' in rejected.raw


def test_the_same_records_sent_again_are_duplicates_and_charge_nothing(mediation, line):
    # given
    body = {"source": "mediation-1", "records": [call("c-1"), call("c-2")]}
    mediation.post(URL, body, format="json")
    # when
    again = mediation.post(URL, body, format="json").json()
    # then
    assert (again["received"], again["rated"], again["duplicate"]) == (2, 0, 2)
    assert [o["status"] for o in again["records"]] == ["duplicate", "duplicate"]
    assert again["amounts"] == []
    assert UsageRecord.objects.filter(status="rated").count() == 2
    charged = sum(r.charge_amount for r in UsageRecord.objects.filter(status="rated"))
    assert charged == Decimal("0.2000")


def test_the_same_idempotency_key_replays_the_first_answer(mediation, line):
    # given
    body = {"source": "mediation-1", "records": [call("c-1")]}
    first = mediation.post(URL, body, format="json", headers={"Idempotency-Key": "batch-0001"})
    # when
    again = mediation.post(URL, body, format="json", headers={"Idempotency-Key": "batch-0001"})
    # then
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert UsageBatch.objects.count() == 1
    assert UsageRecord.objects.count() == 1


def test_an_idempotency_key_reused_for_other_records_is_refused(mediation, line):
    # given
    mediation.post(URL, {"source": "m", "records": [call("c-1")]}, format="json",
                   headers={"Idempotency-Key": "batch-0001"})  # fmt: skip
    # when
    response = mediation.post(URL, {"source": "m", "records": [call("c-9")]}, format="json",
                              headers={"Idempotency-Key": "batch-0001"})  # fmt: skip
    # then
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert UsageBatch.objects.count() == 1


@pytest.mark.parametrize(
    ("_case", "body", "field"),
    [
        ("no records", {"source": "m", "records": []}, "records"),
        ("no source", {"records": [call("c-1")]}, "source"),
        ("a source with spaces", {"source": "my pbx", "records": [call("c-1")]}, "source"),
        ("no start time", {"source": "m", "records": [call("c-1"), {"record_id": "x"}]},
         "records.1.started_at"),
        ("a start that is no time", {"source": "m", "records": [call("c-1", started_at="soon")]},
         "records.0.started_at"),
        ("a duration as text", {"source": "m", "records": [call("c-1", duration_seconds="60")]},
         "records.0.duration_seconds"),
        ("a negative duration", {"source": "m", "records": [call("c-1", duration_seconds=-1)]},
         "records.0.duration_seconds"),
        ("an unknown service", {"source": "m", "records": [call("c-1", service="fax")]},
         "records.0.service"),
        ("a number as a number", {"source": "m", "records": [call("c-1", called_number=447)]},
         "records.0.called_number"),
    ],
)  # fmt: skip
def test_a_batch_that_breaks_the_schema_is_refused_whole_and_writes_nothing(
    _case, body, field, mediation, line
):
    # when
    response = mediation.post(URL, body, format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert UsageBatch.objects.count() == 0
    assert UsageRecord.objects.count() == 0


def test_too_many_records_are_refused(mediation, line):
    # given
    records = [{"started_at": at().isoformat()}] * 10_001
    # when
    response = mediation.post(URL, {"source": "m", "records": records}, format="json")
    # then
    assert response.status_code == 400
    assert "records" in response.json()["extra"]["fields"]
    assert UsageBatch.objects.count() == 0


def test_an_api_key_sees_only_its_own_batches(admin, mediation, line):
    # given
    created = mediation.post(URL, {"source": "m", "records": [call("c-1")]}, format="json").json()
    other, _ = key_client(admin, "billing.push_usage", "billing.view_usage", name="Other")
    # when
    listed = other.get(URL).json()
    detail = other.get(f"{URL}{created['public_id']}/")
    own = mediation.get(f"{URL}{created['public_id']}/")
    # then
    assert listed["count"] == 0
    assert detail.status_code == 404
    assert own.status_code == 200
    assert own.json()["received"] == 1


def test_staff_with_view_usage_see_every_batch(admin, mediation, line):
    # given
    mediation.post(URL, {"source": "m", "records": [call("c-1")]}, format="json")
    client = APIClient()
    client.force_authenticate(admin)
    # when
    listed = client.get(URL).json()
    # then
    assert listed["count"] == 1
    assert listed["results"][0]["source"] == "m"


@pytest.mark.parametrize(
    ("_case", "actor", "status"),
    [("CSR", "csr", 403), ("reseller", "reseller_a", 403), ("subscriber", "subscriber", 403)],
)
def test_only_usage_pushers_may_send_batches(_case, actor, status, request, line):
    # given
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(actor))
    # when
    response = client.post(URL, {"source": "m", "records": [call("c-1")]}, format="json")
    # then
    assert response.status_code == status
    assert UsageBatch.objects.count() == 0


def test_a_key_without_usage_permissions_is_refused(admin, line):
    # given
    client, _ = key_client(admin, "crm.view_any_customer")
    # when
    response = client.post(URL, {"source": "m", "records": [call("c-1")]}, format="json")
    # then
    assert response.status_code == 403
    assert UsageBatch.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_times_the_schema_allows_but_no_calendar_holds_are_rejected_records(mediation, line):
    # given: a leap second, a year that leaves 9999 in UTC, an end centuries before the start
    records = [
        call("c-1", started_at="2016-12-31T23:59:60Z"),
        call("c-2", started_at="9999-12-31T23:00:00-05:00"),
        {"record_id": "c-3", "started_at": "1802-09-04T21:15:04Z",
         "ended_at": "0389-06-11T20:57:51Z", "calling_number": "+447400123456"},
    ]  # fmt: skip
    # when
    response = mediation.post(URL, {"source": "m", "records": records}, format="json")
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rejected"] == 3
    assert [o["reject_reason"] for o in body["records"]] == [
        "bad_time", "bad_time", "malformed_row",
    ]  # fmt: skip


def test_times_are_answered_in_utc(mediation, line):
    # given
    start = at(days_ago=400).replace(year=1900)
    # when
    record = call("c-1", called_number="12ab", started_at=start.isoformat())
    body = mediation.post(URL, {"source": "m", "records": [record]}, format="json").json()
    rejects = mediation.get("/api/v1/usage/rejects/").json()["results"]
    # then
    assert body["created_at"].endswith("Z")
    assert rejects[0]["started_at"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
