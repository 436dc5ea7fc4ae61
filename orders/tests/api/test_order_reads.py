"""Listing and reading orders: scoped like their customers, with lines, history and quote."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.tests.api.conftest import invalid, matrix
from orders.models import Order
from orders.placing import (
    order_addon_create,
    order_new_connection_create,
    order_plan_change_create,
    order_service_change_create,
)
from orders.services import order_cancel
from orders.tests.api.conftest import APRIL_10, LIST_URL, detail_url, money


@pytest.fixture
def orders(csr, line, olive_line, bravo_line, plan_45, booster) -> dict[str, Order]:
    """A plan change on Ada's line, a suspension of Olive's and an add-on on Bravo's."""
    return {
        "ada": order_plan_change_create(
            actor=csr, channel="console", subscriber=line, plan=plan_45
        ),
        "olive": order_service_change_create(
            actor=csr, channel="api", subscriber=olive_line, type="suspend", reason="Unpaid"
        ),
        "bravo": order_addon_create(
            actor=csr, channel="partner", subscriber=bravo_line, addon=booster
        ),
    }


# --- list ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=200,
        supervisor=200,
        admin=200,
        reseller_a=200,
        reseller_b=200,
        subscriber=200,
        other_subscriber=200,
        anonymous=401,
        key_full=200,
        key_without=200,
    ),
)
def test_order_list_shows_each_persona_only_their_customers_orders(persona, status, api_as, orders):
    # given
    everyone = {"ada", "olive", "bravo"}
    visible = {
        "csr": everyone,
        "supervisor": everyone,
        "admin": everyone,
        "key_full": everyone,
        "key_without": everyone,
        "reseller_a": {"ada"},
        "reseller_b": {"bravo"},
        "subscriber": {"ada"},
        "other_subscriber": {"olive"},
    }
    # when
    response = api_as(persona).get(LIST_URL)
    # then
    assert response.status_code == status
    if status == 200:
        found = {row["number"] for row in response.json()["results"]}
        assert found == {orders[name].number for name in visible[persona]}


def test_order_list_row_names_everything_by_public_id_or_number(api_as, orders, line, plan_45):
    # given
    order = orders["ada"]
    # when
    (row,) = api_as("subscriber").get(LIST_URL).json()["results"]
    # then
    account, customer = line.account, line.account.customer
    assert row == {
        "public_id": str(order.public_id),
        "number": order.number,
        "type": "plan_change",
        "status": "draft",
        "allowed_transitions": ["cancelled", "submitted"],
        "channel": "console",
        "placed_by": "Casey Rep",
        "customer": {
            "public_id": str(customer.public_id),
            "number": customer.number,
            "display_name": "Ada Lovelace",
        },
        "account": {
            "public_id": str(account.public_id),
            "number": account.number,
            "payment_type": "postpaid",
            "status": "active",
        },
        "subscriber": {
            "public_id": str(line.public_id),
            "msisdn": "+447400123456",
            "status": "active",
        },
        "plan": {
            "public_id": str(plan_45.public_id),
            "code": "max",
            "version": 1,
            "name": "Max 100GB",
        },
        "msisdn": None,
        "iccid": None,
        "port_in": None,
        "partner": None,
        "effective": "now",
        "effective_on": timezone.localdate().isoformat(),
        "reason": "",
        "failure_reason": "",
        "submitted_at": None,
        "completed_at": None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def test_order_list_is_newest_first(api_as, orders):
    # when
    response = api_as("csr").get(LIST_URL)
    # then
    assert [row["number"] for row in response.json()["results"]] == [
        orders["bravo"].number,
        orders["olive"].number,
        orders["ada"].number,
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "suspend"}, {"olive"}),
        ({"type": "add_on"}, {"bravo"}),
        ({"status": "cancelled"}, {"bravo"}),
        ({"status": "draft"}, {"ada", "olive"}),
    ],
    ids=["type-suspend", "type-add-on", "status-cancelled", "status-draft"],
)
def test_order_list_filters_by_type_and_status(query, expected, api_as, csr, orders):
    # given
    order_cancel(order=orders["bravo"], actor=csr, reason="Changed their mind")
    # when
    response = api_as("csr").get(LIST_URL, query)
    # then
    assert response.status_code == 200
    assert {r["number"] for r in response.json()["results"]} == {
        orders[name].number for name in expected
    }


def test_order_list_filters_by_customer_and_subscriber(api_as, orders, olive_line, bravo_line):
    # given
    client = api_as("csr")
    # when
    by_customer = client.get(LIST_URL, {"customer": str(bravo_line.account.customer.public_id)})
    by_subscriber = client.get(LIST_URL, {"subscriber": str(olive_line.public_id)})
    # then
    assert [r["number"] for r in by_customer.json()["results"]] == [orders["bravo"].number]
    assert [r["number"] for r in by_subscriber.json()["results"]] == [orders["olive"].number]


def test_order_list_filters_by_creation_time(api_as, orders):
    # given: Olive's order was placed on 1 March, the others today
    Order.objects.filter(pk=orders["olive"].pk).update(
        created_at=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    )
    client = api_as("csr")
    # when
    before = client.get(LIST_URL, {"created_before": "2026-03-02T00:00:00Z"})
    after = client.get(LIST_URL, {"created_after": "2026-03-02T00:00:00Z"})
    # then
    assert [r["number"] for r in before.json()["results"]] == [orders["olive"].number]
    assert {r["number"] for r in after.json()["results"]} == {
        orders["ada"].number,
        orders["bravo"].number,
    }


