"""Two sales can never take the same number or SIM, even at the same instant (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from common.errors import ApplicationError
from crm.tests.factories import PartnerFactory, UserFactory
from orders.inventory.models import InventoryEvent, Msisdn, SimCard
from orders.inventory.services import (
    msisdn_assign,
    msisdn_reserve,
    sim_allocate,
    sim_assign,
    sim_reserve,
)
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

THREADS = 8


def run_at_once(work: Callable[[int], Any]) -> list[Any]:
    """Run work(0…THREADS-1) in threads released together; collect results or error codes."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            barrier.wait()
            result = work(index)
        except ApplicationError as exc:
            result = exc.code
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")


pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_eight_sales_reserving_one_number_at_once_leave_one_reservation(postgresql):
    # given
    actor = UserFactory()
    msisdn = MsisdnFactory(number="+447500900777")
    # when
    outcomes = run_at_once(
        lambda i: msisdn_reserve(msisdn=msisdn.number, ref=f"ORD-{i}", actor=actor).reservation_ref
    )
    # then
    won = [o for o in outcomes if o.startswith("ORD-")]
    assert len(won) == 1
    assert set(outcomes) - set(won) <= {"conflict", "invalid_transition"}
    msisdn.refresh_from_db()
    assert (msisdn.status, msisdn.reservation_ref) == ("reserved", won[0])
    assert InventoryEvent.objects.filter(msisdn=msisdn).count() == 1


def test_eight_sales_assigning_one_number_at_once_assign_it_once(postgresql):
    # given
    actor = UserFactory()
    msisdn = MsisdnFactory(number="+447500900778")
    # when
    outcomes = run_at_once(
        lambda i: msisdn_assign(msisdn=msisdn.number, ref=f"ORD-{i}", actor=actor).status
    )
    # then
    assert outcomes.count("assigned") == 1
    assert InventoryEvent.objects.filter(msisdn=msisdn, new_status="assigned").count() == 1


def test_eight_sales_reserving_the_next_available_number_get_eight_different_ones(postgresql):
    # given
    actor = UserFactory()
    for n in range(12):
        MsisdnFactory(number=f"+4475009001{n:02d}", category="golden")
    # when
    outcomes = run_at_once(
        lambda i: msisdn_reserve(category="golden", ref=f"ORD-{i}", actor=actor).number
    )
    # then
    assert len(set(outcomes)) == THREADS
    assert all(str(o).startswith("+447500900") for o in outcomes)
    reserved = Msisdn.objects.filter(status="reserved")
    assert sorted(reserved.values_list("number", flat=True)) == sorted(outcomes)
    assert len(set(reserved.values_list("reservation_ref", flat=True))) == THREADS


def test_more_sales_than_numbers_never_oversell(postgresql):
    # given
    actor = UserFactory()
    for n in range(3):
        MsisdnFactory(number=f"+4475009002{n:02d}", category="silver")
    # when
    outcomes = run_at_once(
        lambda i: msisdn_reserve(category="silver", ref=f"ORD-{i}", actor=actor).number
    )
    # then
    sold = [o for o in outcomes if o.startswith("+44")]
    assert len(sold) == len(set(sold)) == 3
    assert outcomes.count("out_of_stock") == THREADS - 3


def test_eight_sales_assigning_one_sim_at_once_assign_it_once(postgresql):
    # given
    actor = UserFactory()
    sim = SimCardFactory()
    # when
    outcomes = run_at_once(lambda i: sim_assign(sim=sim.iccid, ref=f"ORD-{i}", actor=actor).status)
    # then
    assert outcomes.count("assigned") == 1
    assert set(outcomes) - {"assigned"} <= {"conflict", "invalid_transition"}
    assert InventoryEvent.objects.filter(sim=sim, new_status="assigned").count() == 1


def test_eight_sales_reserving_one_sim_at_once_leave_one_reservation(postgresql):
    # given
    actor = UserFactory()
    sim = SimCardFactory()
    # when
    outcomes = run_at_once(
        lambda i: sim_reserve(sim=sim.iccid, ref=f"ORD-{i}", actor=actor).reservation_ref
    )
    # then
    assert len([o for o in outcomes if o.startswith("ORD-")]) == 1
    assert InventoryEvent.objects.filter(sim=sim).count() == 1


def test_eight_shops_reserving_their_next_sim_get_different_ones(postgresql):
    # given
    actor = UserFactory()
    partner = PartnerFactory()
    SimCardFactory.create_batch(10, status="allocated", partner=partner)
    # when
    outcomes = run_at_once(
        lambda i: sim_reserve(ref=f"ORD-{i}", actor=actor, partner=partner).iccid
    )
    # then
    assert len(set(outcomes)) == THREADS
    assert SimCard.objects.filter(status="reserved").count() == THREADS


def test_concurrent_allocations_by_count_take_different_sims(postgresql):
    # given
    actor = UserFactory()
    partners = [PartnerFactory() for _ in range(THREADS)]
    SimCardFactory.create_batch(THREADS * 3)
    # when
    outcomes = run_at_once(lambda i: sim_allocate(partner=partners[i], actor=actor, count=3))
    # then
    assert outcomes == [3] * THREADS
    for partner in partners:
        assert SimCard.objects.filter(partner=partner, status="allocated").count() == 3
