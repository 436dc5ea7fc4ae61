"""Placing orders through the API: who may, what every type needs, and what bad input answers.

Every refused request leaves nothing behind: no order, no order event, the number still in the
pool and the SIM still in stock.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from crm.models import Subscriber
from crm.tests.api.conftest import error, invalid, matrix
from crm.tests.factories import AccountFactory
from crm.validators import iccid_build
from orders.inventory.models import DeviceItem, InventoryEvent, Msisdn, SimCard
from orders.models import Order, OrderEvent
from orders.placing import order_addon_create
from orders.services import order_complete, order_submit
from orders.tests.api.conftest import LIST_URL, NUMBER, UNKNOWN_ID
from orders.tests.factories import AddOnFactory, PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

TAKEN = "+447500900099"  # a number some test gives to a live line before asking for it


def assert_nothing_written(sim: SimCard | None = None) -> None:
    assert not Order.objects.exists()
    assert not OrderEvent.objects.exists()
    assert not InventoryEvent.objects.exists()
    assert not Msisdn.objects.exclude(status="available").exclude(number=TAKEN).exists()
    if sim is not None:
        assert SimCard.objects.get(pk=sim.pk).status == "in_stock"


def _line_body(order_type: str, line: Any, **fields: Any) -> dict[str, Any]:
    return {"type": order_type, "subscriber": str(line.public_id), **fields}


@pytest.fixture
def bodies(new_connection, line, plan_45, booster, sim) -> dict[str, dict[str, Any]]:
    """A valid body of every order type, for Ada's account and her active £30 line."""
    spare = SimCardFactory()
    return {
        "new_connection": new_connection,
        "plan_change": _line_body("plan_change", line, plan=str(plan_45.public_id)),
        "add_on": _line_body("add_on", line, addon=str(booster.public_id)),
        "sim_swap": _line_body("sim_swap", line, iccid=spare.iccid, reason="Phone stolen"),
        "suspend": _line_body("suspend", line, reason="Lost phone"),
        "terminate": _line_body("terminate", line, reason="Moving abroad"),
    }


# --- who may place orders -----------------------------------------------------------------------

PLACERS = {
    "csr": 201,
    "supervisor": 201,
    "admin": 201,
    "reseller_a": 403,
    "reseller_b": 403,
    "subscriber": 403,
    "other_subscriber": 403,
    "anonymous": 401,
    "key_full": 201,
    "key_without": 403,
}


@pytest.mark.parametrize(
    "order_type", ["new_connection", "plan_change", "add_on", "sim_swap", "suspend"]
)
@pytest.mark.parametrize(("persona", "status"), matrix(**PLACERS))
def test_order_create_needs_place_order(order_type, persona, status, api_as, bodies, sim):
    # when
    response = api_as(persona).post(LIST_URL, bodies[order_type], format="json")
    # then
    assert response.status_code == status
    if status == 201:
        order = Order.objects.get()
        assert (order.type, order.status, order.channel) == (order_type, "draft", "api")
        assert response.json()["number"] == order.number
    else:
        assert response.json()["code"] in {"permission_denied", "not_authenticated"}
        assert_nothing_written(sim)


@pytest.mark.parametrize(("persona", "status"), matrix(**{**PLACERS, "csr": 403}))
def test_order_create_of_a_termination_also_needs_terminate_subscriber(
    persona, status, api_as, bodies, line
):
    # when
    response = api_as(persona).post(LIST_URL, bodies["terminate"], format="json")
    # then
    assert response.status_code == status
    assert Order.objects.filter(type="terminate").exists() is (status == 201)
    if persona == "csr":
        assert response.json() == error(
            "Your role or API key may not terminate lines.", "permission_denied"
        )
    line.refresh_from_db()
    assert line.status == "active"


def test_order_create_records_the_api_key_that_placed_it(api_as, bodies, sim):
    # when
    response = api_as("key_full").post(LIST_URL, bodies["new_connection"], format="json")
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["channel"], body["placed_by"]) == ("api", "Integrator (API key)")
    assert body["events"][0]["reason"] == "Placed in the API"


