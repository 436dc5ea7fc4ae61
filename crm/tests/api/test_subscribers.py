"""Subscribers (lines) through the API: the list, the detail with what the line holds, and the
service changes, each placed as an order through the API channel and completed at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from billing.balances.models import Bucket
from billing.balances.services import ledger_post
from billing.models import Charge
from billing.services import allowance_grant
from crm.models import Customer, Subscriber, SubscriberEvent
from crm.tests.api.conftest import error, invalid, matrix
from crm.tests.factories import SubscriberFactory, iccid_for
from orders.inventory.models import Msisdn, SimCard
from orders.lines import line_activate
from orders.models import Order, SubscriberAddOn
from orders.placing import order_addon_create, order_plan_change_create, order_sim_swap_create
from orders.services import order_place
from orders.tests.factories import AddOnFactory, AllowanceFactory, PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

LIST_URL = "/api/v1/subscribers/"


def detail_url(subscriber: Subscriber) -> str:
    return f"/api/v1/subscribers/{subscriber.public_id}/"


def action_url(subscriber: Subscriber, action: str) -> str:
    return f"/api/v1/subscribers/{subscriber.public_id}/{action}/"


APRIL_16 = dt.datetime(2026, 4, 16, 9, tzinfo=dt.UTC)  # day 16 of April's 30-day bill period


@pytest.fixture
def plan_30(db):
    """£30 a month with 10 GB, prorated by the day."""
    plan = PricePlanFactory(code="basic", name="Basic 10GB", recurring_fee_amount=Decimal("30"))
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("10240"))
    return plan


@pytest.fixture
def lines(line, other_subscriber, bravo_customer) -> dict[str, Subscriber]:
    """Ada's active line, Olive's suspended one and Bob Bravo's pending one."""
    olive = Customer.objects.get(owner=other_subscriber)
    return {
        "ada": line,
        "olive": SubscriberFactory(
            account__customer=olive, msisdn="+447400222333", status="suspended"
        ),
        "bravo": SubscriberFactory(
            account__customer=bravo_customer,
            status="pending",
            iccid=iccid_for(777),
            imsi="234109990000777",
        ),
    }


# --- list -------------------------------------------------------------------------------------


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
def test_subscriber_list_shows_each_persona_only_their_own(persona, status, api_as, lines):
    # given
    everyone = {"ada", "olive", "bravo"}
    visible = {
        "csr": everyone,
        "supervisor": everyone,
        "admin": everyone,
        "key_full": everyone,
        "reseller_a": {"ada"},
        "reseller_b": {"bravo"},
        "subscriber": {"ada"},
        "other_subscriber": {"olive"},
        "key_without": set(),
    }
    # when
    response = api_as(persona).get(LIST_URL)
    # then
    assert response.status_code == status
    if status == 200:
        found = {row["public_id"] for row in response.json()["results"]}
        assert found == {str(lines[name].public_id) for name in visible[persona]}


