"""Add-ons (conflicts, plans they are sold on) and devices with serial-numbered stock."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.errors import ApplicationError, InvalidTransition
from orders.catalog.models import AddOn, Allowance, Device
from orders.catalog.services import (
    AllowanceData,
    addon_allowances_set,
    addon_create,
    addon_retire,
    addon_update,
    device_create,
    device_retire,
    device_update,
)
from orders.inventory.models import DeviceItem
from orders.inventory.services import device_items_add
from orders.tests.factories import (
    AddOnFactory,
    DeviceFactory,
    DeviceItemFactory,
    PricePlanFactory,
)

pytestmark = pytest.mark.django_db


def refused(call, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ApplicationError) as caught:
        call(**kwargs)
    return caught.value.fields


def eu_pack(**changes) -> dict:
    return {
        "code": "eu-roam-5gb",
        "name": "EU Roaming 5GB",
        "kind": "roaming_pack",
        "price_amount": "12",
        "currency": "GBP",
        "validity_days": 30,
        "zone": "eu",
        **changes,
    }


# --- add-ons ------------------------------------------------------------------------------------


def test_addon_create_puts_it_on_sale_with_symmetric_conflicts(admin):
    # given
    PricePlanFactory(code="sim-only-30gb")
    small = AddOnFactory(code="eu-roam-1gb", kind="roaming_pack", zone="EU")
    # when
    big = addon_create(
        actor=admin,
        **eu_pack(plan_codes=["sim-only-30gb"], conflicts_with=["eu-roam-1gb"]),
    )
    # then
    big.refresh_from_db()
    assert (big.status, big.zone, big.price_amount) == ("active", "EU", Decimal("12.00"))
    assert big.plan_codes == ["sim-only-30gb"]
    assert list(big.conflicts_with.values_list("code", flat=True)) == ["eu-roam-1gb"]
    assert list(small.conflicts_with.values_list("code", flat=True)) == ["eu-roam-5gb"]


def test_addon_create_refuses_to_conflict_with_itself(admin):
    # when
    fields = refused(addon_create, actor=admin, **eu_pack(conflicts_with=["eu-roam-5gb"]))
    # then
    assert fields == {"conflicts_with": ["An add-on cannot conflict with itself."]}
    assert not AddOn.objects.exists()


def test_addon_create_refuses_unknown_plan_and_add_on_codes(admin):
    # given
    PricePlanFactory(code="sim-only-30gb")
    # when
    fields = refused(
        addon_create,
        actor=admin,
        **eu_pack(plan_codes=["sim-only-30gb", "gold-plan"], conflicts_with=["usa-roam"]),
    )
    # then
    assert fields == {
        "conflicts_with": ["No add-on has the code 'usa-roam'."],
        "plan_codes": ["No plan has the code 'gold-plan'."],
    }


def test_addon_create_refuses_bad_terms(admin):
    # when
    fields = refused(
        addon_create,
        actor=admin,
        **eu_pack(zone="", price_amount="-1", currency="CHF", validity_days=0),
    )
    # then
    assert fields == {
        "zone": ["A roaming pack names its zone or country, e.g. EU or US."],
        "validity_days": ["An add-on lasts between 1 and 365 days."],
        "price_amount": ["The price cannot be negative."],
        "currency": ["CHF is not a currency the operator sells in; use one of GBP, EUR, USD."],
    }


def test_addon_create_refuses_a_missing_price_and_a_zone_on_a_data_booster(admin):
    # when
    fields = refused(addon_create, actor=admin, **eu_pack(kind="data_booster", price_amount=None))
    # then
    assert fields == {
        "zone": ["Only roaming packs have a zone."],
        "price_amount": ["An add-on needs a price (enter 0 for a free one)."],
    }


def test_addon_create_refuses_a_code_in_use(admin):
    # given
    AddOnFactory(code="eu-roam-5gb")
    # when
    fields = refused(addon_create, actor=admin, **eu_pack())
    # then
    assert fields == {"code": ["An add-on with the code 'eu-roam-5gb' already exists."]}


def test_addon_update_changes_conflicts_on_both_sides(admin):
    # given
    one, two, three = (AddOnFactory(code=c) for c in ("one", "two", "three"))
    addon_update(addon=one, actor=admin, conflicts_with=["two"])
    # when
    addon_update(addon=one, actor=admin, conflicts_with=["three"], price_amount="4.50")
    # then
    one.refresh_from_db()
    assert one.price_amount == Decimal("4.50")
    assert list(two.conflicts_with.all()) == []
    assert list(three.conflicts_with.values_list("code", flat=True)) == ["one"]


def test_addon_update_refuses_conflict_with_itself(admin):
    # given
    addon = AddOnFactory(code="boost")
    # when
    fields = refused(addon_update, addon=addon, actor=admin, conflicts_with=["boost"])
    # then
    assert fields == {"conflicts_with": ["An add-on cannot conflict with itself."]}


def test_addon_retire_stops_selling_it_once(admin):
    # given
    addon = AddOnFactory(name="Booster")
    # when
    addon_retire(addon=addon, actor=admin)
    with pytest.raises(InvalidTransition) as again:
        addon_retire(addon=addon, actor=admin)
    with pytest.raises(InvalidTransition) as edit:
        addon_update(addon=addon, actor=admin, name="Booster 2")
    # then
    addon.refresh_from_db()
    assert (addon.status, addon.name) == ("retired", "Booster")
    assert again.value.message == "Booster is already retired."
    assert edit.value.message == "Booster is retired; it no longer changes."


def test_addon_allowances_set_replaces_what_it_includes(admin):
    # given
    addon = AddOnFactory()
    Allowance.objects.create(addon=addon, service="data", quantity=Decimal("1024"))
    # when
    addon_allowances_set(
        addon=addon,
        actor=admin,
        allowances=[AllowanceData("data", "5120", "zone", "EU"), AllowanceData("voice", "100")],
    )
    # then
    assert sorted(addon.allowances.values_list("service", "quantity", "scope", "zone")) == [
        ("data", Decimal("5120.00"), "zone", "EU"),
        ("voice", Decimal("100.00"), "all", ""),
    ]


def test_addon_allowances_set_refuses_a_retired_add_on(admin):
    # given
    addon = AddOnFactory(status="retired")
    # when
    with pytest.raises(InvalidTransition):
        addon_allowances_set(addon=addon, actor=admin, allowances=[AllowanceData("sms", "1")])
    # then
    assert not Allowance.objects.exists()


# --- devices ------------------------------------------------------------------------------------


def test_device_create_adds_a_device_model(admin):
    # given
    PricePlanFactory(code="unlimited-max")
    # when
    device = device_create(
        actor=admin,
        sku="rtr-5g-200",
        name="HomeHub 5G router",
        kind="router",
        price_amount="149",
        included_with_plan_codes=["unlimited-max"],
    )
    # then
    device.refresh_from_db()
    assert (device.sku, device.currency, device.status) == ("RTR-5G-200", "GBP", "active")
    assert device.price_amount == Decimal("149.00")
    assert device.included_with_plan_codes == ["unlimited-max"]


def test_device_create_refuses_bad_terms(admin):
    # given
    DeviceFactory(sku="RTR-5G-200")
    # when
    taken = refused(
        device_create,
        actor=admin,
        sku="RTR-5G-200",
        name="",
        kind="toaster",
        price_amount="-149",
        included_with_plan_codes=["nope"],
    )
    malformed = refused(
        device_create, actor=admin, sku="RTR 5G!", name="Router", kind="router", price_amount=None
    )
    # then
    assert taken == {
        "sku": ["A device with the SKU RTR-5G-200 already exists."],
        "name": ["Name the device."],
        "kind": [
            "'toaster' is not a kind of device; use one of handset, router, modem, accessory."
        ],
        "price_amount": ["The price cannot be negative."],
        "included_with_plan_codes": ["No plan has the code 'nope'."],
    }
    assert malformed == {
        "sku": ["Use letters, digits, '-', '_' and '.', at most 40, e.g. RTR-5G-200."],
        "price_amount": ["A device needs a price (enter 0 if it is only given away with plans)."],
    }
    assert Device.objects.count() == 1


def test_device_update_and_retire(admin):
    # given
    device = DeviceFactory(name="Router")
    # when
    device_update(device=device, actor=admin, name="HomeHub 4G", price_amount="39.99")
    device_retire(device=device, actor=admin)
    with pytest.raises(InvalidTransition) as again:
        device_retire(device=device, actor=admin)
    # then
    device.refresh_from_db()
    assert (device.name, device.price_amount, device.status) == (
        "HomeHub 4G",
        Decimal("39.99"),
        "retired",
    )
    assert again.value.message == "HomeHub 4G is already retired."


def test_device_items_add_books_every_serial_into_stock(admin):
    # given
    device = DeviceFactory()
    # when
    added = device_items_add(
        device=device, actor=admin, serials=["hh5g-0001", "  HH5G-0002 ", "", "HH5G-0003"]
    )
    # then
    assert added == 3
    assert sorted(device.items.values_list("serial", "status")) == [
        ("HH5G-0001", "in_stock"),
        ("HH5G-0002", "in_stock"),
        ("HH5G-0003", "in_stock"),
    ]


def test_device_items_add_refuses_duplicates_and_adds_nothing(admin):
    # given
    device = DeviceFactory()
    DeviceItemFactory(serial="HH5G-0001", device=DeviceFactory())
    # when
    fields = refused(
        device_items_add,
        device=device,
        actor=admin,
        serials=["HH5G-0001", "HH5G-0002", "hh5g-0002", "HH5G-0003", "bad serial!"],
    )
    # then
    assert fields == {
        "serials": [
            "Not serial numbers (3 to 60 letters, digits, '-', '/', '.', '_'): BAD SERIAL!.",
            "Pasted more than once: HH5G-0002.",
            "Already in stock: HH5G-0001.",
        ]
    }
    assert DeviceItem.objects.count() == 1


def test_device_items_add_refuses_an_empty_paste_and_a_retired_device(admin):
    # given
    device = DeviceFactory()
    retired = DeviceFactory(status="retired", name="Old router")
    # when
    fields = refused(device_items_add, device=device, actor=admin, serials=["", "  "])
    with pytest.raises(InvalidTransition) as caught:
        device_items_add(device=retired, actor=admin, serials=["SN-0001"])
    # then
    assert fields == {"serials": ["Give at least one serial number, one per line."]}
    assert caught.value.message == "Old router is retired; no stock is added to it."
    assert not DeviceItem.objects.exists()
