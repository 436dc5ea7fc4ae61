"""SIM stock transitions: every change allowed and refused, allocation to partners, reservations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import ApplicationError, InvalidTransition
from crm.tests.factories import PartnerFactory
from crm.validators import iccid_build
from orders.inventory.models import InventoryEvent, SimCard
from orders.inventory.services import (
    sim_allocate,
    sim_assign,
    sim_block,
    sim_mark_damaged,
    sim_release,
    sim_reserve,
    sim_return_to_stock,
)
from orders.tests.inventory_factories import SimBatchFactory, SimCardFactory

S = SimCard.Status


@pytest.fixture
def partner(db):
    return PartnerFactory(code="shop", name="Corner Shop")


def _in_status(status, partner):
    extra: dict = {}
    if status in (S.ALLOCATED, S.RESERVED):
        extra["partner"] = partner
    if status == S.RESERVED:
        extra |= {"reserved_until": timezone.now() + timedelta(minutes=5), "reservation_ref": "O-1"}
    return SimCardFactory(status=status, **extra)


CHANGES = {
    "allocate": lambda sim, a, p: sim_allocate(sims=[sim], partner=p, actor=a),
    "return": lambda sim, a, p: sim_return_to_stock(sim=sim, actor=a, reason="Shop closed"),
    "reserve": lambda sim, a, p: sim_reserve(sim=sim, ref="O-2", actor=a, partner=p),
    "release": lambda sim, a, p: sim_release(sim=sim, actor=a, reason="Sale abandoned"),
    "assign": lambda sim, a, p: sim_assign(sim=sim, ref="O-1", actor=a, partner=p),
    "block": lambda sim, a, p: sim_block(sim=sim, actor=a, reason="Stolen"),
    "damaged": lambda sim, a, p: sim_mark_damaged(sim=sim, actor=a, reason="Chip cracked"),
}
# (change, from) -> to
ALLOWED = {
    ("allocate", S.IN_STOCK): S.ALLOCATED,
    ("return", S.ALLOCATED): S.IN_STOCK,
    ("reserve", S.IN_STOCK): S.RESERVED,
    ("reserve", S.ALLOCATED): S.RESERVED,
    ("release", S.RESERVED): S.ALLOCATED,  # back to its partner's shelf
    ("assign", S.IN_STOCK): S.ASSIGNED,
    ("assign", S.ALLOCATED): S.ASSIGNED,
    ("assign", S.RESERVED): S.ASSIGNED,
    ("block", S.ASSIGNED): S.BLOCKED,
    ("damaged", S.IN_STOCK): S.DAMAGED,
    ("damaged", S.ALLOCATED): S.DAMAGED,
    ("damaged", S.ASSIGNED): S.DAMAGED,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("change", list(CHANGES))
def test_each_sim_change_is_allowed_only_from_its_statuses(actor, partner, change, status):
    # given
    sim = _in_status(status, partner)
    target = ALLOWED.get((change, status))
    # when
    if target is not None:
        CHANGES[change](sim, actor, partner)
    else:
        with pytest.raises(ApplicationError) as exc:
            CHANGES[change](sim, actor, partner)
    # then
    sim.refresh_from_db()
    events = list(InventoryEvent.objects.filter(sim=sim).values_list("old_status", "new_status"))
    if target is not None:
        assert sim.status == target
        assert events == [(status, target)]
    else:
        assert isinstance(exc.value, InvalidTransition) or change == "allocate"
        assert sim.status == status
        assert events == []


def test_every_allowed_sim_change_is_in_the_models_transition_table():
    # given / when / then
    assert all(target in SimCard.TRANSITIONS[source] for (_, source), target in ALLOWED.items())


def test_allocating_by_count_takes_the_lowest_iccids_of_the_batch(actor, partner):
    # given
    batch = SimBatchFactory()
    sims = SimCardFactory.create_batch(4, batch=batch)
    SimCardFactory.create_batch(2)  # another batch
    # when
    allocated = sim_allocate(partner=partner, actor=actor, count=3, batch=batch)
    # then
    assert allocated == 3
    on_shelf = SimCard.objects.filter(partner=partner, status=S.ALLOCATED)
    assert sorted(on_shelf.values_list("iccid", flat=True)) == sorted(s.iccid for s in sims)[:3]
    assert set(
        InventoryEvent.objects.filter(sim__partner=partner).values_list("actor", "reason")
    ) == {(actor.pk, "Allocated to Corner Shop")}


def test_allocating_more_than_is_in_stock_allocates_nothing(actor, partner):
    # given
    SimCardFactory.create_batch(2)
    SimCardFactory(status=S.DAMAGED)
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_allocate(partner=partner, actor=actor, count=3)
    # then
    assert exc.value.fields == {"count": ["Only 2 SIMs are in stock; 3 were asked for."]}
    assert SimCard.objects.filter(status=S.ALLOCATED).count() == 0


def test_allocating_named_sims_is_all_or_nothing_and_names_each_problem(actor, partner):
    # given
    good = SimCardFactory()
    sold = SimCardFactory(status=S.ASSIGNED)
    unknown = iccid_build(99_999, issuer="40")
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_allocate(partner=partner, actor=actor, sims=[good.iccid, sold, unknown, "123"])
    # then
    assert exc.value.message == "Nothing was allocated."
    assert exc.value.fields == {
        "sims": [
            "An ICCID has 19 or 20 digits; this has 3.",
            f"SIM {sold.iccid} is assigned, not in stock.",
            f"SIM {unknown} is not in stock.",
        ]
    }
    good.refresh_from_db()
    assert good.status == S.IN_STOCK


def test_allocating_to_a_suspended_partner_is_refused(actor):
    # given
    suspended = PartnerFactory(status="suspended", name="Gone Ltd")
    sim = SimCardFactory()
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_allocate(partner=suspended, actor=actor, sims=[sim])
    # then
    assert exc.value.fields == {"partner": ["Gone Ltd is suspended."]}
    sim.refresh_from_db()
    assert (sim.status, sim.partner) == (S.IN_STOCK, None)


def test_a_suspended_partner_sells_nothing_from_its_shelf(actor, partner):
    # given: a SIM on the shelf, then the partner suspended behind the back of the one in hand
    sim = SimCardFactory(status=S.ALLOCATED, partner=partner)
    type(partner).objects.filter(pk=partner.pk).update(status="suspended")
    # when / then
    for sell in (
        lambda: sim_reserve(ref="O-1", actor=actor, partner=partner),
        lambda: sim_reserve(sim=sim, ref="O-1", actor=actor, partner=partner),
        lambda: sim_assign(sim=sim, ref="O-1", actor=actor, partner=partner),
    ):
        with pytest.raises(ApplicationError) as exc:
            sell()
        assert exc.value.fields == {"partner": ["Corner Shop is suspended."]}
    sim.refresh_from_db()
    assert sim.status == S.ALLOCATED


def test_a_partner_reserves_the_next_sim_from_its_own_shelf(actor, partner):
    # given
    SimCardFactory()  # central stock: not the partner's
    mine = SimCardFactory(status=S.ALLOCATED, partner=partner)
    # when
    reserved = sim_reserve(ref="O-1", actor=actor, partner=partner)
    # then
    assert reserved.pk == mine.pk
    with pytest.raises(ApplicationError) as exc:
        sim_reserve(ref="O-2", actor=actor, partner=partner)
    assert (exc.value.code, exc.value.message) == (
        "out_of_stock",
        "No SIM is on Corner Shop's shelf.",
    )


def test_a_partner_cannot_reserve_a_sim_from_another_shelf(actor, partner):
    # given
    elsewhere = SimCardFactory(status=S.ALLOCATED, partner=PartnerFactory())
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_reserve(sim=elsewhere.iccid, ref="O-1", actor=actor, partner=partner)
    # then
    assert exc.value.fields == {"iccid": [f"SIM {elsewhere.iccid} is not on Corner Shop's shelf."]}
    elsewhere.refresh_from_db()
    assert elsewhere.status == S.ALLOCATED


def test_a_sim_reserved_for_one_sale_cannot_be_assigned_by_another(actor):
    # given
    sim = SimCardFactory()
    sim_reserve(sim=sim, ref="O-1", actor=actor)
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_assign(sim=sim, ref="O-2", actor=actor)
    # then
    assert exc.value.code == "reserved_elsewhere"
    sim.refresh_from_db()
    assert (sim.status, sim.reservation_ref) == (S.RESERVED, "O-1")


def test_releasing_a_central_stock_reservation_puts_it_back_in_stock(actor):
    # given
    sim = SimCardFactory()
    sim_reserve(sim=sim, ref="O-1", actor=actor)
    # when
    sim_release(sim=sim, actor=actor, reason="Cancelled", ref="O-1")
    # then
    sim.refresh_from_db()
    assert (sim.status, sim.reservation_ref, sim.reserved_until) == (S.IN_STOCK, "", None)


def test_blocking_a_sim_needs_a_reason(actor):
    # given
    sim = SimCardFactory(status=S.ASSIGNED)
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_block(sim=sim, actor=actor, reason="")
    # then
    assert exc.value.fields == {"reason": ["A reason is required."]}
    sim.refresh_from_db()
    assert sim.status == S.ASSIGNED


@pytest.mark.parametrize("seller", ["operator", "other partner"])
def test_a_sim_on_a_partners_shelf_is_sold_only_by_that_partner(actor, partner, seller):
    # given a SIM allocated to the Corner Shop
    sim = SimCardFactory(status=S.ALLOCATED, partner=partner)
    other = PartnerFactory(code="kiosk", name="Kiosk") if seller == "other partner" else None
    # when the operator's console (no partner) or another partner tries to sell it
    with pytest.raises(ApplicationError) as refused:
        sim_reserve(sim=sim.iccid, ref="ORD-7", actor=actor, partner=other)
    # then
    assert refused.value.code == "allocated_elsewhere"
    expected = (
        f"SIM {sim.iccid} is allocated to Corner Shop; only that partner sells it."
        if other is None
        else f"SIM {sim.iccid} is not on Kiosk's shelf."
    )
    assert refused.value.fields == {"iccid": [expected]}
    sim.refresh_from_db()
    assert (sim.status, sim.partner) == (S.ALLOCATED, partner)
    assert not InventoryEvent.objects.filter(sim=sim).exists()