def test_subscriber_list_shows_the_msisdn_in_e164_and_identifies_by_public_ids(api_as, line):
    # when
    (row,) = api_as("subscriber").get(LIST_URL).json()["results"]
    # then
    account, customer = line.account, line.account.customer
    assert row == {
        "public_id": str(line.public_id),
        "msisdn": "+447400123456",
        "msisdn_display": "+44 7400 123456",
        "iccid": line.iccid,
        "imsi": line.imsi,
        "status": "active",
        "status_changed_at": None,
        "allowed_transitions": ["suspended", "terminated"],
        "plan": None,
        "plan_started_on": None,
        "account": {
            "public_id": str(account.public_id),
            "number": account.number,
            "payment_type": "postpaid",
            "status": "active",
        },
        "customer": {
            "public_id": str(customer.public_id),
            "number": customer.number,
            "display_name": "Ada Lovelace",
        },
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def test_subscriber_list_shows_the_plan_each_line_is_on(api_as, customer, plan_30):
    # given
    on_plan = SubscriberFactory(
        account__customer=customer, plan=plan_30, plan_started_on=dt.date(2026, 3, 1)
    )
    # when
    (row,) = api_as("subscriber").get(LIST_URL).json()["results"]
    # then
    assert row["public_id"] == str(on_plan.public_id)
    assert row["plan"] == {
        "public_id": str(plan_30.public_id),
        "code": "basic",
        "version": 1,
        "name": "Basic 10GB",
    }
    assert row["plan_started_on"] == "2026-03-01"


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=405,
        supervisor=405,
        admin=405,
        reseller_a=405,
        reseller_b=405,
        subscriber=405,
        other_subscriber=405,
        anonymous=401,
        key_full=405,
        key_without=405,
    ),
)
def test_lines_are_not_created_here_but_by_new_connection_orders(persona, status, api_as, line):
    # given a body the old create endpoint took
    body = {
        "account": str(line.account.public_id),
        "msisdn": "07400 654321",
        "iccid": iccid_for(900_001),
        "imsi": "234100000900001",
    }
    # when
    response = api_as(persona).post(LIST_URL, body, format="json")
    # then
    assert response.status_code == status
    if status == 405:
        assert response.json() == error('Method "POST" not allowed.', "method_not_allowed")
    assert list(Subscriber.objects.all()) == [line]
    assert not SubscriberEvent.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "typed",
    ["07400 123456", "+44 7400 123456", "447400123456", "0044 7400-123456"],
)
def test_subscriber_list_finds_an_msisdn_typed_any_way(typed, api_as, lines):
    # when
    response = api_as("csr").get(LIST_URL, {"msisdn": typed})
    # then
    assert response.status_code == 200
    assert [r["public_id"] for r in response.json()["results"]] == [str(lines["ada"].public_id)]


def test_subscriber_list_refuses_an_msisdn_filter_that_is_not_written_as_a_number(api_as, lines):
    # when
    response = api_as("csr").get(LIST_URL, {"msisdn": "abc"})
    # then: the schema's pattern refuses it
    assert response.status_code == 400
    assert response.json() == invalid(
        msisdn=[
            "Write the number with digits, an optional leading +, spaces, dots, dashes or brackets."
        ]
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12345", "'12345' is not a valid phone number."),
        (
            "+1 415 555 2671",
            "'+1 415 555 2671' is a number of US, not of the operator's country (GB).",
        ),
    ],
)
def test_subscriber_list_refuses_an_msisdn_filter_a_write_would_refuse(
    typed, message, api_as, lines
):
    # when
    response = api_as("csr").get(LIST_URL, {"msisdn": typed})
    # then: shaped like a number, refused by the same rule as a write
    assert response.status_code == 422
    assert response.json() == invalid(msisdn=[message])


@pytest.mark.parametrize("param", ["msisdn", "status", "account"])
def test_subscriber_list_refuses_an_empty_filter_value_the_schema_forbids(param, api_as, lines):
    # when
    response = api_as("csr").get(LIST_URL, {param: ""})
    # then
    assert response.status_code == 400
    assert response.json() == invalid(**{param: ["Give a value, or leave the parameter out."]})


def test_subscriber_list_takes_an_empty_free_text_filter_as_no_filter(api_as, lines):
    # when
    response = api_as("csr").get(LIST_URL, {"iccid": ""})
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_subscriber_list_msisdn_filter_never_widens_the_callers_scope(api_as, lines):
    # when
    response = api_as("subscriber").get(LIST_URL, {"msisdn": "07400 222333"})
    # then
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "suspended"}, {"olive"}),
        ({"status": "pending"}, {"bravo"}),
        ({"imsi": "234109990000777"}, {"bravo"}),
        ({"imsi": "234 109 990 000 777"}, {"bravo"}),
    ],
)
def test_subscriber_list_filters(query, expected, api_as, lines):
    # when
    response = api_as("csr").get(LIST_URL, query)
    # then
    assert {r["public_id"] for r in response.json()["results"]} == {
        str(lines[name].public_id) for name in expected
    }


def test_subscriber_list_filters_by_account_and_iccid(api_as, lines):
    # given
    client = api_as("csr")
    olive = lines["olive"]
    spaced_iccid = " ".join(lines["bravo"].iccid[i : i + 4] for i in range(0, 20, 4))
    # when
    by_account = client.get(LIST_URL, {"account": str(olive.account.public_id)})
    by_iccid = client.get(LIST_URL, {"iccid": spaced_iccid})
    # then
    assert [r["public_id"] for r in by_account.json()["results"]] == [str(olive.public_id)]
    assert [r["public_id"] for r in by_iccid.json()["results"]] == [str(lines["bravo"].public_id)]


