"""Numbers, like SIMs, are allocated to partners: on a partner's shelf a number is sold only by
that partner, goes back to that shelf when a sale lets it go, and returns to the operator's pool
when taken back or after its quarantine."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from common.errors import ApplicationError
from crm.tests.factories import PartnerFactory
from orders.inventory.models import InventoryEvent, Msisdn
from orders.inventory.services import (
    msisdn_allocate,
    msisdn_quarantines_end,
    msisdn_release,
    msisdn_reservations_expire,
    msisdn_reserve,
    msisdn_return_to_pool,
)
from orders.tests.inventory_factories import MsisdnFactory

S = Msisdn.Status


@pytest.fixture
def shop(db):
    return PartnerFactory(code="shop", name="Corner Shop")


def test_named_numbers_go_on_a_partners_shelf_with_an_event_each(admin, shop):
    # given
    numbers = [MsisdnFactory(number=f"+44750000010{n}") for n in range(3)]
    # when
    allocated = msisdn_allocate(
        partner=shop, actor=admin, numbers=["07500 000100", numbers[1]], reason="Opening stock"
    )
    # then
    assert allocated == 2
    assert sorted(Msisdn.objects.filter(partner=shop).values_list("number", "status")) == [
        ("+447500000100", "allocated"),
        ("+447500000101", "allocated"),
    ]
    assert Msisdn.objects.get(pk=numbers[2].pk).status == S.AVAILABLE
    events = InventoryEvent.objects.filter(msisdn__partner=shop)
    assert {(e.old_status, e.new_status, e.actor, e.reason) for e in events} == {
        ("available", "allocated", admin, "Opening stock")
    }


def test_a_count_of_a_category_is_allocated_from_the_pool(admin, shop):
    MsisdnFactory.create_batch(3)
    MsisdnFactory(category="golden")
    assert msisdn_allocate(partner=shop, actor=admin, count=2) == 2
    assert Msisdn.objects.filter(status=S.ALLOCATED, category="standard").count() == 2


def test_allocation_is_all_or_nothing_and_names_every_problem(admin, shop):
    # given one free number and one already sold
    MsisdnFactory(number="+447500000200")
    MsisdnFactory(number="+447500000201", status=S.ASSIGNED)
    # when
    with pytest.raises(ApplicationError) as refused:
        msisdn_allocate(
            partner=shop,
            actor=admin,
            numbers=["+447500000200", "+447500000201", "+447500000299", "12"],
        )
    # then
    assert refused.value.fields["numbers"] == [
        "'12' is not a valid phone number.",
        "+44 7500 000201 is assigned, not available.",
        "+44 7500 000299 is not in the number pool.",
    ]
    assert not Msisdn.objects.filter(status=S.ALLOCATED).exists()
    assert not InventoryEvent.objects.exists()


def test_a_suspended_partner_gets_no_numbers(admin, shop):
    shop.status = "suspended"
    shop.save()
    MsisdnFactory()
    with pytest.raises(ApplicationError) as refused:
        msisdn_allocate(partner=shop, actor=admin, count=1)
    assert refused.value.code == "partner_inactive"
    assert not Msisdn.objects.filter(status=S.ALLOCATED).exists()


def test_a_partner_sells_from_its_own_shelf_and_a_let_go_number_goes_back_there(admin, shop):
    # given a number on the shop's shelf and one in the operator's pool
    on_shelf = MsisdnFactory(number="+447500000300", status=S.ALLOCATED, partner=shop)
    MsisdnFactory(number="+447500000301")
    # when the shop takes its next standard number, then lets it go
    picked = msisdn_reserve(ref="ORD-1", actor=admin, category="standard", partner=shop)
    assert picked.pk == on_shelf.pk
    released = msisdn_release(msisdn=picked, actor=admin, reason="Sale abandoned", ref="ORD-1")
    # then it is back on the shop's shelf, not in the pool
    assert (released.status, released.partner_id) == (S.ALLOCATED, shop.pk)


def test_a_lapsed_reservation_of_a_partners_number_returns_to_its_shelf(admin, shop):
    # given
    number = MsisdnFactory(
        status=S.RESERVED,
        partner=shop,
        reservation_ref="ORD-2",
        reserved_until=timezone.now() - dt.timedelta(minutes=1),
    )
    # when
    assert msisdn_reservations_expire() == 1
    # then
    number.refresh_from_db()
    assert (number.status, number.partner_id) == (S.ALLOCATED, shop.pk)


def test_taking_a_number_back_and_ending_a_quarantine_return_it_to_the_pool(admin, shop):
    # given
    allocated = MsisdnFactory(status=S.ALLOCATED, partner=shop)
    rested = MsisdnFactory(
        status=S.QUARANTINED,
        partner=shop,
        quarantined_until=timezone.now() - dt.timedelta(days=1),
    )
    # when
    msisdn_return_to_pool(msisdn=allocated, actor=admin, reason="Shop closed")
    msisdn_quarantines_end()
    # then
    for number in (allocated, rested):
        number.refresh_from_db()
        assert (number.status, number.partner) == (S.AVAILABLE, None)