def test_a_key_with_place_order_only_sees_no_account_to_place_it_on(
    api_as, issue_key, new_connection, sim
):
    # given: a key that may place orders but sees no customer
    client = api_as("anonymous")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issue_key('orders.place_order')}")
    # when
    response = client.post(LIST_URL, new_connection, format="json")
    # then
    assert response.status_code == 422
    assert response.json() == invalid(account=["There is no account with this id."])
    assert_nothing_written(sim)


def test_a_key_with_place_order_only_sees_no_line_to_change(api_as, issue_key, bodies):
    # given
    client = api_as("anonymous")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issue_key('orders.place_order')}")
    # when
    responses = [
        client.post(LIST_URL, bodies[order_type], format="json")
        for order_type in ("plan_change", "add_on", "sim_swap", "suspend")
    ]
    # then
    assert [r.status_code for r in responses] == [422, 422, 422, 422]
    assert all(
        r.json() == invalid(subscriber=["There is no subscriber with this id."]) for r in responses
    )
    assert not Order.objects.exists()


# --- what the answer carries --------------------------------------------------------------------


def test_order_create_answers_the_draft_with_its_quote(
    api_as, new_connection, booster, router, sim
):
    # given: a number, the £45 plan with its £10 activation fee, a £5 booster and a £49 router
    body = {
        **new_connection,
        "addons": [str(booster.public_id)],
        "devices": [str(router.public_id)],
    }
    # when
    response = api_as("csr").post(LIST_URL, body, format="json")
    # then
    assert response.status_code == 201
    order = response.json()
    assert (order["type"], order["status"], order["msisdn"], order["iccid"]) == (
        "new_connection",
        "draft",
        NUMBER,
        sim.iccid,
    )
    assert [(row["kind"], row["one_time"]["amount"]) for row in order["lines"]][:4] == [
        ("number", "0.00"),
        ("sim", "0.00"),
        ("plan", "0.00"),
        ("activation_fee", "10.00"),
    ]
    assert order["quote"]["one_time_total"] == {"amount": "64.00", "currency": "GBP"}
    assert order["quote"]["recurring_total"] == {"amount": "45.00", "currency": "GBP"}
    assert Msisdn.objects.get(number=NUMBER).status == "reserved"
    assert SimCard.objects.get(pk=sim.pk).status == "reserved"
    assert DeviceItem.objects.get(serial="R-0001").status == "reserved"


def test_order_create_takes_the_next_number_of_a_category(api_as, new_connection, number):
    # given
    golden = MsisdnFactory(number="+447500777777", category="golden", price_amount=Decimal("50"))
    body = {**new_connection, "msisdn": "", "number_category": "golden"}
    # when
    response = api_as("csr").post(LIST_URL, body, format="json")
    # then
    assert response.status_code == 201
    assert response.json()["msisdn"] == golden.number
    assert response.json()["lines"][0]["one_time"] == {"amount": "50.00", "currency": "GBP"}
    assert Msisdn.objects.get(pk=number.pk).status == "available"