# --- detail -----------------------------------------------------------------------------------


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
        key_without=404,
    ),
)
def test_subscriber_detail_is_scoped(persona, status, api_as, line):
    # when
    response = api_as(persona).get(detail_url(line))
    # then
    assert response.status_code == status
    if status == 200:
        assert response.json()["msisdn"] == "+447400123456"


@time_machine.travel(APRIL_16, tick=False)
def test_subscriber_detail_shows_the_plan_add_ons_and_allowances_the_line_holds(
    api_as, csr, customer, plan_30
):
    # given Ada's line activated today on the £30 plan (10 GB until the bill date, 1 GB used),
    # with a 30-day pack of 100 on-net minutes bought since, and an add-on and a gift that ended
    line = SubscriberFactory(
        account__customer=customer,
        status="pending",
        plan=plan_30,
        plan_started_on=dt.date(2026, 4, 16),
    )
    activation = line_activate(subscriber=line, actor=csr, reason="Shop sale", channel="console")
    line.refresh_from_db()
    pack = AddOnFactory(code="minutes-100", name="100 minutes", kind="voice_pack")
    AllowanceFactory(
        plan=None, addon=pack, service="voice", scope="on_net", quantity=Decimal("100")
    )
    bought = order_place(
        order=order_addon_create(actor=csr, channel="console", subscriber=line, addon=pack),
        actor=csr,
    )
    data = Bucket.objects.get(subscriber=line, service="data")
    ledger_post(bucket=data, amount=-1_024_500_000, kind="usage", actor=csr, reason="Data")
    SubscriberAddOn.objects.create(
        subscriber=line,
        addon=AddOnFactory(code="old-booster"),
        order=bought,
        activated_at=APRIL_16 - dt.timedelta(days=40),
        expires_at=APRIL_16 - dt.timedelta(days=10),
    )
    allowance_grant(
        subscriber=line,
        service="sms",
        quantity=Decimal("50"),
        source_key="gift:welcome",
        description="Welcome gift",
        actor=csr,
        valid_from=APRIL_16 - dt.timedelta(days=40),
        valid_until=APRIL_16 - dt.timedelta(days=10),
    )
    # when
    response = api_as("subscriber").get(detail_url(line))
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["plan"] == {
        "public_id": str(plan_30.public_id),
        "code": "basic",
        "version": 1,
        "name": "Basic 10GB",
    }
    assert body["plan_started_on"] == "2026-04-16"
    assert body["addons"] == [
        {
            "code": "minutes-100",
            "name": "100 minutes",
            "kind": "voice_pack",
            "activated_at": "2026-04-16T10:00:00+01:00",
            "expires_at": "2026-05-16T10:00:00+01:00",
            "order": bought.number,
        }
    ]
    assert body["allowances"] == [
        {
            "service": "data",
            "scope": "all",
            "zone": "",
            "quantity": "10240.00",
            "used": "1024.50",
            "remaining": "9215.50",
            "valid_from": "2026-04-16T10:00:00+01:00",
            "valid_until": "2026-05-01T00:00:00+01:00",
            "origin": f"Basic 10GB ({activation.number})",
        },
        {
            "service": "voice",
            "scope": "on_net",
            "zone": "",
            "quantity": "100.00",
            "used": "0.00",
            "remaining": "100.00",
            "valid_from": "2026-04-16T10:00:00+01:00",
            "valid_until": "2026-05-16T10:00:00+01:00",
            "origin": f"100 minutes ({bought.number})",
        },
    ]


# --- status changes ---------------------------------------------------------------------------

