"""A retried write with the same Idempotency-Key replays the first response, never writes twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from common.models import IdempotencyRecord
from common.tasks import idempotency_records_purge_task
from crm.models import Customer
from crm.tests.factories import SubscriberFactory, UserFactory
from orders.inventory.models import Msisdn, SimCard
from orders.models import Order
from orders.tests.factories import PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

URL = "/api/v1/customers/"
BODY = {"kind": "business", "company_name": "Acme Haulage Ltd"}


def test_retry_with_the_same_key_replays_and_creates_once(api_as):
    # given
    client = api_as("csr")
    # when
    first = client.post(URL, BODY, format="json", headers={"Idempotency-Key": "k-1"})
    retry = client.post(URL, BODY, format="json", headers={"Idempotency-Key": "k-1"})
    # then
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Customer.objects.filter(company_name="Acme Haulage Ltd").count() == 1


def test_same_key_for_a_different_request_is_refused(api_as):
    client = api_as("csr")
    client.post(URL, BODY, format="json", headers={"Idempotency-Key": "k-2"})
    other = client.post(
        URL,
        {**BODY, "company_name": "Other Ltd"},
        format="json",
        headers={"Idempotency-Key": "k-2"},
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert not Customer.objects.filter(company_name="Other Ltd").exists()


def test_without_a_key_every_request_writes(api_as):
    client = api_as("csr")
    client.post(URL, BODY, format="json")
    client.post(URL, BODY, format="json")
    assert Customer.objects.filter(company_name="Acme Haulage Ltd").count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_keys_belong_to_their_caller(api_as):
    api_as("csr").post(URL, BODY, format="json", headers={"Idempotency-Key": "shared"})
    second = api_as("supervisor").post(
        URL, BODY, format="json", headers={"Idempotency-Key": "shared"}
    )
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert Customer.objects.filter(company_name="Acme Haulage Ltd").count() == 2


def test_a_failed_request_is_not_remembered(api_as):
    client = api_as("csr")
    bad = client.post(URL, {"kind": "business"}, format="json", headers={"Idempotency-Key": "k-3"})
    fixed = client.post(URL, BODY, format="json", headers={"Idempotency-Key": "k-3"})
    assert (bad.status_code, fixed.status_code) == (422, 201)
    assert Customer.objects.filter(company_name="Acme Haulage Ltd").count() == 1


@pytest.mark.parametrize("key", ["", "x" * 81, "tab\there"])
def test_malformed_key_is_refused_naming_the_header(api_as, key):
    response = api_as("csr").post(URL, BODY, format="json", headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["extra"]["fields"]
    assert not Customer.objects.exists()


def test_retried_suspend_is_recorded_once(api_as, line):
    client = api_as("csr")
    url = f"/api/v1/subscribers/{line.public_id}/suspend/"
    for _ in range(2):
        response = client.post(
            url, {"reason": "Lost phone"}, format="json", headers={"Idempotency-Key": "suspend-1"}
        )
        assert response.status_code == 200
    assert line.events.filter(new_status="suspended").count() == 1
    assert Order.objects.filter(subscriber=line, type="suspend").count() == 1


def test_old_keys_are_purged_by_the_beat_task(csr):
    # given
    now = timezone.now()
    for key, age in (("old", timedelta(hours=25)), ("new", timedelta(0))):
        IdempotencyRecord.objects.create(
            user=csr,
            key=key,
            fingerprint="f",
            status_code=201,
            response_body={},
            created_at=now - age,
        )
    # when
    purged = idempotency_records_purge_task.apply().get()
    # then
    assert purged == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_place_one_new_connection_order():
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given a new connection (the only way to connect a line) sent twice at once with one key
    from django.contrib.auth.models import Group

    csr = UserFactory()
    csr.groups.add(Group.objects.get(name="CSR"))
    account = SubscriberFactory().account
    MsisdnFactory(number="+447400777000")
    body = {
        "type": "new_connection",
        "account": str(account.public_id),
        "plan": str(PricePlanFactory().public_id),
        "msisdn": "07400 777000",
        "iccid": SimCardFactory().iccid,
    }
    barrier = threading.Barrier(2)
    responses: list[tuple[int, dict, str | None]] = []

    def send() -> None:
        client = APIClient()
        client.force_authenticate(csr)
        barrier.wait()
        response = client.post(
            "/api/v1/orders/", body, format="json", headers={"Idempotency-Key": "connect-1"}
        )
        replayed = response.headers.get("Idempotent-Replayed")
        responses.append((response.status_code, response.json(), replayed))
        connections.close_all()

    # when
    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then both answer the one order, and the number and SIM are reserved for it alone
    assert [status for status, _, _ in responses] == [201, 201]
    assert responses[0][1] == responses[1][1]
    assert sorted(str(replayed) for _, _, replayed in responses) == ["None", "true"]
    order = Order.objects.get()
    assert responses[0][1]["number"] == order.number
    number = Msisdn.objects.get(number="+447400777000")
    assert (number.status, number.reservation_ref) == ("reserved", order.number)
    assert list(SimCard.objects.values_list("status", "reservation_ref")) == [
        ("reserved", order.number)
    ]
    assert IdempotencyRecord.objects.get().key == "connect-1"