def test_order_create_of_a_plan_change_at_the_next_bill_date_prorates_nothing(api_as, bodies, line):
    # when
    response = api_as("csr").post(
        LIST_URL, {**bodies["plan_change"], "effective": "next_bill_date"}, format="json"
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["effective"] == "next_bill_date"
    assert [row["kind"] for row in body["lines"]] == ["plan"]
    assert body["quote"]["due_now"] == {"amount": "0.00", "currency": "GBP"}


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, invalid(type=["This field is required."])),
        ({"type": "upgrade"}, invalid(type=['"upgrade" is not a valid choice.'])),
        (
            {"type": "new_connection"},
            invalid(
                account=["This field is required."],
                plan=["This field is required."],
                iccid=["This field is required."],
            ),
        ),
        (
            {"type": "plan_change"},
            invalid(subscriber=["This field is required."], plan=["This field is required."]),
        ),
        (
            {"type": "add_on"},
            invalid(subscriber=["This field is required."], addon=["This field is required."]),
        ),
        (
            {"type": "sim_swap"},
            invalid(
                subscriber=["This field is required."],
                iccid=["This field is required."],
                reason=["This field is required."],
            ),
        ),
        (
            {"type": "terminate", "subscriber": "line", "reason": "  "},
            invalid(reason=["This field may not be blank."]),
        ),
        (
            {"type": "suspend", "subscriber": "not-a-uuid", "reason": "x"},
            invalid(subscriber=["Must be a valid UUID."]),
        ),
    ],
    ids=[
        "no-type",
        "unknown-type",
        "new-connection-empty",
        "plan-change-empty",
        "add-on-empty",
        "sim-swap-empty",
        "blank-reason",
        "malformed-id",
    ],
)
def test_order_create_refuses_missing_fields(body, expected, api_as, line, sim):
    # given
    if body.get("subscriber") == "line":
        body = {**body, "subscriber": str(line.public_id)}
    # when
    response = api_as("supervisor").post(LIST_URL, body, format="json")
    # then
    assert response.status_code == 400
    assert response.json() == expected
    assert_nothing_written(sim)


VALID_ICCID = iccid_build(999, issuer="40")
# Cases whose body breaks the published schema (400); the others match it but a rule refuses
# them (422).
SHAPE_CASES = {"effective", "no-reason"}
BAD_LUHN = VALID_ICCID[:-1] + str((int(VALID_ICCID[-1]) + 1) % 10)


def _taken(number: str) -> str:
    MsisdnFactory(number=number, status="assigned")
    return number


@pytest.mark.parametrize(
    ("changes", "status", "expected"),
    [
        (
            {"plan": UNKNOWN_ID, "account": UNKNOWN_ID},
            422,
            invalid(
                account=["There is no account with this id."],
                plan=["There is no plan with this id."],
            ),
        ),
        (
            {"addons": [UNKNOWN_ID], "devices": [UNKNOWN_ID]},
            422,
            invalid(
                addons=[f"There is no add-on with the id {UNKNOWN_ID}."],
                devices=[f"There is no device with the id {UNKNOWN_ID}."],
            ),
        ),
        (
            {"plan": "API_BARRED"},
            422,
            error(
                "The order cannot be placed.",
                plan=[
                    "Console only v1 is not on sale to individual postpaid customers in the API."
                ],
            ),
        ),
        (
            {"plan": "PREPAID"},
            422,
            error(
                "The order cannot be placed.",
                plan=[
                    "Pay as you go v1 is not on sale to individual postpaid customers in the API."
                ],
            ),
        ),
        (
            {"msisdn": "TAKEN"},
            422,
            error(
                "+44 7500 900099 is assigned; it cannot become reserved.",
                "unavailable",
                msisdn=["+44 7500 900099 is assigned; it cannot become reserved."],
            ),
        ),
        (
            {"msisdn": "07500 999999"},
            422,
            error(
                "+44 7500 999999 is not in the number pool.",
                "not_found",
                msisdn=["+44 7500 999999 is not in the number pool."],
            ),
        ),
        (
            {"msisdn": ""},
            422,
            error(
                "The order cannot be placed.",
                msisdn=["Choose a number or a number category, or port a number in."],
            ),
        ),
        (
            {"number_category": "golden"},
            422,
            invalid(number_category=["Give a number or a number category, not both."]),
        ),
        (
            {"msisdn": "", "number_category": "golden"},
            422,
            error(
                "No golden number is available.",
                "out_of_stock",
                number_category=["No golden number is available."],
            ),
        ),
        (
            {"iccid": BAD_LUHN},
            422,
            error(
                "The ICCID's check digit is wrong: check it was typed correctly.",
                iccid=["The ICCID's check digit is wrong: check it was typed correctly."],
            ),
        ),
        (
            {"addons": "CONFLICTING"},
            422,
            error(
                "The order cannot be placed.",
                addons=["EU 1GB and EU 5GB cannot be held together."],
            ),
        ),
    ],
    ids=[
        "unknown-plan-and-account",
        "unknown-add-on-and-device",
        "plan-not-sold-in-the-api",
        "plan-for-prepaid-accounts",
        "number-taken",
        "number-not-in-pool",
        "no-number",
        "number-and-category",
        "category-sold-out",
        "iccid-check-digit",
        "conflicting-add-ons",
    ],
)
def test_order_create_of_a_new_connection_refuses_bad_input_and_writes_nothing(
    changes, status, expected, api_as, new_connection, sim
):
    # given
    if changes.get("plan") == "API_BARRED":
        plan = PricePlanFactory(name="Console only", eligible_channels=["console"])
        changes = {**changes, "plan": str(plan.public_id)}
    if changes.get("plan") == "PREPAID":
        plan = PricePlanFactory(name="Pay as you go", payment_type="prepaid")
        changes = {**changes, "plan": str(plan.public_id)}
    if changes.get("msisdn") == "TAKEN":
        changes = {**changes, "msisdn": _taken(TAKEN)}
    if changes.get("addons") == "CONFLICTING":
        small = AddOnFactory(name="EU 1GB")
        big = AddOnFactory(name="EU 5GB", conflicts=[small])
        changes = {**changes, "addons": [str(small.public_id), str(big.public_id)]}
    # when
    response = api_as("csr").post(LIST_URL, {**new_connection, **changes}, format="json")
    # then
    assert response.status_code == status
    assert response.json() == expected
    assert_nothing_written(sim)