STATUS_CHANGERS = {
    "csr": 200,
    "supervisor": 200,
    "admin": 200,
    "reseller_a": 403,
    "reseller_b": 404,
    "subscriber": 403,
    "other_subscriber": 404,
    "anonymous": 401,
    "key_full": 200,
    "key_without": 404,
}


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        ("suspend", "active", "suspended"),
        ("resume", "suspended", "active"),
        ("activate", "pending", "active"),
    ],
)
@pytest.mark.parametrize(("persona", "status"), matrix(**STATUS_CHANGERS))
def test_status_change_fetches_in_scope_before_checking_the_permission(
    action, before, after, persona, status, api_as, line
):
    # given
    Subscriber.objects.filter(pk=line.pk).update(status=before)
    # when
    response = api_as(persona).post(
        action_url(line, action), {"reason": "Customer asked"}, format="json"
    )
    # then
    assert response.status_code == status
    line.refresh_from_db()
    assert line.status == (after if status == 200 else before)
    assert SubscriberEvent.objects.filter(subscriber=line).count() == (status == 200)
    assert Order.objects.filter(subscriber=line, type=action).count() == (status == 200)
    if status == 200:
        assert response.json()["status"] == after
        assert response.json()["order"]["type"] == action
    if status == 403:
        assert response.json() == error(
            "Your role or API key may not do this.", "permission_denied"
        )
    if status == 404:
        assert response.json() == error("Not found.", "not_found")


@pytest.mark.parametrize(("persona", "status"), matrix(**{**STATUS_CHANGERS, "csr": 403}))
def test_terminate_needs_the_terminate_permission(persona, status, api_as, line):
    # when
    response = api_as(persona).post(
        action_url(line, "terminate"), {"reason": "Moved abroad"}, format="json"
    )
    # then
    assert response.status_code == status
    line.refresh_from_db()
    assert line.status == ("terminated" if status == 200 else "active")
    assert SubscriberEvent.objects.filter(subscriber=line).exists() is (status == 200)
    assert Order.objects.filter(subscriber=line).exists() is (status == 200)
    if status == 403:
        assert response.json() == error(
            "Your role or API key may not terminate lines.", "permission_denied"
        )


def test_status_change_is_audited_with_who_and_why(api_as, csr, line):
    # when
    response = api_as("csr").post(
        action_url(line, "suspend"), {"reason": "Phone reported stolen"}, format="json"
    )
    # then
    assert response.json()["allowed_transitions"] == ["active", "terminated"]
    assert response.json()["status_changed_at"] is not None
    event = SubscriberEvent.objects.get(subscriber=line)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        "active",
        "suspended",
        csr,
        "Phone reported stolen",
    )


def test_status_change_answers_the_line_with_the_order_that_made_it(api_as, csr, line):
    # when
    response = api_as("csr").post(
        action_url(line, "suspend"), {"reason": "Phone reported stolen"}, format="json"
    )
    # then
    assert response.status_code == 200
    order = Order.objects.get(subscriber=line)
    assert (order.type, order.status, order.channel, order.placed_by, order.reason) == (
        "suspend",
        "completed",
        "api",
        csr,
        "Phone reported stolen",
    )
    body = response.json()
    assert body["order"] == {
        "public_id": str(order.public_id),
        "number": order.number,
        "type": "suspend",
        "status": "completed",
    }
    assert (body["public_id"], body["status"]) == (str(line.public_id), "suspended")
    assert (body["plan"], body["addons"], body["allowances"]) == (None, [], [])


@pytest.mark.parametrize(
    ("action", "before", "message"),
    [
        ("resume", "active", "+44 7400 123456 is active; it cannot be resumed."),
        ("activate", "active", "+44 7400 123456 is active; it cannot be activated."),
        ("suspend", "terminated", "+44 7400 123456 is terminated; it cannot be suspended."),
        ("terminate", "terminated", "+44 7400 123456 is terminated; it cannot be terminated."),
    ],
)
def test_a_status_change_the_line_does_not_allow_answers_409(action, before, message, api_as, line):
    # given
    Subscriber.objects.filter(pk=line.pk).update(status=before)
    # when
    response = api_as("supervisor").post(
        action_url(line, action), {"reason": "Try it"}, format="json"
    )
    # then
    assert response.status_code == 409
    assert response.json() == error(message, "invalid_transition")
    line.refresh_from_db()
    assert line.status == before
    assert not SubscriberEvent.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"reason": ["This field is required."]}),
        ({"reason": "   "}, {"reason": ["This field may not be blank."]}),
        ({"reason": "x" * 201}, {"reason": ["Ensure this field has no more than 200 characters."]}),
    ],
    ids=["missing", "blank", "too-long"],
)
def test_a_status_change_needs_a_reason(payload, fields, api_as, line):
    # when
    response = api_as("csr").post(action_url(line, "suspend"), payload, format="json")
    # then
    assert response.status_code == 400
    assert response.json() == invalid(**fields)
    line.refresh_from_db()
    assert line.status == "active"
    assert not SubscriberEvent.objects.exists()
    assert not Order.objects.exists()


