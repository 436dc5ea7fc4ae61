"""Fixtures of the catalog tests; the API personas come from the crm API tests."""

from __future__ import annotations

from typing import Any

import pytest

from crm.tests.api.conftest import api_as, issue_key, key_full, key_without  # noqa: F401
from orders.catalog.models import PricePlan
from orders.tests.factories import PricePlanFactory


@pytest.fixture
def draft_plan(db: None) -> Any:
    return PricePlanFactory(
        code="sim-only-30gb", name="SIM only 30GB", status=PricePlan.Status.DRAFT
    )


@pytest.fixture
def published_plan(db: None) -> Any:
    return PricePlanFactory(code="sim-only-30gb", name="SIM only 30GB")


@pytest.fixture
def plan_terms() -> dict[str, Any]:
    """Everything plan_create needs, valid."""
    return {
        "code": "sim-only-30gb",
        "name": "SIM only 30GB",
        "payment_type": "postpaid",
        "currency": "GBP",
        "recurring_fee_amount": "18.00",
    }