def test_order_create_refuses_a_sim_that_is_already_in_use(api_as, new_connection, sim):
    # given
    used = SimCardFactory(status="assigned")
    # when
    response = api_as("csr").post(LIST_URL, {**new_connection, "iccid": used.iccid}, format="json")
    # then
    message = f"SIM {used.iccid} is assigned; it cannot become reserved."
    assert response.status_code == 422
    assert response.json() == error(message, "unavailable", iccid=[message])
    assert_nothing_written(sim)
    assert Msisdn.objects.get(number=NUMBER).status == "available"


def test_order_create_of_a_new_connection_on_someone_elses_account_is_unknown(
    api_as, issue_key, new_connection, bravo_customer
):
    # given: a key that may place orders; the account is Bob Bravo's, which it cannot see
    client = api_as("anonymous")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issue_key('orders.place_order')}")
    other = AccountFactory(customer=bravo_customer)
    # when
    response = client.post(
        LIST_URL, {**new_connection, "account": str(other.public_id)}, format="json"
    )
    # then
    assert response.status_code == 422
    assert response.json() == invalid(account=["There is no account with this id."])
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"plan": UNKNOWN_ID}, invalid(plan=["There is no plan with this id."])),
        (
            {"subscriber": UNKNOWN_ID, "plan": UNKNOWN_ID},
            invalid(
                subscriber=["There is no subscriber with this id."],
                plan=["There is no plan with this id."],
            ),
        ),
        ({"effective": "tomorrow"}, invalid(effective=['"tomorrow" is not a valid choice.'])),
        (
            {"plan": "CURRENT"},
            error("The plan cannot be changed.", plan=["The line is already on Basic 10GB v1."]),
        ),
        (
            {"plan": "PREPAID"},
            error(
                "The plan cannot be changed.",
                plan=[
                    "Pay as you go v1 is not on sale to individual postpaid customers in the API."
                ],
            ),
        ),
    ],
    ids=["unknown-plan", "unknown-line-and-plan", "effective", "same-plan", "prepaid-plan"],
)
def test_order_create_of_a_plan_change_refuses_bad_input(
    changes, expected, api_as, bodies, line, plan_30, request
):
    # given
    if changes.get("plan") == "CURRENT":
        changes = {**changes, "plan": str(plan_30.public_id)}
    if changes.get("plan") == "PREPAID":
        plan = PricePlanFactory(name="Pay as you go", payment_type="prepaid")
        changes = {**changes, "plan": str(plan.public_id)}
    # when
    response = api_as("csr").post(LIST_URL, {**bodies["plan_change"], **changes}, format="json")
    # then
    assert response.status_code == (400 if request.node.callspec.id in SHAPE_CASES else 422)
    assert response.json() == expected
    assert_nothing_written()
    line.refresh_from_db()
    assert line.plan == plan_30


