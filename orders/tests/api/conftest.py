"""Fixtures of the orders API tests. The personas and `api_as` come from the crm API tests; the
two API keys differ here only in orders.place_order, so a key that may see every order but not
place one is part of every matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from common.roles import api_key_grantable
from crm.models import Customer
from crm.tests.api import conftest as crm_api
from crm.tests.factories import AccountFactory, SubscriberFactory
from orders.permissions import OrdersPerm
from orders.tests.factories import AddOnFactory, DeviceFactory, DeviceItemFactory, PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

# The crm API personas' fixtures, shared by these tests.
api_as = crm_api.api_as
issue_key = crm_api.issue_key
bravo_customer = crm_api.bravo_customer

LIST_URL = "/api/v1/orders/"
APRIL_10 = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)  # day 10 of a 30-day bill period
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
NUMBER = "+447500900001"


def detail_url(order: Any) -> str:
    return f"/api/v1/orders/{order.public_id}/"


def action_url(order: Any, action: str) -> str:
    return f"/api/v1/orders/{order.public_id}/{action}/"


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "GBP"}


@pytest.fixture
def key_full(issue_key: Callable[..., str]) -> str:
    """Every permission a key can be given, orders.place_order included."""
    assert OrdersPerm.PLACE_ORDER in api_key_grantable()
    return issue_key(*api_key_grantable(), name="Integrator")


@pytest.fixture
def key_without(issue_key: Callable[..., str]) -> str:
    """Sees every customer and may change lines, but may not place orders."""
    return issue_key(
        *(p for p in api_key_grantable() if p != OrdersPerm.PLACE_ORDER), name="Reporting robot"
    )


@pytest.fixture
def plan_30(db: None) -> Any:
    return PricePlanFactory(code="basic", name="Basic 10GB", recurring_fee_amount=Decimal("30"))


@pytest.fixture
def plan_45(db: None) -> Any:
    return PricePlanFactory(
        code="max",
        name="Max 100GB",
        recurring_fee_amount=Decimal("45"),
        activation_fee_amount=Decimal("10"),
    )


@pytest.fixture
def account(customer: Any) -> Any:
    """Ada's postpaid GBP account, billed on the 1st."""
    return AccountFactory(customer=customer, bill_cycle_day=1)


@pytest.fixture
def line(account: Any, plan_30: Any) -> Any:
    """Ada's active line on the £30 plan: +44 7400 123456."""
    return SubscriberFactory(account=account, plan=plan_30, msisdn="+447400123456", status="active")


@pytest.fixture
def number(db: None) -> Any:
    """A standard number in the pool, free to sell."""
    return MsisdnFactory(number=NUMBER)


@pytest.fixture
def sim(db: None) -> Any:
    return SimCardFactory()


@pytest.fixture
def booster(db: None) -> Any:
    return AddOnFactory(code="boost-5gb", name="Data booster 5GB", price_amount=Decimal("5"))


@pytest.fixture
def router(db: None) -> Any:
    device = DeviceFactory(sku="RT-5G", name="5G router", price_amount=Decimal("49"))
    DeviceItemFactory(device=device, serial="R-0001")
    return device


@pytest.fixture
def new_connection(account: Any, plan_45: Any, number: Any, sim: Any) -> dict[str, Any]:
    """A valid new-connection body for Ada's account."""
    return {
        "type": "new_connection",
        "account": str(account.public_id),
        "plan": str(plan_45.public_id),
        "msisdn": "07500 900001",
        "iccid": sim.iccid,
    }


@pytest.fixture
def olive_line(other_subscriber: Any, plan_30: Any) -> Any:
    """Olive's active line (the other subscriber's customer, sold by no reseller)."""
    return SubscriberFactory(
        account__customer=Customer.objects.get(owner=other_subscriber),
        plan=plan_30,
        msisdn="+447400222333",
    )


@pytest.fixture
def bravo_line(bravo_customer: Any, plan_30: Any) -> Any:
    """A line of a customer sold by partner B."""
    return SubscriberFactory(account__customer=bravo_customer, plan=plan_30, msisdn="+447400333444")
