"""Event charging over the API: every answer, idempotent retries, never overspending."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from billing.balances.models import LedgerEntry
from billing.balances.services import ledger_mismatches
from billing.charging.models import ChargingRequest
from billing.services import allowance_grant
from billing.tests.charging.conftest import balance_of, key_client, money
from common.api_keys import api_key_issue

URL = "/api/v1/charging/events/"
ME = "+447400123456"


@pytest.fixture
def smsc(admin: Any) -> APIClient:
    return key_client(admin, "billing.charge_online")


def sms(request_id: str, **extra: Any) -> dict[str, Any]:
    return {"request_id": request_id, "msisdn": ME, "service": "sms",
            "destination": "+447700900123", **extra}  # fmt: skip


@pytest.mark.django_db
def test_an_sms_is_priced_by_the_tariff_and_debited(smsc, prepaid, admin):
    # given: 1.00; the tests' tariff prices a message at 0.05
    main = money(prepaid, "1.00", admin)
    # when
    response = smsc.post(URL, sms("r-1"), format="json")
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["result"], body["reason"]) == ("granted", "")
    assert (body["amount_charged"], body["currency"]) == ("0.0500", "GBP")
    assert balance_of(main) == Decimal("0.95")
    entry = LedgerEntry.objects.get(kind="usage")
    assert (entry.amount, entry.reference) == (Decimal("-0.05"), "event r-1")
    assert ledger_mismatches() == []


@pytest.mark.django_db
def test_an_sms_allowance_is_used_before_money(smsc, prepaid, admin):
    main = money(prepaid, "1.00", admin)
    bundle = allowance_grant(
        subscriber=prepaid, service="sms", quantity=Decimal("1"), source_key="plan:sms",
        description="SMS 1", actor=admin, valid_until=None,
    )  # fmt: skip
    first = smsc.post(URL, sms("r-1"), format="json").json()
    second = smsc.post(URL, sms("r-2"), format="json").json()
    assert (first["units_charged"], first["amount_charged"]) == ("1.0000", "0.0000")
    assert (second["units_charged"], second["amount_charged"]) == ("0.0000", "0.0500")
    assert balance_of(bundle) == Decimal("0")
    assert balance_of(main) == Decimal("0.95")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setup", "event", "reason"),
    [
        ("poor", {}, "insufficient_balance"),
        ("suspended", {}, "line_barred"),
        ("none", {"msisdn": "+447400999999"}, "unknown_subscriber"),
        ("none", {"msisdn": "not a number"}, "unknown_subscriber"),
        ("rich", {"destination": "+99912345"}, "no_rate"),
    ],
)
def test_each_denial_says_why_and_debits_nothing(smsc, prepaid, admin, setup, event, reason):
    # given
    main = money(prepaid, "0.01" if setup == "poor" else "5.00", admin)
    if setup == "suspended":
        type(prepaid).objects.filter(pk=prepaid.pk).update(status="suspended")
    # when
    response = smsc.post(URL, sms("r-1", **event), format="json")
    # then
    body = response.json()
    assert response.status_code == 200
    assert (body["result"], body["reason"]) == ("denied", reason)
    assert body["detail"]
    assert balance_of(main) == Decimal("0.01" if setup == "poor" else "5.00")
    assert not LedgerEntry.objects.filter(kind="usage").exists()


@pytest.mark.django_db
def test_a_repeated_request_returns_the_first_answer_and_debits_once(smsc, prepaid, admin):
    main = money(prepaid, "1.00", admin)
    first = smsc.post(URL, sms("r-1"), format="json").json()
    again = smsc.post(URL, sms("r-1"), format="json").json()
    assert first == again
    assert balance_of(main) == Decimal("0.95")
    assert ChargingRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_request_id_reused_for_another_event_is_refused(smsc, prepaid, admin):
    main = money(prepaid, "1.00", admin)
    smsc.post(URL, sms("r-1"), format="json")
    response = smsc.post(URL, sms("r-1", quantity=2), format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert balance_of(main) == Decimal("0.95")


@pytest.mark.django_db
def test_a_service_event_is_charged_its_own_price(smsc, prepaid, admin):
    main = money(prepaid, "1.00", admin)
    body = smsc.post(
        URL, {"request_id": "s-1", "msisdn": ME, "service": "service", "amount": "0.75"},
        format="json",
    ).json()  # fmt: skip
    assert (body["result"], body["amount_charged"]) == ("granted", "0.7500")
    assert balance_of(main) == Decimal("0.25")
    missing = smsc.post(URL, {"request_id": "s-2", "msisdn": ME, "service": "service"},
                        format="json")  # fmt: skip
    assert missing.status_code == 422
    assert "amount" in missing.json()["extra"]["fields"]


@pytest.mark.django_db
def test_a_postpaid_line_is_granted_without_a_debit(smsc, line):
    body = smsc.post(URL, sms("p-1"), format="json").json()
    assert (body["result"], body["amount_charged"]) == ("granted", "0.0000")
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{}, {"request_id": "x y", "msisdn": ME, "service": "sms"},
     {"request_id": "r", "msisdn": ME, "service": "fax"},
     {"request_id": "r", "msisdn": ME, "service": "sms", "quantity": 0}],
)  # fmt: skip
def test_bad_requests_are_refused_and_nothing_is_kept(smsc, prepaid, body):
    response = smsc.post(URL, body, format="json")
    assert response.status_code == 400
    assert not ChargingRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["csr", "subscriber", None])
def test_only_clients_with_the_charging_permission_may_ask(
    client, request, prepaid, admin, persona
):
    api = APIClient()
    if persona:
        api.force_authenticate(request.getfixturevalue(persona))
    response = api.post(URL, sms("r-1"), format="json")
    assert response.status_code in (401, 403)
    assert not ChargingRequest.objects.exists()
    other_key = key_client(admin, "billing.push_usage")
    assert other_key.post(URL, sms("r-1"), format="json").status_code == 403


@pytest.mark.django_db
def test_the_balance_query_lists_what_is_available(smsc, prepaid, admin):
    money(prepaid, "2.50", admin)
    response = smsc.get("/api/v1/charging/balances/", {"msisdn": ME})
    assert response.status_code == 200
    [bucket] = response.json()
    assert (bucket["unit"], bucket["available"], bucket["currency"]) == ("money", "2.5000", "GBP")
    assert smsc.get("/api/v1/charging/balances/", {"msisdn": "+447400999999"}).status_code == 404


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_many_concurrent_events_never_spend_more_than_thebalance_of(prepaid, admin):
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given: 0.50 and twenty SMS of 0.05 at once, two of them the same request sent twice
    main = money(prepaid, "0.50", admin)
    _, secret = api_key_issue(actor=admin, name="SMSC", permissions=["billing.charge_online"])
    barrier = threading.Barrier(20)
    answers: list[dict[str, Any]] = []

    def send(index: int) -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        try:
            barrier.wait()
            request_id = "same" if index < 2 else f"r-{index}"
            answers.append(api.post(URL, sms(request_id), format="json").json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: ten granted (0.50 / 0.05) among the nineteen distinct requests, never more
    granted = {a["request_id"] for a in answers if a["result"] == "granted"}
    assert len(granted) == 10
    assert {a["reason"] for a in answers if a["result"] == "denied"} == {"insufficient_balance"}
    assert balance_of(main) == Decimal("0")
    assert LedgerEntry.objects.filter(kind="usage").count() == 10
    assert ledger_mismatches() == []


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_one_request_sent_eight_times_at_once_is_debited_once(prepaid, admin):
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    main = money(prepaid, "1.00", admin)
    _, secret = api_key_issue(actor=admin, name="SMSC", permissions=["billing.charge_online"])
    barrier = threading.Barrier(8)
    answers: list[dict[str, Any]] = []

    def send() -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        try:
            barrier.wait()
            answers.append(api.post(URL, sms("once"), format="json").json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["result"] == "granted"
    assert balance_of(main) == Decimal("0.95")
    assert LedgerEntry.objects.filter(kind="usage").count() == 1
    assert ChargingRequest.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "status"), [("-77.4", 400), (-1, 400), ("0", 422), ("0.0000", 422)]
)
def test_a_service_price_must_be_a_positive_amount_string(smsc, prepaid, admin, amount, status):
    main = money(prepaid, "1.00", admin)
    response = smsc.post(
        URL, {"request_id": "s-x", "msisdn": ME, "service": "service", "amount": amount},
        format="json",
    )  # fmt: skip
    assert response.status_code == status
    assert "amount" in response.json()["extra"]["fields"]
    assert balance_of(main) == Decimal("1")
    assert not ChargingRequest.objects.exists()


@pytest.mark.django_db
def test_an_idempotency_key_header_is_honoured_like_every_write_api(smsc, prepaid, admin):
    main = money(prepaid, "1.00", admin)
    bad = smsc.post(URL, sms("k-1"), format="json", headers={"Idempotency-Key": "bad key\x01"})
    assert bad.status_code == 400
    first = smsc.post(URL, sms("k-1"), format="json", headers={"Idempotency-Key": "key-1"})
    again = smsc.post(URL, sms("k-1"), format="json", headers={"Idempotency-Key": "key-1"})
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert balance_of(main) == Decimal("0.95")
