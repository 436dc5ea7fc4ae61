"""Fixtures of the console's order pages: a small catalog, stock, and a signed-in CSR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from orders.tests.factories import (
    AddOnFactory,
    AllowanceFactory,
    DeviceFactory,
    DeviceItemFactory,
    PricePlanFactory,
)
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

# Day 10 of a 30-day bill period for an account billed on the 1st.
APRIL_10 = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def csr_client(client: Any, csr: Any) -> Any:
    client.force_login(csr)
    return client


@pytest.fixture
def supervisor_client(client: Any, supervisor: Any) -> Any:
    client.force_login(supervisor)
    return client


@pytest.fixture
def plan_30(db: None) -> Any:
    plan = PricePlanFactory(code="basic", name="Basic 10GB", recurring_fee_amount=Decimal("30"))
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("10240"))
    return plan


@pytest.fixture
def plan_45(db: None) -> Any:
    plan = PricePlanFactory(
        code="max",
        name="Max 100GB",
        recurring_fee_amount=Decimal("45"),
        activation_fee_amount=Decimal("10"),
    )
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("102400"))
    AllowanceFactory(plan=plan, service="voice", quantity=Decimal("500"))
    return plan


@pytest.fixture
def prepaid_plan(db: None) -> Any:
    return PricePlanFactory(code="payg", name="Pay as you go", payment_type="prepaid")


@pytest.fixture
def account(line: Any) -> Any:
    """Ada Lovelace's postpaid GBP account, billed on the 1st, with her line on it."""
    return line.account


@pytest.fixture
def number(db: None) -> Any:
    return MsisdnFactory(number="+447500900001")


@pytest.fixture
def golden(db: None) -> Any:
    return MsisdnFactory(number="+447500977777", category="golden", price_amount=Decimal("50"))


@pytest.fixture
def sim(db: None) -> Any:
    return SimCardFactory()


@pytest.fixture
def router(plan_45: Any) -> Any:
    device = DeviceFactory(
        name="5G router",
        price_amount=Decimal("49"),
        included_with_plan_codes=[plan_45.code],
    )
    DeviceItemFactory(device=device, serial="R-0001")
    return device


@pytest.fixture
def booster(db: None) -> Any:
    addon = AddOnFactory(name="Data booster 5GB", price_amount=Decimal("5"))
    AllowanceFactory(plan=None, addon=addon, service="data", quantity=Decimal("5120"))
    return addon


def new_line_data(plan: Any, number: str, iccid: str, **extra: Any) -> dict[str, Any]:
    """What the new-line form posts."""
    return {"plan": str(plan.public_id), "msisdn": number, "iccid": iccid, **extra}
