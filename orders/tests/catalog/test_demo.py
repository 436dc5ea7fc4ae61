"""The demo catalog: believable, in GBP, and loaded only once however often it runs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.models import AuditEvent
from orders.catalog.demo import catalog_demo_ensure
from orders.catalog.models import AddOn, Allowance, ChargingTier, Device, PricePlan
from orders.catalog.selectors import plans_on_sale
from orders.inventory.demo import inventory_demo_ensure
from orders.inventory.models import DeviceItem, InventoryEvent

pytestmark = pytest.mark.django_db

MODELS = (PricePlan, Allowance, ChargingTier, AddOn, Device, DeviceItem)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_catalog_demo_ensure_twice_creates_nothing_new(admin):
    # given
    catalog_demo_ensure(admin)
    first = counts()
    # when
    catalog_demo_ensure(admin)
    # then
    assert counts() == first
    assert first == {
        "PricePlan": 9,
        "Allowance": 42,
        "ChargingTier": 4,
        "AddOn": 6,
        "Device": 3,
        "DeviceItem": 0,  # units are stock: orders.inventory.demo books them
    }


def test_catalog_demo_is_audited_as_made_by_whoever_loads_it_and_only_once(admin):
    # given
    catalog_demo_ensure(admin)
    first = AuditEvent.objects.count()
    # when
    catalog_demo_ensure(admin)
    # then
    assert AuditEvent.objects.count() == first
    # 8 plans (the ninth version is a new version), 6 add-ons, 3 devices
    assert AuditEvent.objects.filter(action="created").count() == 8 + 6 + 3
    assert AuditEvent.objects.filter(action="new version").count() == 1
    assert set(AuditEvent.objects.values_list("actor", flat=True)) == {admin.pk}
    version_2 = PricePlan.objects.get(code="sim-only-30gb", version=2)
    assert AuditEvent.objects.get(object_pk=str(version_2.pk), action="updated").changes == {
        "recurring_fee_amount": ["16", "18"]
    }


def test_catalog_demo_sells_prepaid_and_postpaid_plans_in_gbp(admin):
    # when
    catalog_demo_ensure(admin)
    # then
    on_sale = list(plans_on_sale())
    assert sorted(p.payment_type for p in on_sale) == ["postpaid"] * 4 + ["prepaid"] * 4
    assert {p.currency for p in on_sale} == {"GBP"}
    lite = PricePlan.objects.get(code="payg-lite")
    assert lite.recurring_fee_amount == Decimal("0")
    assert list(
        lite.tiers.filter(service="sms").values_list(
            "from_quantity", "to_quantity", "unit_price_amount"
        )
    ) == [
        (Decimal("0.00"), Decimal("100.00"), Decimal("0.10")),
        (Decimal("100.00"), None, Decimal("0.05")),
    ]


def test_catalog_demo_shows_a_price_change_as_two_versions(admin):
    # when
    catalog_demo_ensure(admin)
    # then
    versions = PricePlan.objects.filter(code="sim-only-30gb").order_by("version")
    assert [(v.version, v.status, v.recurring_fee_amount) for v in versions] == [
        (1, "retired", Decimal("16.00")),
        (2, "published", Decimal("18.00")),
    ]
    assert versions[1].allowances.count() == versions[0].allowances.count() == 5


def test_catalog_demo_eu_packs_conflict_both_ways_and_devices_have_stock(admin):
    # when
    catalog_demo_ensure(admin)
    inventory_demo_ensure(admin)
    # then
    small = AddOn.objects.get(code="eu-roam-1gb-7d")
    big = AddOn.objects.get(code="eu-roam-5gb-30d")
    usa = AddOn.objects.get(code="usa-roam-2gb-7d")
    assert list(small.conflicts_with.all()) == [big]
    assert list(big.conflicts_with.all()) == [small]
    assert list(usa.conflicts_with.all()) == []
    assert {d.sku: d.items.filter(status="in_stock").count() for d in Device.objects.all()} == {
        "RTR-4G-100": 10,
        "RTR-5G-200": 10,
        "HS-NOVA-A5": 10,
    }
    # each unit was booked in with its own event, by whoever loaded the demo
    booked = InventoryEvent.objects.filter(device_item__isnull=False, new_status="in_stock")
    assert booked.count() == 30
    assert {event.actor for event in booked} == {admin}


def _said(allowance) -> str:
    """How a description states an allowance: 1,500 (minutes or texts) or 30GB."""
    if allowance.service == "data":
        return f"{int(allowance.quantity / 1024)}GB"
    return f"{int(allowance.quantity):,}"


def test_each_demo_plans_description_says_what_it_includes(admin):
    # when
    catalog_demo_ensure(admin)
    # then every allowance is in the words a customer reads, and nothing is "unlimited"
    for plan in PricePlan.objects.filter(status="published"):
        assert "nlimited" not in plan.description, plan.name
        for allowance in plan.allowances.all():
            assert _said(allowance) in plan.description, (plan.name, _said(allowance))
