"""Session charging (initiate, update, terminate): quotas reserved from units then money, what
was used committed at the session's price, the rest released; expiry; repeats; concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from billing.balances.models import Bucket, LedgerEntry
from billing.balances.services import ledger_mismatches
from billing.charging.models import ChargingSession
from billing.charging.sessions import sessions_expire
from billing.services import allowance_grant
from billing.tests.charging.conftest import key_client, money
from common.api_keys import api_key_issue

BASE = "/api/v1/charging/sessions/"
ME = "+447400123456"


@pytest.fixture
def msc(admin: Any) -> APIClient:
    return key_client(admin, "billing.charge_online", name="MSC")


def start(client: APIClient, session: str, requested: int | None = 60, **extra: Any) -> dict:
    body = {"request_id": f"{session}-i", "session_id": session, "msisdn": ME,
            "service": "voice", "destination": "+447700900123", **extra}  # fmt: skip
    if requested is not None:
        body["requested"] = requested
    return client.post(BASE, body, format="json").json()


def update(client: APIClient, session: str, n: int, used: int, requested: int = 60) -> dict:
    body = {"request_id": f"{session}-u{n}", "used": used, "requested": requested}
    return client.post(f"{BASE}{session}/update/", body, format="json").json()


def terminate(client: APIClient, session: str, used: int) -> dict:
    body = {"request_id": f"{session}-t", "used": used}
    return client.post(f"{BASE}{session}/terminate/", body, format="json").json()


def state(bucket: Bucket) -> tuple[Decimal, Decimal]:
    fresh = Bucket.objects.get(pk=bucket.pk)
    return fresh.balance, fresh.reserved


@pytest.mark.django_db
def test_a_call_reserves_money_commits_what_was_used_and_releases_the_rest(msc, prepaid, admin):
    # given: 1.00; the tests' tariff charges 0.10 a minute by the second
    main = money(prepaid, "1.00", admin)
    # when: 60 s reserved
    first = start(msc, "call-1")
    # then: held, not spent
    assert (first["result"], first["granted_units"]) == ("granted", "60.0000")
    assert state(main) == (Decimal("1"), Decimal("0.1"))
    # when: 60 s used, 60 more asked
    second = update(msc, "call-1", 1, used=60)
    assert (second["used_total"], second["charged_total"]) == ("60.0000", "0.1000")
    assert state(main) == (Decimal("0.9"), Decimal("0.1"))
    # when: the call ends after 30 more seconds
    last = terminate(msc, "call-1", used=30)
    # then: 90 s charged at 0.15 in all, nothing held
    assert (last["result"], last["used_total"], last["charged_total"]) == (
        "granted", "90.0000", "0.1500",
    )  # fmt: skip
    assert state(main) == (Decimal("0.85"), Decimal("0"))
    assert ChargingSession.objects.get().status == "closed"
    assert sum(e.amount for e in LedgerEntry.objects.filter(kind="usage")) == Decimal("-0.15")
    assert ledger_mismatches() == []


@pytest.mark.django_db
def test_voice_allowance_seconds_are_reserved_before_money(msc, prepaid, admin):
    main = money(prepaid, "1.00", admin)
    minutes = allowance_grant(
        subscriber=prepaid, service="voice", quantity=Decimal("1"), source_key="plan:v",
        description="1 minute", actor=admin, valid_until=None,
    )  # fmt: skip
    first = start(msc, "call-2", requested=90)
    assert first["granted_units"] == "60.0000"  # what the allowance has
    assert state(minutes) == (Decimal("60"), Decimal("60"))
    terminate(msc, "call-2", used=45)
    assert state(minutes) == (Decimal("15"), Decimal("0"))
    assert state(main) == (Decimal("1"), Decimal("0"))


@pytest.mark.django_db
def test_a_quota_the_balance_cannot_pay_is_made_smaller_then_refused(msc, prepaid, admin):
    main = money(prepaid, "0.05", admin)  # 30 s at 0.10 a minute
    first = start(msc, "call-3", requested=120)
    assert (first["result"], first["granted_units"]) == ("granted", "30.0000")
    assert state(main) == (Decimal("0.05"), Decimal("0.05"))
    second = update(msc, "call-3", 1, used=30)
    assert (second["result"], second["reason"]) == ("denied", "insufficient_balance")
    assert state(main) == (Decimal("0"), Decimal("0"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setup", "reason"),
    [("poor", "insufficient_balance"), ("suspended", "line_barred"),
     ("unknown", "unknown_subscriber")],
)  # fmt: skip
def test_an_initiate_that_cannot_go_on_is_denied_and_holds_nothing(
    msc, prepaid, admin, setup, reason
):
    main = money(prepaid, "0" if setup == "poor" else "1.00", admin)
    if setup == "suspended":
        type(prepaid).objects.filter(pk=prepaid.pk).update(status="suspended")
    answer = start(msc, "call-4", msisdn="+447400999999" if setup == "unknown" else ME)
    assert (answer["result"], answer["reason"]) == ("denied", reason)
    assert Bucket.objects.get(pk=main.pk).reserved == 0
    assert not ChargingSession.objects.filter(status="open").exists()


@pytest.mark.django_db
def test_repeated_requests_answer_alike_and_charge_once(msc, prepaid, admin):
    main = money(prepaid, "1.00", admin)
    start(msc, "call-5")
    assert start(msc, "call-5") == start(msc, "call-5")
    first = update(msc, "call-5", 1, used=60)
    assert update(msc, "call-5", 1, used=60) == first
    assert state(main) == (Decimal("0.9"), Decimal("0.1"))


@pytest.mark.django_db
def test_an_unknown_session_is_denied(msc, prepaid):
    answer = update(msc, "nope", 1, used=10)
    assert (answer["result"], answer["reason"]) == ("denied", "unknown_session")


@pytest.mark.django_db
def test_a_session_never_heard_from_again_expires_and_releases_its_hold(msc, prepaid, admin):
    main = money(prepaid, "1.00", admin)
    start(msc, "call-6")
    assert state(main) == (Decimal("1"), Decimal("0.1"))
    # when: the expiry task runs after the reservation's time
    later = timezone.now() + timedelta(hours=1)
    assert sessions_expire(now=later) == 1
    # then
    assert state(main) == (Decimal("1"), Decimal("0"))
    assert ChargingSession.objects.get().status == "expired"
    assert update(msc, "call-6", 1, used=10)["reason"] == "unknown_session"


@pytest.mark.django_db
def test_bad_session_requests_are_refused(msc, prepaid):
    bad = msc.post(BASE, {"request_id": "x", "session_id": "s", "msisdn": ME, "service": "fax"},
                   format="json")  # fmt: skip
    assert bad.status_code == 400
    negative = msc.post(f"{BASE}s/update/", {"request_id": "y", "used": -1}, format="json")
    assert negative.status_code == 400


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_sessions_never_reserve_more_than_the_balance(prepaid, admin):
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given: 0.50 and twelve calls asking 60 s (0.10) each at once
    main = money(prepaid, "0.50", admin)
    _, secret = api_key_issue(actor=admin, name="MSC", permissions=["billing.charge_online"])
    barrier = threading.Barrier(12)
    answers: list[dict] = []

    def call(index: int) -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        try:
            barrier.wait()
            answers.append(start(api, f"c{index}"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: what is granted is what the balance pays for, never more
    granted = sum(Decimal(a["granted_units"]) for a in answers if a["result"] == "granted")
    assert granted == Decimal(300)  # 0.50 buys 300 s at 0.10 a minute
    assert state(main) == (Decimal("0.5"), Decimal("0.5"))


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_updates_initiates_and_events_on_one_line_at_once_all_answer(prepaid, admin):
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given: six calls under way on a line with 100.00
    main = money(prepaid, "100.00", admin)
    _, secret = api_key_issue(actor=admin, name="MSC", permissions=["billing.charge_online"])
    opener = APIClient()
    opener.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    for index in range(6):
        start(opener, f"open{index}")
    barrier = threading.Barrier(18)
    statuses: list[int] = []

    def work(index: int) -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        try:
            barrier.wait()
            if index < 6:  # an update of a call under way (it locks the session's row)
                body = {"request_id": f"u{index}", "used": 30, "requested": 60}
                response = api.post(f"{BASE}open{index}/update/", body, format="json")
            elif index < 12:  # a new call (it inserts rows that refer to the line)
                body = {"request_id": f"n{index}", "session_id": f"new{index}",
                        "msisdn": ME, "service": "voice", "destination": "+447700900123",
                        "requested": 60}  # fmt: skip
                response = api.post(BASE, body, format="json")
            else:  # an SMS
                body = {"request_id": f"e{index}", "msisdn": ME, "service": "sms",
                        "destination": "+447700900123"}  # fmt: skip
                response = api.post("/api/v1/charging/events/", body, format="json")
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(18)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: every request answered (no deadlock, no server error), and the ledger adds up
    assert statuses == [200] * 18
    assert ledger_mismatches() == []
    balance, reserved = state(main)
    assert balance >= reserved


@pytest.mark.django_db
def test_what_was_charged_online_becomes_usage_records_once_and_is_not_charged_again(
    msc, prepaid, admin
):
    from billing.charging.sessions import charged_usage_record
    from billing.usage.models import UsageRecord

    # given: a 90 s call and an SMS charged online
    main = money(prepaid, "1.00", admin)
    start(msc, "call-r", requested=120)
    terminate(msc, "call-r", used=90)
    msc.post("/api/v1/charging/events/", {"request_id": "sms-r", "msisdn": ME, "service": "sms",
             "destination": "+447700900123"}, format="json")  # fmt: skip
    balance_before = Bucket.objects.get(pk=main.pk).balance
    # when
    written = charged_usage_record()
    again = charged_usage_record()
    # then: two records, charged as they were, and not a penny more taken
    assert (written, again) == (2, 0)
    records = {r.service: r for r in UsageRecord.objects.all()}
    assert (records["voice"].billable_seconds, records["voice"].charge_amount) == (
        90, Decimal("0.1500"),
    )  # fmt: skip
    assert (records["sms"].message_parts, records["sms"].charge_amount) == (1, Decimal("0.0500"))
    assert {r.status for r in records.values()} == {"billed"}
    assert {r.subscriber_id for r in records.values()} == {prepaid.pk}
    assert Bucket.objects.get(pk=main.pk).balance == balance_before
    assert ledger_mismatches() == []


@pytest.mark.django_db
def test_ending_an_allowance_during_a_call_leaves_the_call_its_hold(msc, prepaid, admin):
    # given: a call holding 60 s of a 100-minute allowance
    from billing.services import allowances_end

    minutes = allowance_grant(
        subscriber=prepaid, service="voice", quantity=Decimal("100"), source_key="plan:v",
        description="100 minutes", actor=admin, valid_until=None,
    )  # fmt: skip
    start(msc, "call-e", requested=60)
    # when: the plan changes mid-call and its allowances end
    assert allowances_end(subscriber=prepaid, actor=admin, source_prefix="plan:") == 1
    # then: the rest is written off, the call's hold is not; the call then settles it
    assert state(minutes) == (Decimal("60"), Decimal("60"))
    terminate(msc, "call-e", used=40)
    assert state(minutes) == (Decimal("20"), Decimal("0"))
    assert ledger_mismatches() == []
