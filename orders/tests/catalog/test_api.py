"""Catalog API: readable by every authenticated caller; eligible add-ons scoped like lines."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.rating.models import Tariff
from crm.models import Customer
from crm.tests.api.conftest import invalid, matrix
from crm.tests.factories import SubscriberFactory
from orders.catalog.models import Allowance, ChargingTier
from orders.tests.factories import (
    AddOnFactory,
    AllowanceFactory,
    DeviceFactory,
    DeviceItemFactory,
    PricePlanFactory,
)

PLANS = "/api/v1/catalog/plans/"
ADDONS = "/api/v1/catalog/addons/"
DEVICES = "/api/v1/catalog/devices/"

EVERYONE_READS = matrix(
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
)


def plan_url(plan) -> str:
    return f"{PLANS}{plan.public_id}/"


def eligible_url(line) -> str:
    return f"/api/v1/catalog/subscribers/{line.public_id}/eligible-addons/"


@pytest.fixture
def plan(db):
    """SIM only 30GB v2 on sale at £18 with 30GB and an SMS tier; v1 retired, v3 a draft."""
    PricePlanFactory(code="sim-only-30gb", version=1, status="retired", name="SIM only 30GB")
    plan = PricePlanFactory(
        code="sim-only-30gb",
        version=2,
        name="SIM only 30GB",
        activation_fee_amount=Decimal("10"),
        tariff=Tariff.objects.create(code="postpaid-standard", name="Pay monthly", currency="GBP"),
        eligible_channels=["console", "selfcare"],
    )
    PricePlanFactory(code="sim-only-30gb", version=3, status="draft", name="SIM only 30GB")
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("30720"))
    AllowanceFactory(plan=plan, service="voice", quantity=Decimal("3000"), scope="on_net")
    ChargingTier.objects.create(
        plan=plan, service="sms", from_quantity=0, to_quantity=100, unit_price_amount="0.1"
    )
    ChargingTier.objects.create(
        plan=plan, service="sms", from_quantity=100, unit_price_amount="0.05"
    )
    return plan


# --- plans --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), EVERYONE_READS)
def test_plan_list_is_readable_by_every_authenticated_caller(persona, status, api_as, plan):
    # when
    response = api_as(persona).get(PLANS)
    # then
    assert response.status_code == status
    if status == 200:
        assert [row["public_id"] for row in response.json()["results"]] == [str(plan.public_id)]


def test_plan_list_shows_money_as_strings_with_allowances_and_tiers(api_as, plan):
    # when
    body = api_as("subscriber").get(PLANS).json()
    # then
    (row,) = body["results"]
    assert body["count"] == 1
    assert row == {
        "public_id": str(plan.public_id),
        "code": "sim-only-30gb",
        "version": 2,
        "name": "SIM only 30GB",
        "description": "",
        "payment_type": "postpaid",
        "status": "published",
        "recurring_fee": {"amount": "18.00", "currency": "GBP"},
        "recurring_period": "month",
        "activation_fee": {"amount": "10.00", "currency": "GBP"},
        "proration": "daily",
        "tariff_code": "postpaid-standard",
        "eligible_customer_kinds": [],
        "eligible_channels": ["console", "selfcare"],
        "valid_from": None,
        "valid_to": None,
        "published_at": None,
        "allowances": [
            {"service": "data", "quantity": "30720.00", "scope": "all", "zone": ""},
            {"service": "voice", "quantity": "3000.00", "scope": "on_net", "zone": ""},
        ],
        "tiers": [
            {
                "service": "sms",
                "from_quantity": "0.00",
                "to_quantity": "100.00",
                "unit_price": {"amount": "0.10", "currency": "GBP"},
            },
            {
                "service": "sms",
                "from_quantity": "100.00",
                "to_quantity": None,
                "unit_price": {"amount": "0.05", "currency": "GBP"},
            },
        ],
    }


def test_plan_list_filters_by_payment_type_channel_and_customer_kind(api_as, plan):
    # given
    prepaid = PricePlanFactory(code="payg", payment_type="prepaid", recurring_fee_amount=0)
    business = PricePlanFactory(code="biz", eligible_customer_kinds=[Customer.Kind.BUSINESS])
    client = api_as("reseller_a")

    def found(**query):
        return {r["code"] for r in client.get(PLANS, query).json()["results"]}

    # when / then
    assert found(payment_type="prepaid") == {prepaid.code}
    assert found(channel="partner") == {prepaid.code, business.code}
    assert found(channel="selfcare", customer_kind="individual") == {prepaid.code, plan.code}
    assert found(customer_kind="business") == {prepaid.code, business.code, plan.code}


def test_plan_list_leaves_out_plans_outside_their_validity_window(api_as, plan):
    # given
    plan.valid_to = "2026-03-31"
    plan.save()
    client = api_as("subscriber")
    # when
    with time_machine.travel("2026-03-31 12:00:00Z"):
        last_day = client.get(PLANS).json()["count"]
    with time_machine.travel("2026-04-01 12:00:00Z"):
        after = client.get(PLANS).json()["count"]
    # then
    assert (last_day, after) == (1, 0)


def test_plan_list_refuses_unknown_filter_values(api_as, plan):
    # when
    response = api_as("csr").get(PLANS, {"payment_type": "credit", "channel": "fax"})
    # then
    assert response.status_code == 400
    assert response.json() == invalid(
        payment_type=['"credit" is not a valid choice.'],
        channel=['"fax" is not a valid choice.'],
    )


@pytest.mark.parametrize(("persona", "status"), EVERYONE_READS)
def test_plan_detail_serves_any_published_or_retired_version(persona, status, api_as, plan):
    # given
    retired = plan.__class__.objects.get(code=plan.code, version=1)
    # when
    response = api_as(persona).get(plan_url(retired))
    # then
    assert response.status_code == status
    if status == 200:
        assert (response.json()["version"], response.json()["status"]) == (1, "retired")


@pytest.mark.parametrize(
    ("persona", "status"),
    matrix(
        csr=404,
        supervisor=404,
        admin=200,
        reseller_a=404,
        reseller_b=404,
        subscriber=404,
        other_subscriber=404,
        anonymous=401,
        key_full=404,
        key_without=404,
    ),
)
def test_plan_detail_shows_drafts_only_to_catalog_managers(persona, status, api_as, plan):
    # given
    draft = plan.__class__.objects.get(code=plan.code, version=3)
    # when
    response = api_as(persona).get(plan_url(draft))
    # then
    assert response.status_code == status
    if status == 404:
        assert response.json() == {
            "message": "Not found.",
            "code": "not_found",
            "extra": {"fields": {}},
        }


def test_plan_detail_carries_allowances_and_tiers(api_as, plan):
    # when
    body = api_as("reseller_b").get(plan_url(plan)).json()
    # then
    assert body["recurring_fee"] == {"amount": "18.00", "currency": "GBP"}
    assert [a["service"] for a in body["allowances"]] == ["data", "voice"]
    assert [t["unit_price"]["amount"] for t in body["tiers"]] == ["0.10", "0.05"]


def test_plan_detail_of_a_malformed_id_answers_404(api_as, plan):
    # when
    response = api_as("csr").get(f"{PLANS}not-a-uuid/")
    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- add-ons and devices ------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), EVERYONE_READS)
def test_addon_list_is_readable_by_every_authenticated_caller(persona, status, api_as, db):
    # given
    small = AddOnFactory(
        code="eu-1gb", name="EU 1GB", kind="roaming_pack", zone="EU", price_amount=Decimal("5")
    )
    big = AddOnFactory(
        code="eu-5gb",
        name="EU 5GB",
        kind="roaming_pack",
        zone="EU",
        price_amount=Decimal("12.5"),
        plan_codes=["sim-only-30gb"],
        conflicts=[small],
    )
    Allowance.objects.create(addon=big, service="data", quantity=5120, scope="zone", zone="EU")
    AddOnFactory(code="old", status="retired")
    # when
    response = api_as(persona).get(ADDONS)
    # then
    assert response.status_code == status
    if status == 200:
        assert response.json()["results"] == [
            {
                "public_id": str(small.public_id),
                "code": "eu-1gb",
                "name": "EU 1GB",
                "kind": "roaming_pack",
                "price": {"amount": "5.00", "currency": "GBP"},
                "validity_days": 30,
                "stackable": False,
                "zone": "EU",
                "plan_codes": [],
                "conflicts_with": ["eu-5gb"],
                "allowances": [],
            },
            {
                "public_id": str(big.public_id),
                "code": "eu-5gb",
                "name": "EU 5GB",
                "kind": "roaming_pack",
                "price": {"amount": "12.50", "currency": "GBP"},
                "validity_days": 30,
                "stackable": False,
                "zone": "EU",
                "plan_codes": ["sim-only-30gb"],
                "conflicts_with": ["eu-1gb"],
                "allowances": [
                    {"service": "data", "quantity": "5120.00", "scope": "zone", "zone": "EU"}
                ],
            },
        ]


def test_addon_list_filters_by_kind_and_plan_code(api_as, db):
    # given
    AddOnFactory(code="boost", kind="data_booster", plan_codes=["payg"])
    AddOnFactory(code="sms", kind="sms_pack")
    client = api_as("subscriber")

    def found(**query):
        return [r["code"] for r in client.get(ADDONS, query).json()["results"]]

    # when / then
    assert found(kind="sms_pack") == ["sms"]
    assert found(plan_code="sim-only") == ["sms"]
    assert found(plan_code="payg") == ["boost", "sms"]
    assert client.get(ADDONS, {"kind": "toaster"}).status_code == 400


@pytest.mark.parametrize(("persona", "status"), EVERYONE_READS)
def test_device_list_shows_price_and_units_in_stock(persona, status, api_as, db):
    # given
    router = DeviceFactory(
        sku="RTR-5G-200",
        name="HomeHub 5G router",
        price_amount=Decimal("149"),
        included_with_plan_codes=["unlimited-max"],
    )
    DeviceItemFactory.create_batch(2, device=router)
    DeviceItemFactory(device=router, status="sold")
    DeviceFactory(sku="OLD", status="retired")
    # when
    response = api_as(persona).get(DEVICES)
    # then
    assert response.status_code == status
    if status == 200:
        assert response.json()["results"] == [
            {
                "public_id": str(router.public_id),
                "sku": "RTR-5G-200",
                "name": "HomeHub 5G router",
                "kind": "router",
                "price": {"amount": "149.00", "currency": "GBP"},
                "included_with_plan_codes": ["unlimited-max"],
                "in_stock": 2,
            }
        ]


# --- eligible add-ons ---------------------------------------------------------------------------


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
def test_eligible_addons_are_scoped_like_the_line(persona, status, api_as, line, plan):
    # given
    line.plan = plan
    line.save()
    on_plan = AddOnFactory(code="eu-5gb", plan_codes=["sim-only-30gb"])
    AddOnFactory(code="max-only", plan_codes=["unlimited-max"])
    # when
    response = api_as(persona).get(eligible_url(line))
    # then
    assert response.status_code == status
    if status == 200:
        assert [r["public_id"] for r in response.json()["results"]] == [str(on_plan.public_id)]
    if status == 404:
        assert response.json()["code"] == "not_found"


def test_eligible_addons_of_someone_elses_line_answer_404(api_as, other_subscriber, plan):
    # given
    olive = Customer.objects.get(owner=other_subscriber)
    olives_line = SubscriberFactory(account__customer=olive, plan=plan)
    AddOnFactory()
    # when
    response = api_as("subscriber").get(eligible_url(olives_line))
    # then
    assert response.status_code == 404


def test_schema_documents_the_catalog_operations(client, db):
    # when
    schema = yaml.safe_load(client.get("/api/schema/").content)
    # then
    operations = {
        path: {m: op["operationId"] for m, op in ops.items()}
        for path, ops in schema["paths"].items()
        if path.startswith("/api/v1/catalog/")
    }
    assert operations == {
        "/api/v1/catalog/plans/": {"get": "catalog_plan_list"},
        "/api/v1/catalog/plans/{public_id}/": {"get": "catalog_plan_retrieve"},
        "/api/v1/catalog/addons/": {"get": "catalog_addon_list"},
        "/api/v1/catalog/devices/": {"get": "catalog_device_list"},
        "/api/v1/catalog/subscribers/{public_id}/eligible-addons/": {
            "get": "catalog_subscriber_eligible_addon_list"
        },
    }
    listing = schema["paths"]["/api/v1/catalog/plans/"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "payment_type",
        "channel",
        "customer_kind",
        "page",
        "page_size",
    }
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedCatalogPlanList"
    }
    plan = schema["components"]["schemas"]["CatalogPlan"]["properties"]
    assert plan["recurring_fee"] == {"$ref": "#/components/schemas/Money"}


def _catalog_of(start, size):
    for n in range(start, start + size):
        plan = PricePlanFactory(code=f"plan-{n}")
        AllowanceFactory(plan=plan)
        ChargingTier.objects.create(plan=plan, service="sms", from_quantity=0, unit_price_amount=1)
        addon = AddOnFactory(code=f"addon-{n}", conflicts=[AddOnFactory(code=f"other-{n}")])
        Allowance.objects.create(addon=addon, service="data", quantity=1024)
        DeviceItemFactory(device=DeviceFactory(sku=f"SKU-{n}"))


@pytest.mark.parametrize("path", [PLANS, ADDONS, DEVICES])
def test_catalog_lists_take_the_same_queries_for_one_row_or_many(path, api_as, db):
    # given
    client = api_as("csr")
    _catalog_of(0, 1)
    client.get(path)  # the session and permission caches are warm from here on
    with CaptureQueriesContext(connection) as one:
        assert client.get(path).json()["count"] >= 1
    _catalog_of(1, 5)
    # when
    with CaptureQueriesContext(connection) as many:
        count = client.get(path).json()["count"]
    # then
    assert count >= 6
    assert len(many.captured_queries) == len(one.captured_queries)
