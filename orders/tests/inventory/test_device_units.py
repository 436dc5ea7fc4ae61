"""Device units leave an event at every change, like numbers and SIMs do."""

from __future__ import annotations

import pytest

from common.errors import ApplicationError, InvalidTransition
from orders.inventory.models import DeviceItem, InventoryEvent
from orders.inventory.services import (
    device_item_mark_damaged,
    device_item_reserve,
    device_item_restock,
    device_item_return,
    device_items_add,
    device_items_release,
    device_items_sell,
)
from orders.tests.factories import DeviceFactory


def _history(item: DeviceItem) -> list[tuple[str, str, str]]:
    return [
        (event.old_status, event.new_status, event.reason)
        for event in InventoryEvent.objects.filter(device_item=item).order_by("pk")
    ]


def test_a_unit_is_booked_in_reserved_sold_returned_and_restocked_with_who_and_why(admin, csr):
    # given
    router = DeviceFactory(sku="RTR-1", name="Router")
    device_items_add(device=router, actor=admin, serials=["sn-1"])
    # when
    item = device_item_reserve(device=router, ref="ORD-1", actor=csr)
    device_items_sell(ref="ORD-1", actor=csr)
    item.refresh_from_db()
    device_item_return(item=item, actor=csr, reason="Faulty on arrival")
    device_item_restock(item=item, actor=admin, reason="Tested, works")
    # then
    assert item.serial == "SN-1"
    assert _history(item) == [
        ("", "in_stock", "Booked into stock (RTR-1)"),
        ("in_stock", "reserved", "Reserved for ORD-1"),
        ("reserved", "sold", "Sold by ORD-1"),
        ("sold", "returned", "Faulty on arrival"),
        ("returned", "in_stock", "Tested, works"),
    ]
    assert InventoryEvent.objects.get(device_item=item, new_status="sold").actor == csr


def test_releasing_an_order_puts_its_units_back_and_no_other_orders(csr):
    # given two orders holding a unit each
    router = DeviceFactory()
    device_items_add(device=router, actor=csr, serials=["A-1", "A-2"])
    mine = device_item_reserve(device=router, ref="ORD-1", actor=csr)
    theirs = device_item_reserve(device=router, ref="ORD-2", actor=csr)
    # when
    released = device_items_release(ref="ORD-1", actor=csr, reason="Order ORD-1 cancelled")
    # then
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert released == 1
    assert (mine.status, mine.reservation_ref) == ("in_stock", "")
    assert (theirs.status, theirs.reservation_ref) == ("reserved", "ORD-2")


def test_an_empty_shelf_and_a_damaged_unit_are_refused(csr):
    # given
    router = DeviceFactory(name="Router")
    device_items_add(device=router, actor=csr, serials=["B-1"])
    item = DeviceItem.objects.get()
    device_item_mark_damaged(item=item, actor=csr, reason="Dropped")
    # when / then
    with pytest.raises(ApplicationError) as refused:
        device_item_reserve(device=router, ref="ORD-3", actor=csr)
    assert refused.value.fields == {"devices": ["Router is out of stock."]}
    with pytest.raises(InvalidTransition):
        device_item_restock(item=item, actor=csr, reason="Try")
    assert _history(item)[-1] == ("in_stock", "damaged", "Dropped")