@time_machine.travel(APRIL_16, tick=False)
def test_terminate_ends_everything_the_line_holds_and_credits_its_unused_days(
    api_as, csr, supervisor, customer, plan_30
):
    # given Ada's line on the £30 monthly plan billed on the 1st, its number from the pool and
    # its SIM from stock, with 10 GB until the bill date, a 30-day add-on, a plan change waiting
    # for the bill date and a SIM swap still in draft
    number = MsisdnFactory(number="+447500000123", status="assigned")
    sim = SimCardFactory(status="assigned")
    line = SubscriberFactory(
        account__customer=customer,
        account__bill_cycle_day=1,
        msisdn=number.number,
        iccid=sim.iccid,
        imsi=sim.imsi,
        plan=plan_30,
        plan_started_on=dt.date(2026, 3, 1),
    )
    grant = allowance_grant(
        subscriber=line,
        service="data",
        quantity=Decimal("10240"),
        source_key="plan:before",
        description="Basic 10GB",
        actor=csr,
        valid_until=dt.datetime(2026, 4, 30, 23, tzinfo=dt.UTC),
    )
    add_on = order_place(
        order=order_addon_create(
            actor=csr, channel="console", subscriber=line, addon=AddOnFactory()
        ),
        actor=csr,
    )
    plan_change = order_place(
        order=order_plan_change_create(
            actor=csr,
            channel="console",
            subscriber=line,
            plan=PricePlanFactory(code="max", recurring_fee_amount=Decimal("45")),
            effective="next_bill_date",
        ),
        actor=csr,
    )
    spare = SimCardFactory()
    sim_swap = order_sim_swap_create(
        actor=csr, channel="console", subscriber=line, iccid=spare.iccid, reason="Cracked SIM"
    )
    assert (add_on.status, plan_change.status, sim_swap.status) == (
        "completed",
        "submitted",
        "draft",
    )
    # when
    response = api_as("supervisor").post(
        action_url(line, "terminate"), {"reason": "Moved abroad"}, format="json"
    )
    # then the line ends, through a terminate order placed and completed through the API
    assert response.status_code == 200
    body = response.json()
    terminate = Order.objects.get(subscriber=line, type="terminate")
    assert (terminate.status, terminate.channel, terminate.placed_by) == (
        "completed",
        "api",
        supervisor,
    )
    assert body["order"] == {
        "public_id": str(terminate.public_id),
        "number": terminate.number,
        "type": "terminate",
        "status": "completed",
    }
    assert (body["status"], body["allowed_transitions"]) == ("terminated", [])
    assert (body["addons"], body["allowances"]) == ([], [])
    line.refresh_from_db()
    assert line.status == "terminated"
    event = SubscriberEvent.objects.get(subscriber=line, new_status="terminated")
    assert (event.old_status, event.actor, event.reason) == ("active", supervisor, "Moved abroad")
    # the number rests in quarantine and the SIM is blocked
    assert Msisdn.objects.get(pk=number.pk).status == "quarantined"
    assert SimCard.objects.get(pk=sim.pk).status == "blocked"
    # allowances and add-ons end now
    grant.refresh_from_db()
    assert grant.valid_until == APRIL_16
    assert not Bucket.objects.filter(subscriber=line, valid_until__gt=APRIL_16).exists()
    assert set(Bucket.objects.filter(subscriber=line).values_list("status", "balance")) == {
        ("expired", Decimal("0"))
    }
    assert list(SubscriberAddOn.objects.filter(subscriber=line).values_list("expires_at")) == [
        (APRIL_16,)
    ]
    # the line's open orders are cancelled, and the spare SIM goes back to stock
    assert Order.objects.get(pk=plan_change.pk).status == "cancelled"
    assert Order.objects.get(pk=sim_swap.pk).status == "cancelled"
    assert SimCard.objects.get(pk=spare.pk).status == "in_stock"
    # the plan's unused days (16 to 30 April, 15 of 30) are credited
    credit = Charge.objects.get(subscriber=line, kind="proration_credit")
    assert (credit.amount, credit.currency) == (Decimal("-15.0000"), "GBP")
