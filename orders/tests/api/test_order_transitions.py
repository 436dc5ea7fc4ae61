"""Submitting and cancelling orders through the API, and whole sales from draft to completion."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine

from billing.models import Charge
from crm.models import Subscriber
from crm.tests.api.conftest import error, invalid, matrix
from orders.inventory.models import Msisdn, SimCard
from orders.models import Order, OrderEvent
from orders.placing import (
    order_new_connection_create,
    order_plan_change_create,
    order_service_change_create,
)
from orders.services import order_cancel
from orders.tests.api.conftest import APRIL_10, LIST_URL, NUMBER, action_url, money

TRANSITIONERS = {
    "csr": 200,
    "supervisor": 200,
    "admin": 200,
    "reseller_a": 403,
    "reseller_b": 404,
    "subscriber": 403,
    "other_subscriber": 404,
    "anonymous": 401,
    "key_full": 200,
    "key_without": 403,
}


@pytest.fixture
def draft(csr, account, plan_45, number, sim) -> Order:
    """A new connection for Ada, quoted and holding its number and SIM."""
    return order_new_connection_create(
        actor=csr, channel="console", account=account, plan=plan_45, msisdn=NUMBER, iccid=sim.iccid
    )


# --- submit -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), matrix(**TRANSITIONERS))
def test_order_submit_fetches_in_scope_before_checking_the_permission(
    persona, status, api_as, draft, sim
):
    # when
    response = api_as(persona).post(action_url(draft, "submit"), format="json")
    # then
    assert response.status_code == status
    draft.refresh_from_db()
    if status == 200:
        assert response.json()["status"] == draft.status == "completed"
    else:
        assert draft.status == "draft"
        assert list(draft.events.values_list("new_status", flat=True)) == ["draft"]
        assert Msisdn.objects.get(number=NUMBER).status == "reserved"
        assert SimCard.objects.get(pk=sim.pk).status == "reserved"
        assert not Subscriber.objects.filter(msisdn=NUMBER).exists()


@pytest.mark.parametrize(("persona", "status"), matrix(**{**TRANSITIONERS, "csr": 403}))
def test_order_submit_of_a_termination_also_needs_terminate_subscriber(
    persona, status, api_as, supervisor, line
):
    # given: a supervisor placed the termination
    order = order_service_change_create(
        actor=supervisor, channel="console", subscriber=line, type="terminate", reason="Moving"
    )
    # when
    response = api_as(persona).post(action_url(order, "submit"), format="json")
    # then
    assert response.status_code == status
    line.refresh_from_db()
    assert line.status == ("terminated" if status == 200 else "active")
    if persona == "csr":
        assert response.json() == error(
            "Your role or API key may not terminate lines.", "permission_denied"
        )
        assert Order.objects.get(pk=order.pk).status == "draft"


def test_order_submit_of_a_submitted_order_answers_409(api_as, draft):
    # given
    client = api_as("csr")
    client.post(action_url(draft, "submit"), format="json")
    # when
    again = client.post(action_url(draft, "submit"), format="json")
    # then
    assert again.status_code == 409
    assert again.json() == error(
        f"Order {draft.number} is completed; it cannot become submitted.", "invalid_transition"
    )
    assert Subscriber.objects.filter(msisdn=NUMBER).count() == 1
    assert draft.events.count() == 4


def test_order_submit_of_a_cancelled_order_answers_409_and_applies_nothing(api_as, csr, draft):
    # given
    order_cancel(order=draft, actor=csr, reason="Changed their mind")
    # when
    response = api_as("csr").post(action_url(draft, "submit"), format="json")
    # then
    assert response.status_code == 409
    assert response.json() == error(
        f"Order {draft.number} is cancelled; it cannot become submitted.", "invalid_transition"
    )
    assert not Subscriber.objects.filter(msisdn=NUMBER).exists()


def test_order_submit_of_a_plan_change_at_the_next_bill_date_waits_for_it(
    api_as, csr, line, plan_45
):
    # given
    order = order_plan_change_create(
        actor=csr, channel="console", subscriber=line, plan=plan_45, effective="next_bill_date"
    )
    # when
    response = api_as("csr").post(action_url(order, "submit"), format="json")
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["allowed_transitions"]) == (
        "submitted",
        ["cancelled", "failed", "in_progress"],
    )
    assert body["effective_on"] == order.effective_on.isoformat()
    line.refresh_from_db()
    assert line.plan.code == "basic"


def test_order_submit_answers_a_failed_order_with_its_reason(api_as, draft, sim):
    # given: the number was sold elsewhere after the order's hold lapsed
    Msisdn.objects.filter(number=NUMBER).update(status="assigned", reservation_ref="")
    # when
    response = api_as("csr").post(action_url(draft, "submit"), format="json")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed"
    assert body["failure_reason"] == "+44 7500 900001 is assigned; it cannot become assigned."
    assert not Subscriber.objects.filter(msisdn=NUMBER).exists()
    assert SimCard.objects.get(pk=sim.pk).status == "in_stock"
    assert not Charge.objects.exists()


# --- cancel -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), matrix(**TRANSITIONERS))
def test_order_cancel_fetches_in_scope_before_checking_the_permission(
    persona, status, api_as, draft, sim
):
    # when
    response = api_as(persona).post(
        action_url(draft, "cancel"), {"reason": "Customer changed their mind"}, format="json"
    )
    # then
    assert response.status_code == status
    draft.refresh_from_db()
    if status == 200:
        assert response.json()["status"] == draft.status == "cancelled"
    else:
        assert draft.status == "draft"
        assert Msisdn.objects.get(number=NUMBER).status == "reserved"
        assert SimCard.objects.get(pk=sim.pk).status == "reserved"


def test_order_cancel_releases_the_number_and_sim_and_records_why(api_as, csr, draft, sim):
    # when
    response = api_as("supervisor").post(
        action_url(draft, "cancel"), {"reason": "Customer changed their mind"}, format="json"
    )
    # then
    assert response.status_code == 200
    assert Msisdn.objects.get(number=NUMBER).status == "available"
    assert SimCard.objects.get(pk=sim.pk).status == "in_stock"
    event = OrderEvent.objects.filter(order=draft).last()
    assert (event.old_status, event.new_status, event.reason, event.actor.email) == (
        "draft",
        "cancelled",
        "Customer changed their mind",
        "supervisor@example.com",
    )
    assert response.json()["events"][-1]["reason"] == "Customer changed their mind"
    # and the number may be sold again at once
    again = api_as("csr").post(
        LIST_URL,
        {
            "type": "new_connection",
            "account": str(draft.account.public_id),
            "plan": str(draft.plan.public_id),
            "msisdn": NUMBER,
            "iccid": sim.iccid,
        },
        format="json",
    )
    assert again.status_code == 201


def test_order_cancel_needs_a_reason(api_as, draft):
    # when
    response = api_as("csr").post(action_url(draft, "cancel"), {"reason": ""}, format="json")
    # then
    assert response.status_code == 400
    assert response.json() == invalid(reason=["This field may not be blank."])
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert Msisdn.objects.get(number=NUMBER).status == "reserved"


def test_order_cancel_of_a_completed_order_answers_409(api_as, draft):
    # given
    client = api_as("csr")
    client.post(action_url(draft, "submit"), format="json")
    # when
    response = client.post(action_url(draft, "cancel"), {"reason": "Too late"}, format="json")
    # then
    assert response.status_code == 409
    assert response.json() == error(
        f"Order {draft.number} is completed; it cannot become cancelled.", "invalid_transition"
    )
    assert Subscriber.objects.get(msisdn=NUMBER).status == "active"
    assert Msisdn.objects.get(number=NUMBER).status == "assigned"


def test_order_cancel_retried_with_the_same_idempotency_key_replays(api_as, draft):
    # given
    client = api_as("csr")
    headers = {"Idempotency-Key": "cancel-1"}
    body = {"reason": "Customer changed their mind"}
    # when
    first = client.post(action_url(draft, "cancel"), body, format="json", headers=headers)
    retry = client.post(action_url(draft, "cancel"), body, format="json", headers=headers)
    # then
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert draft.events.filter(new_status="cancelled").count() == 1


# --- whole sales --------------------------------------------------------------------------------


@time_machine.travel(APRIL_10)
def test_a_new_connection_is_quoted_submitted_and_completed_with_its_line(
    api_as, account, plan_45, number, sim, booster, router
):
    # given
    client = api_as("csr")
    body = {
        "type": "new_connection",
        "account": str(account.public_id),
        "plan": str(plan_45.public_id),
        "msisdn": "+44 7500 900001",
        "iccid": sim.iccid,
        "addons": [str(booster.public_id)],
        "devices": [str(router.public_id)],
    }
    # when the order is placed
    placed = client.post(LIST_URL, body, format="json")
    # then the quote has every figure: £10 activation + £5 booster + £49 router, £45 a month,
    # and 21 of 30 days of £45 for the rest of April
    assert placed.status_code == 201
    draft = placed.json()
    assert draft["quote"] == {
        "one_time_total": money("64.00"),
        "recurring_total": money("45.00"),
        "proration_total": money("31.50"),
        "due_now": money("95.50"),
    }
    (debit,) = [row for row in draft["lines"] if row["proration"] is not None]
    assert (debit["kind"], debit["one_time"], debit["proration"]["formula"]) == (
        "proration_debit",
        money("31.50"),
        "45 × 21 / 30 days = 31.5000 → 31.50 GBP",
    )
    # when it is submitted
    submitted = client.post(f"{LIST_URL}{draft['public_id']}/submit/", format="json")
    # then it is completed at once, with the new line active on the plan
    assert submitted.status_code == 200
    order = submitted.json()
    line = Subscriber.objects.get(msisdn=NUMBER)
    assert (line.status, line.plan, line.iccid, line.account) == (
        "active",
        plan_45,
        sim.iccid,
        account,
    )
    assert (order["status"], order["subscriber"]) == (
        "completed",
        {"public_id": str(line.public_id), "msisdn": NUMBER, "status": "active"},
    )
    assert order["completed_at"] is not None
    assert [event["new_status"] for event in order["events"]] == [
        "draft",
        "submitted",
        "in_progress",
        "completed",
    ]
    assert sorted(Charge.objects.filter(account=account).values_list("amount", flat=True)) == [
        Decimal("5.00"),
        Decimal("10.00"),
        Decimal("31.50"),
        Decimal("49.00"),
    ]
    assert Msisdn.objects.get(number=NUMBER).status == "assigned"
    # and the customer sees it among their orders
    mine = api_as("subscriber").get(LIST_URL, {"subscriber": str(line.public_id)}).json()
    assert [row["number"] for row in mine["results"]] == [order["number"]]


@time_machine.travel(APRIL_10)
def test_a_plan_change_now_credits_and_debits_21_days_with_the_formula(api_as, line, plan_45):
    # given: 10 April, day 10 of Ada's 30-day bill period (cycle day 1), on the £30 plan
    client = api_as("key_full")
    body = {
        "type": "plan_change",
        "subscriber": str(line.public_id),
        "plan": str(plan_45.public_id),
    }
    # when
    placed = client.post(LIST_URL, body, format="json")
    # then
    assert placed.status_code == 201
    draft = placed.json()
    assert draft["effective_on"] == "2026-04-10"
    assert [
        (row["kind"], row["one_time"], row["proration"]["days"], row["proration"]["formula"])
        for row in draft["lines"]
        if row["proration"] is not None
    ] == [
        (
            "proration_credit",
            money("-21.00"),
            21,
            "-30 × 21 / 30 days = -21.0000 → -21.00 GBP",
        ),
        ("proration_debit", money("31.50"), 21, "45 × 21 / 30 days = 31.5000 → 31.50 GBP"),
    ]
    assert draft["quote"] == {
        "one_time_total": money("0.00"),
        "recurring_total": money("45.00"),
        "proration_total": money("10.50"),
        "due_now": money("10.50"),
    }
    # when it is submitted
    done = client.post(action_url(Order.objects.get(), "submit"), format="json")
    # then the line is on £45 and the bill gets the credit and the debit
    assert done.json()["status"] == "completed"
    line.refresh_from_db()
    assert line.plan == plan_45
    assert sorted(Charge.objects.values_list("kind", "amount")) == [
        ("proration_credit", Decimal("-21.00")),
        ("proration_debit", Decimal("31.50")),
    ]