def test_order_create_of_an_add_on_refuses_one_that_conflicts_with_what_the_line_holds(
    api_as, csr, bodies, line
):
    # given: the line holds the EU 1GB pack
    small = AddOnFactory(name="EU 1GB")
    big = AddOnFactory(name="EU 5GB", conflicts=[small])
    held = order_addon_create(actor=csr, channel="console", subscriber=line, addon=small)
    order_complete(order=order_submit(order=held, actor=csr), actor=csr)
    # when
    response = api_as("csr").post(
        LIST_URL, {**bodies["add_on"], "addon": str(big.public_id)}, format="json"
    )
    # then
    assert response.status_code == 422
    assert response.json() == error(
        "The add-on cannot be bought.", addon=["EU 5GB and EU 1GB cannot be held together."]
    )
    assert list(Order.objects.all()) == [held]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"addon": UNKNOWN_ID}, invalid(addon=["There is no addon with this id."])),
        (
            {"addon": "OTHER_PLAN"},
            error(
                "The add-on cannot be bought.", addon=["Max only cannot be bought on Basic 10GB."]
            ),
        ),
        (
            {"addon": "RETIRED"},
            error("The add-on cannot be bought.", addon=["Old pack is no longer on sale."]),
        ),
    ],
    ids=["unknown-add-on", "add-on-for-another-plan", "retired-add-on"],
)
def test_order_create_of_an_add_on_refuses_bad_input(changes, expected, api_as, bodies):
    # given
    if changes.get("addon") == "OTHER_PLAN":
        changes = {"addon": str(AddOnFactory(name="Max only", plan_codes=["max"]).public_id)}
    if changes.get("addon") == "RETIRED":
        changes = {"addon": str(AddOnFactory(name="Old pack", status="retired").public_id)}
    # when
    response = api_as("csr").post(LIST_URL, {**bodies["add_on"], **changes}, format="json")
    # then
    assert response.status_code == 422
    assert response.json() == expected
    assert_nothing_written()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"iccid": BAD_LUHN},
            error(
                "The ICCID's check digit is wrong: check it was typed correctly.",
                iccid=["The ICCID's check digit is wrong: check it was typed correctly."],
            ),
        ),
        (
            {"iccid": "8944"},
            error(
                "An ICCID has 19 or 20 digits; this has 4.",
                iccid=["An ICCID has 19 or 20 digits; this has 4."],
            ),
        ),
        ({"reason": ""}, invalid(reason=["This field may not be blank."])),
    ],
    ids=["iccid-check-digit", "iccid-length", "no-reason"],
)
def test_order_create_of_a_sim_swap_refuses_bad_input(
    changes, expected, api_as, bodies, line, request
):
    # when
    response = api_as("csr").post(LIST_URL, {**bodies["sim_swap"], **changes}, format="json")
    # then
    assert response.status_code == (400 if request.node.callspec.id in SHAPE_CASES else 422)
    assert response.json() == expected
    assert_nothing_written()
    assert not SimCard.objects.exclude(status="in_stock").exists()


def test_order_create_of_a_sim_swap_refuses_a_sim_in_use(api_as, bodies, line):
    # given
    used = SimCardFactory(status="assigned")
    # when
    response = api_as("csr").post(
        LIST_URL, {**bodies["sim_swap"], "iccid": used.iccid}, format="json"
    )
    # then
    message = f"SIM {used.iccid} is assigned; it cannot become reserved."
    assert response.status_code == 422
    assert response.json() == error(message, "unavailable", iccid=[message])
    assert_nothing_written()


