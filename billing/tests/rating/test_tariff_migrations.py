"""The move from a plan's free-text tariff code to a tariff record: every code in use becomes a
tariff, each plan points at its own, and the way back restores the codes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("orders", "0004_order_port_in_partner_and_quote_token"), ("billing", "0003_tariffs")]
AFTER = [("orders", "0005_plan_tariff")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _plan(apps, code, tariff_code):
    return apps.get_model("orders", "PricePlan").objects.create(
        code=code,
        name=code,
        payment_type="postpaid",
        currency="GBP",
        recurring_fee_amount=Decimal("10"),
        tariff_code=tariff_code,
    )


def test_plan_tariff_codes_become_tariffs_and_come_back():
    # given: plans named tariffs by code before tariffs were records
    apps = _migrate(BEFORE)
    _plan(apps, "sim-only", "postpaid-standard")
    _plan(apps, "sim-only-2", "postpaid-standard")
    _plan(apps, "payg", "PAYG Standard")
    _plan(apps, "no-tariff", "")
    try:
        # when
        apps = _migrate(AFTER)
        # then
        plans = apps.get_model("orders", "PricePlan").objects
        tariffs = apps.get_model("billing", "Tariff").objects
        assert sorted(tariffs.values_list("code", flat=True)) == [
            "payg-standard",
            "postpaid-standard",
        ]
        assert dict(plans.values_list("code", "tariff__code")) == {
            "sim-only": "postpaid-standard",
            "sim-only-2": "postpaid-standard",
            "payg": "payg-standard",
            "no-tariff": None,
        }
        # when: migrated back
        apps = _migrate(BEFORE)
        # then
        plans = apps.get_model("orders", "PricePlan").objects
        assert dict(plans.values_list("code", "tariff_code"))["sim-only"] == "postpaid-standard"
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