def test_order_list_filters_never_widen_the_callers_scope(api_as, orders, olive_line):
    # when: Ada's login asks for Olive's line
    response = api_as("subscriber").get(LIST_URL, {"subscriber": str(olive_line.public_id)})
    # then
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_order_list_refuses_filter_values_it_does_not_know(api_as, orders):
    # when
    response = api_as("csr").get(
        LIST_URL, {"type": "upgrade", "customer": "nobody", "created_after": "yesterday"}
    )
    # then
    assert response.status_code == 400
    assert response.json() == invalid(
        type=["Select a valid choice. upgrade is not one of the available choices."],
        customer=["Enter a valid UUID."],
        created_after=["Enter a valid date/time."],
    )


# --- detail -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=200,
        supervisor=200,
        admin=200,
        reseller_a=200,
        reseller_b=404,
        subscriber=200,
        other_subscriber=404,
        anonymous=401,
        key_full=200,
        key_without=200,
    ),
)
def test_order_detail_is_scoped(persona, status, api_as, orders):
    # when
    response = api_as(persona).get(detail_url(orders["ada"]))
    # then
    assert response.status_code == status
    if status == 200:
        assert response.json()["number"] == orders["ada"].number
    else:
        assert response.json()["code"] in {"not_found", "not_authenticated"}


def test_order_detail_of_an_unknown_order_answers_404_in_the_error_shape(api_as, orders):
    # when
    response = api_as("csr").get("/api/v1/orders/00000000-0000-4000-8000-000000000000/")
    malformed = api_as("csr").get("/api/v1/orders/ORD-1/")
    # then
    not_found = {"message": "Not found.", "code": "not_found", "extra": {"fields": {}}}
    assert (response.status_code, response.json()) == (404, not_found)
    assert (malformed.status_code, malformed.json()) == (404, not_found)


@time_machine.travel(APRIL_10)
def test_order_detail_shows_lines_with_amounts_proration_formulas_events_and_quote(
    api_as, csr, line, plan_45
):
    # given: on day 10 of Ada's 30-day bill period, her line moves from £30 to £45
    order = order_plan_change_create(actor=csr, channel="console", subscriber=line, plan=plan_45)
    # when
    body = api_as("subscriber").get(detail_url(order)).json()
    # then
    assert body["lines"] == [
        {
            "kind": "plan",
            "description": "Max 100GB from 10 Apr 2026",
            "one_time": money("0.00"),
            "recurring": money("45.00"),
            "plan": {
                "public_id": str(plan_45.public_id),
                "code": "max",
                "version": 1,
                "name": "Max 100GB",
            },
            "addon": None,
            "device": None,
            "proration": None,
        },
        {
            "kind": "proration_credit",
            "description": "Unused 21 days of Basic 10GB",
            "one_time": money("-21.00"),
            "recurring": money("0.00"),
            "plan": None,
            "addon": None,
            "device": None,
            "proration": {
                "days": 21,
                "period_days": 30,
                "period_start": "2026-04-01",
                "period_end": "2026-04-30",
                "formula": "-30 × 21 / 30 days = -21.0000 → -21.00 GBP",
            },
        },
        {
            "kind": "proration_debit",
            "description": "21 days of Max 100GB",
            "one_time": money("31.50"),
            "recurring": money("0.00"),
            "plan": None,
            "addon": None,
            "device": None,
            "proration": {
                "days": 21,
                "period_days": 30,
                "period_start": "2026-04-01",
                "period_end": "2026-04-30",
                "formula": "45 × 21 / 30 days = 31.5000 → 31.50 GBP",
            },
        },
    ]
    assert body["quote"] == {
        "one_time_total": money("0.00"),
        "recurring_total": money("45.00"),
        "proration_total": money("10.50"),
        "due_now": money("10.50"),
    }
    assert body["events"] == [
        {
            "old_status": "",
            "new_status": "draft",
            "actor": "Casey Rep",
            "reason": "Placed in the CSR console",
            "created_at": body["events"][0]["created_at"],
        }
    ]


def test_order_detail_names_the_device_unit_reserved_for_a_new_connection(
    api_as, csr, account, plan_45, number, sim, router
):
    # given
    order = order_new_connection_create(
        actor=csr,
        channel="console",
        account=account,
        plan=plan_45,
        msisdn=number.number,
        iccid=sim.iccid,
        devices=[router],
    )
    # when
    body = api_as("csr").get(detail_url(order)).json()
    # then
    assert (body["msisdn"], body["iccid"], body["subscriber"]) == (number.number, sim.iccid, None)
    (device_line,) = [row for row in body["lines"] if row["kind"] == "device"]
    assert device_line["device"] == {
        "public_id": str(router.public_id),
        "sku": "RT-5G",
        "name": "5G router",
        "serial": "R-0001",
    }
    assert device_line["one_time"] == money("49.00")


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_order_list_does_not_query_per_row(api_as, csr, line, plan_45, olive_line, booster):
    # given
    client = api_as("csr")
    order_plan_change_create(actor=csr, channel="api", subscriber=line, plan=plan_45)
    one_row = _queries(client, LIST_URL)
    for _ in range(5):
        order_addon_create(actor=csr, channel="api", subscriber=olive_line, addon=booster)
    # when
    six_rows = _queries(client, LIST_URL)
    # then
    assert six_rows == one_row