@pytest.mark.parametrize(
    ("order_type", "line_status", "expected"),
    [
        (
            "resume",
            "active",
            error("+44 7400 123456 is active; it cannot be resumed.", "invalid_transition"),
        ),
        (
            "suspend",
            "terminated",
            error("+44 7400 123456 is terminated; it cannot be suspended.", "invalid_transition"),
        ),
        (
            "terminate",
            "terminated",
            error("+44 7400 123456 is terminated; it cannot be terminated.", "invalid_transition"),
        ),
    ],
    ids=["resume-active", "suspend-terminated", "terminate-terminated"],
)
def test_order_create_of_a_service_change_the_line_refuses(
    order_type, line_status, expected, api_as, line
):
    # given
    Subscriber.objects.filter(pk=line.pk).update(status=line_status)
    body = _line_body(order_type, line, reason="Customer asked")
    # when
    response = api_as("supervisor").post(LIST_URL, body, format="json")
    # then the line's state refuses it: 409, and nothing is written
    assert response.status_code == 409
    assert response.json() == expected
    assert_nothing_written()


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_order_create_retried_with_the_same_idempotency_key_places_one_order(
    api_as, new_connection
):
    # given
    client = api_as("key_full")
    # when
    first = client.post(LIST_URL, new_connection, format="json", headers={"Idempotency-Key": "o-1"})
    retry = client.post(LIST_URL, new_connection, format="json", headers={"Idempotency-Key": "o-1"})
    # then
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert Msisdn.objects.get(number=NUMBER).status == "reserved"


def test_order_create_refused_with_an_idempotency_key_may_be_corrected_and_retried(
    api_as, new_connection
):
    # given
    client = api_as("csr")
    headers = {"Idempotency-Key": "o-2"}
    # when
    bad = client.post(
        LIST_URL, {**new_connection, "msisdn": "07500 999999"}, format="json", headers=headers
    )
    fixed = client.post(LIST_URL, new_connection, format="json", headers=headers)
    # then
    assert (bad.status_code, fixed.status_code) == (422, 201)
    assert Order.objects.count() == 1


# --- port-in ------------------------------------------------------------------------------------


def test_order_create_ports_a_number_in_and_completes_on_the_port_date(api_as, new_connection, sim):
    # given the customer's own number with EE, moving over today
    today = timezone.localdate()
    body = {key: value for key, value in new_connection.items() if key != "msisdn"}
    body["port_in"] = {"msisdn": "07400 555123", "donor_operator": "EE", "port_date": str(today)}
    # when
    placed = api_as("csr").post(LIST_URL, body, format="json")
    # then the draft says what moves over, and takes no number from the pool
    assert placed.status_code == 201
    order = placed.json()
    assert (order["msisdn"], order["port_in"]) == (
        None,
        {"msisdn": "+447400555123", "donor_operator": "EE", "port_date": str(today)},
    )
    assert not Msisdn.objects.filter(status="reserved").exists()
    # when it is submitted on the port date, the line starts with the ported number
    done = api_as("csr").post(f"{LIST_URL}{order['public_id']}/submit/", format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "completed"
    line = Subscriber.objects.get(msisdn="+447400555123")
    assert (line.status, line.iccid) == ("active", sim.iccid)


def test_order_create_refuses_a_port_in_and_a_pool_number_together(api_as, new_connection):
    # given
    body = {
        **new_connection,
        "port_in": {"msisdn": "07400 555123", "donor_operator": "EE", "port_date": "2026-04-10"},
    }
    # when
    response = api_as("csr").post(LIST_URL, body, format="json")
    # then
    assert response.status_code == 422
    assert response.json() == invalid(
        port_in=["Port a number in or take one from the pool, not both."]
    )
    assert not Order.objects.exists()


def test_order_create_names_the_port_in_field_at_fault(api_as, new_connection):
    # given a donor operator we do not know
    today = timezone.localdate()
    body = {key: value for key, value in new_connection.items() if key != "msisdn"}
    body["port_in"] = {"msisdn": "07400 555123", "donor_operator": "Acme", "port_date": str(today)}
    # when
    response = api_as("csr").post(LIST_URL, body, format="json")
    # then
    assert response.status_code == 422
    fields = response.json()["extra"]["fields"]
    assert list(fields) == ["port_in.donor_operator"]
    assert fields["port_in.donor_operator"][0].startswith("Choose the operator the number comes")
    assert not Order.objects.exists()
