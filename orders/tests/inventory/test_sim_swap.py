"""A SIM swap keeps the line's number and moves it to a new SIM; the old SIM is blocked."""

from __future__ import annotations

import pytest

from common.errors import ApplicationError, InvalidTransition
from crm.models import Interaction, Subscriber
from crm.tests.factories import SubscriberFactory
from crm.validators import iccid_build
from orders.inventory.models import InventoryEvent, SimCard
from orders.inventory.services import sim_reserve, sim_swap_inventory
from orders.tests.inventory_factories import SimCardFactory


@pytest.fixture
def old_sim(db):
    return SimCardFactory(status=SimCard.Status.ASSIGNED)


@pytest.fixture
def line(old_sim):
    return SubscriberFactory(msisdn="+447400123456", iccid=old_sim.iccid, imsi=old_sim.imsi)


def test_a_swap_moves_the_line_to_the_new_sim_and_blocks_the_old_one(actor, line, old_sim):
    # given
    new_sim = SimCardFactory()
    # when
    swapped = sim_swap_inventory(
        subscriber=line, new_sim=new_sim.iccid, actor=actor, reason="Phone stolen"
    )
    # then
    line.refresh_from_db()
    new_sim.refresh_from_db()
    old_sim.refresh_from_db()
    assert (line.msisdn, line.iccid, line.imsi, line.status) == (
        "+447400123456",
        new_sim.iccid,
        new_sim.imsi,
        "active",
    )
    assert (swapped.iccid, swapped.imsi) == (new_sim.iccid, new_sim.imsi)
    assert (new_sim.status, old_sim.status) == ("assigned", "blocked")
    assert (
        InventoryEvent.objects.get(sim=old_sim).reason
        == "Replaced on +44 7400 123456: Phone stolen"
    )
    note = Interaction.objects.get(customer=line.account.customer)
    assert note.subject == "SIM swapped"
    assert note.body == (
        f"SIM of +44 7400 123456 swapped from {old_sim.iccid} to {new_sim.iccid}: Phone stolen"
    )
    assert note.author == actor
    assert line.events.count() == 0  # the line's status did not change


def test_a_damaged_sim_is_swapped_and_written_off(actor, line, old_sim):
    # given
    new_sim = SimCardFactory()
    # when
    sim_swap_inventory(
        subscriber=line,
        new_sim=new_sim,
        actor=actor,
        reason="Card cracked",
        old_sim_status="damaged",
    )
    # then
    old_sim.refresh_from_db()
    assert old_sim.status == "damaged"


def test_a_swap_takes_the_sales_own_reserved_sim(actor, line):
    # given
    new_sim = SimCardFactory()
    sim_reserve(sim=new_sim, ref="ORD-9", actor=actor)
    # when
    with pytest.raises(ApplicationError) as other:
        sim_swap_inventory(
            subscriber=line, new_sim=new_sim, actor=actor, reason="Lost", ref="ORD-8"
        )
    sim_swap_inventory(subscriber=line, new_sim=new_sim, actor=actor, reason="Lost", ref="ORD-9")
    # then
    assert other.value.code == "reserved_elsewhere"
    line.refresh_from_db()
    assert line.iccid == new_sim.iccid


def test_a_line_whose_sim_predates_the_stock_records_still_swaps(actor):
    # given
    line = SubscriberFactory(status="suspended")
    new_sim = SimCardFactory()
    # when
    sim_swap_inventory(subscriber=line, new_sim=new_sim, actor=actor, reason="Lost")
    # then
    line.refresh_from_db()
    assert (line.iccid, line.status) == (new_sim.iccid, "suspended")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("assigned", InvalidTransition),
        ("blocked", InvalidTransition),
        ("damaged", InvalidTransition),
    ],
)
def test_a_swap_to_a_sim_that_cannot_be_assigned_changes_nothing(
    actor, line, old_sim, status, error
):
    # given
    new_sim = SimCardFactory(status=status)
    # when
    with pytest.raises(error):
        sim_swap_inventory(subscriber=line, new_sim=new_sim, actor=actor, reason="Lost")
    # then
    line.refresh_from_db()
    old_sim.refresh_from_db()
    assert (line.iccid, old_sim.status) == (old_sim.iccid, "assigned")
    assert Interaction.objects.count() == 0


def test_a_terminated_line_cannot_swap(actor, old_sim):
    # given
    line = SubscriberFactory(status="terminated", iccid=old_sim.iccid)
    new_sim = SimCardFactory()
    # when
    with pytest.raises(InvalidTransition):
        sim_swap_inventory(subscriber=line, new_sim=new_sim, actor=actor, reason="Lost")
    # then
    new_sim.refresh_from_db()
    assert new_sim.status == "in_stock"


@pytest.mark.parametrize(
    ("new_sim", "message"),
    [
        (
            iccid_build(99_999, issuer="40"),
            f"SIM {iccid_build(99_999, issuer='40')} is not in stock.",
        ),
        ("8944400000000099990", "The ICCID's check digit is wrong: check it was typed correctly."),
    ],
)
def test_a_swap_to_an_unknown_sim_says_why(actor, line, new_sim, message):
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_swap_inventory(subscriber=line, new_sim=new_sim, actor=actor, reason="Lost")
    # then
    assert exc.value.fields == {"new_sim": [message]}
    assert Subscriber.objects.get(pk=line.pk).iccid == line.iccid


def test_a_swap_needs_a_reason(actor, line):
    # given
    new_sim = SimCardFactory()
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_swap_inventory(subscriber=line, new_sim=new_sim, actor=actor, reason=" ")
    # then
    assert exc.value.fields == {"reason": ["A reason is required."]}
    new_sim.refresh_from_db()
    assert new_sim.status == "in_stock"
