"""Expired reservations and aged quarantines return to stock; the Celery tasks run the sweeps."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from crm.tests.factories import PartnerFactory
from orders import tasks
from orders.inventory.models import InventoryEvent, Msisdn, SimCard
from orders.inventory.services import (
    msisdn_quarantine,
    msisdn_quarantines_end,
    msisdn_reservations_expire,
    msisdn_reserve,
    sim_reservations_expire,
    sim_reserve,
)
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory


def test_reservations_expire_only_once_their_time_is_up(db, actor):
    # given
    short, long = MsisdnFactory(), MsisdnFactory()
    msisdn_reserve(msisdn=short, ref="ORD-1", actor=actor, minutes=10)
    msisdn_reserve(msisdn=long, ref="ORD-2", actor=actor, minutes=60)
    # when
    with time_machine.travel(timezone.now() + timedelta(minutes=9)):
        too_early = msisdn_reservations_expire()
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        expired = msisdn_reservations_expire()
        again = msisdn_reservations_expire()
    # then
    assert (too_early, expired, again) == (0, 1, 0)
    short.refresh_from_db()
    long.refresh_from_db()
    assert (short.status, short.reservation_ref, short.reserved_until) == ("available", "", None)
    assert long.status == "reserved"
    event = InventoryEvent.objects.filter(msisdn=short).first()
    assert (event.old_status, event.new_status, event.actor.email, event.reason) == (
        "reserved",
        "available",
        "system@telecrm.invalid",
        "Reservation for ORD-1 expired",
    )


def test_the_reservation_sweep_works_in_chunks_until_none_is_left(db):
    # given
    past = timezone.now() - timedelta(minutes=1)
    MsisdnFactory.create_batch(5, status="reserved", reserved_until=past, reservation_ref="ORD")
    # when
    expired = msisdn_reservations_expire(chunk_size=2)
    # then
    assert expired == 5
    assert Msisdn.objects.filter(status="available").count() == 5
    assert InventoryEvent.objects.filter(new_status="available").count() == 5


def test_quarantined_numbers_return_to_the_pool_after_the_ageing_period(db, actor, settings):
    # given
    settings.MSISDN_QUARANTINE_DAYS = 90
    msisdn = MsisdnFactory(status="assigned")
    msisdn_quarantine(msisdn=msisdn, actor=actor, reason="Line terminated")
    # when
    with time_machine.travel(timezone.now() + timedelta(days=89)):
        early = msisdn_quarantines_end()
    with time_machine.travel(timezone.now() + timedelta(days=90, minutes=1)):
        aged = msisdn_quarantines_end()
        again = msisdn_quarantines_end(chunk_size=1)
    # then
    assert (early, aged, again) == (0, 1, 0)
    msisdn.refresh_from_db()
    assert (msisdn.status, msisdn.quarantined_until) == ("available", None)
    assert InventoryEvent.objects.filter(msisdn=msisdn).first().reason == "Quarantine over"


def test_expired_sim_reservations_go_back_to_the_shelf_they_came_from(db, actor):
    # given
    partner = PartnerFactory()
    central = SimCardFactory()
    shelf = SimCardFactory(status=SimCard.Status.ALLOCATED, partner=partner)
    sim_reserve(sim=central, ref="ORD-1", actor=actor, minutes=5)
    sim_reserve(sim=shelf, ref="ORD-2", actor=actor, minutes=5, partner=partner)
    # when
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        expired = sim_reservations_expire(chunk_size=1)
    # then
    central.refresh_from_db()
    shelf.refresh_from_db()
    assert expired == 2
    assert (central.status, central.partner) == ("in_stock", None)
    assert (shelf.status, shelf.partner) == ("allocated", partner)
    assert InventoryEvent.objects.filter(sim=shelf).first().new_status == "allocated"


def test_celery_tasks_run_the_sweeps(db, actor):
    # given
    past = timezone.now() - timedelta(seconds=1)
    MsisdnFactory(status="reserved", reserved_until=past, reservation_ref="ORD-1")
    MsisdnFactory.create_batch(2, status="quarantined", quarantined_until=past)
    SimCardFactory(status="reserved", reserved_until=past, reservation_ref="ORD-2")
    # when
    results = (
        tasks.msisdn_reservations_expire_task.apply().get(),
        tasks.msisdn_quarantines_end_task(),
        tasks.sim_reservations_expire_task(),
    )
    # then
    assert results == (1, 2, 1)
    assert Msisdn.objects.filter(status="available").count() == 3
    assert SimCard.objects.filter(status="in_stock").count() == 1
