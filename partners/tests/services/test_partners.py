"""Partner services: create, update, move, suspend and reactivate; each audited, each refusal
writing nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from common.audit import audit_events_for
from common.errors import ApplicationError, InvalidTransition
from common.models import AuditEvent
from common.roles import Role
from crm.models import User
from crm.selectors import customer_qs_for
from crm.tests.factories import CustomerFactory, PartnerFactory, PartnerUserFactory
from orders.inventory.services import msisdn_reserve, sim_allocate, sim_reserve
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory
from partners.models import Partner
from partners.selectors import partner_subtree
from partners.services import (
    partner_create,
    partner_move,
    partner_reactivate,
    partner_suspend,
    partner_update,
)
from partners.tests.conftest import world


def paths():
    return dict(Partner.objects.values_list("code", "path"))


def test_the_admin_role_may_manage_partners(db):
    # given: the groups as migrate leaves them
    admin_group = Group.objects.get(name=Role.ADMIN.value)
    # when
    codenames = set(admin_group.permissions.values_list("codename", flat=True))
    # then
    assert "manage_partners" in codenames
    assert not Group.objects.filter(
        permissions__codename="manage_partners", name__in=[Role.CSR, Role.RESELLER]
    ).exists()


# --- create ------------------------------------------------------------------------------------


def test_create_at_the_top_is_audited_with_its_actor(admin):
    # when
    partner = partner_create(
        actor=admin, code="  West-Side ", name=" West Side Ltd ", kind="distributor"
    )
    # then
    assert (partner.code, partner.name, partner.kind, partner.parent, partner.path) == (
        "west-side",
        "West Side Ltd",
        "distributor",
        None,
        "west-side/",
    )
    [event] = audit_events_for(partner)
    assert (event.action, event.actor, event.reason) == ("created", admin, "")
    assert event.changes == {
        "code": [None, "west-side"],
        "name": [None, "West Side Ltd"],
        "kind": [None, "distributor"],
        "status": [None, "active"],
    }


def test_create_under_a_parent_extends_its_path(admin, north_shop):
    # when
    partner = partner_create(actor=admin, code="north-stall", name="Stall", parent=north_shop)
    # then
    assert partner.path == "north/north-shop/north-stall/"
    assert partner in partner_subtree(Partner.objects.get(code="north"))
    assert audit_events_for(partner).get().changes["parent"] == [None, "north-shop"]


def test_create_names_every_bad_field_at_once_and_writes_nothing(admin, north):
    # given
    PartnerFactory(code="taken")
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_create(actor=admin, code="taken", name="  ", kind="wholesaler")
    # then
    assert set(exc.value.fields) == {"code", "name", "kind"}
    assert exc.value.fields["code"] == ["Another partner already has the code 'taken'."]
    assert world() == before


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Give the partner a code, e.g. north-shop."),
        ("a/b", "Use lower-case letters, digits and single hyphens, e.g. north-shop."),
        ("two--hyphens", "Use lower-case letters, digits and single hyphens, e.g. north-shop."),
        ("x" * 31, "A code has at most 30 characters."),
    ],
)
def test_create_refuses_a_code_that_cannot_sit_in_a_path(admin, code, message):
    # given
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_create(actor=admin, code=code, name="Somebody")
    # then
    assert exc.value.fields == {"code": [message]}
    assert world() == before


def test_create_under_a_suspended_parent_is_refused(admin, north):
    # given
    Partner.objects.filter(pk=north.pk).update(status=Partner.Status.SUSPENDED)
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_create(actor=admin, code="new-shop", name="New Shop", parent=north)
    # then
    assert exc.value.fields == {
        "parent": ["North Distribution is suspended; partners go only under an active partner."]
    }
    assert world() == before


# --- update ------------------------------------------------------------------------------------


def test_update_records_only_what_changed(admin, east):
    # when
    partner = partner_update(partner=east, actor=admin, name="East Phones", kind="dealer")
    # then
    partner.refresh_from_db()
    assert (partner.name, partner.kind) == ("East Phones", "dealer")
    [event] = audit_events_for(partner)
    assert (event.action, event.actor, event.changes) == (
        "updated",
        admin,
        {"kind": ["reseller", "dealer"]},
    )


def test_update_that_changes_nothing_records_nothing(admin, east):
    # when
    partner_update(partner=east, actor=admin, name="East Phones", kind="reseller")
    # then
    assert not AuditEvent.objects.exists()


def test_update_refuses_a_bad_kind_and_an_empty_name_and_writes_nothing(admin, east):
    # given
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_update(partner=east, actor=admin, name="", kind="franchise")
    # then
    assert set(exc.value.fields) == {"name", "kind"}
    assert world() == before


# --- move --------------------------------------------------------------------------------------


def test_move_rewrites_the_path_of_the_whole_subtree(admin, north_kiosk, east):
    # given: north / north-shop / north-kiosk, and east at the top
    shop = Partner.objects.get(code="north-shop")
    # when
    moved = partner_move(partner=shop, actor=admin, parent=east, reason="Bought by East")
    # then
    assert moved.parent == east
    assert paths() == {
        "north": "north/",
        "north-shop": "east/north-shop/",
        "north-kiosk": "east/north-shop/north-kiosk/",
        "east": "east/",
    }
    assert {p.code for p in partner_subtree(east)} == {"east", "north-shop", "north-kiosk"}
    assert {p.code for p in partner_subtree(Partner.objects.get(code="north"))} == {"north"}


def test_move_is_audited_with_actor_reason_and_before_and_after(admin, north_kiosk, east):
    # given
    shop = Partner.objects.get(code="north-shop")
    # when
    partner_move(partner=shop, actor=admin, parent=east, reason="Bought by East")
    # then
    [event] = audit_events_for(shop)
    assert (event.action, event.actor, event.reason) == ("moved", admin, "Bought by East")
    assert event.changes == {
        "parent": ["north", "east"],
        "path": ["north/north-shop/", "east/north-shop/"],
        "sub_partners_moved": [None, 1],
    }


def test_move_to_the_top_of_the_tree(admin, north_kiosk):
    # given
    shop = Partner.objects.get(code="north-shop")
    # when
    moved = partner_move(partner=shop, actor=admin, parent=None)
    # then
    assert moved.parent is None
    assert paths()["north-shop"] == "north-shop/"
    assert paths()["north-kiosk"] == "north-shop/north-kiosk/"


def test_customer_scoping_follows_a_move(admin, north_kiosk, east):
    # given: a customer of the kiosk, and a user of the north distributor and one of east
    kiosk_customer = CustomerFactory(partner=north_kiosk, last_name="Kiosk")
    north_user = PartnerUserFactory(partner=Partner.objects.get(code="north")).user
    east_user = PartnerUserFactory(partner=east).user
    assert list(customer_qs_for(north_user)) == [kiosk_customer]
    assert list(customer_qs_for(east_user)) == []
    # when: the shop (with the kiosk under it) moves to east
    partner_move(partner=Partner.objects.get(code="north-shop"), actor=admin, parent=east)
    # then: as seen by the next request of each (a user caches its partner per request)
    assert list(customer_qs_for(User.objects.get(pk=north_user.pk))) == []
    assert list(customer_qs_for(User.objects.get(pk=east_user.pk))) == [kiosk_customer]


@pytest.mark.parametrize(
    ("mover", "target", "message"),
    [
        ("north", "north", "North Distribution cannot go under itself."),
        (
            "north",
            "north-kiosk",
            "North Distribution cannot go under North Kiosk, which is below it.",
        ),
        ("north-shop", "north", "North Shop is already under North Distribution."),
        ("north", None, "North Distribution is already at the top of the tree."),
    ],
)
def test_move_refuses_a_cycle_or_no_change_and_writes_nothing(
    admin, north_kiosk, mover, target, message
):
    # given
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_move(
            partner=Partner.objects.get(code=mover),
            actor=admin,
            parent=Partner.objects.get(code=target) if target else None,
        )
    # then
    assert exc.value.fields == {"parent": [message]}
    assert world() == before


def test_move_under_a_suspended_partner_is_refused(admin, north_shop, east):
    # given
    Partner.objects.filter(pk=east.pk).update(status=Partner.Status.SUSPENDED)
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_move(partner=north_shop, actor=admin, parent=east)
    # then
    assert exc.value.fields == {
        "parent": ["East Phones is suspended; partners go only under an active partner."]
    }
    assert world() == before


def test_move_with_a_stale_partner_in_hand_uses_the_tree_as_it_is(admin, north_kiosk, east):
    # given: the kiosk loaded, then its shop moved under east by someone else
    kiosk = Partner.objects.get(code="north-kiosk")
    partner_move(partner=Partner.objects.get(code="north-shop"), actor=admin, parent=east)
    # when: the stale kiosk moves to the top
    partner_move(partner=kiosk, actor=admin, parent=None)
    # then
    assert paths()["north-kiosk"] == "north-kiosk/"
    assert audit_events_for(kiosk).get().changes["path"] == [
        "east/north-shop/north-kiosk/",
        "north-kiosk/",
    ]


# --- suspend and reactivate ------------------------------------------------------------------


def test_suspend_then_reactivate_are_audited_with_their_reasons(admin, east):
    # when
    partner_suspend(partner=east, actor=admin, reason="  Settlement   unpaid ")
    partner_reactivate(partner=east, actor=admin, reason="Paid in full")
    # then
    east.refresh_from_db()
    assert east.status == Partner.Status.ACTIVE
    assert [(e.action, e.changes, e.reason, e.actor) for e in audit_events_for(east)] == [
        ("reactivated", {"status": ["suspended", "active"]}, "Paid in full", admin),
        ("suspended", {"status": ["active", "suspended"]}, "Settlement unpaid", admin),
    ]


def test_suspend_needs_a_reason_and_writes_nothing_without_one(admin, east):
    # given
    before = world()
    # when
    with pytest.raises(ApplicationError) as exc:
        partner_suspend(partner=east, actor=admin, reason=" ")
    # then
    assert exc.value.fields == {"reason": ["A reason is required."]}
    assert world() == before


def test_suspending_a_suspended_partner_is_an_invalid_transition(admin, east):
    # given
    active = PartnerFactory(name="Still Active")
    partner_suspend(partner=east, actor=admin, reason="Fraud check")
    before = world()
    # when
    with pytest.raises(InvalidTransition) as suspended_twice:
        partner_suspend(partner=east, actor=admin, reason="Again")
    with pytest.raises(InvalidTransition) as reactivated_active:
        partner_reactivate(partner=active, actor=admin, reason="Why not")
    # then
    assert suspended_twice.value.message == "East Phones is already suspended."
    assert reactivated_active.value.message == "Still Active is already active."
    assert world() == before


@pytest.mark.usefixtures("north")
def test_a_suspended_partner_cannot_sell_from_its_shelf_or_get_stock(admin, east):
    # given: stock on east's shelf, then east suspended (the instance in hand still says active)
    sim = SimCardFactory(status="allocated", partner=east)
    number = MsisdnFactory(status="allocated", partner=east)
    stale = Partner.objects.get(pk=east.pk)
    partner_suspend(partner=east, actor=admin, reason="Contract ended")
    # when / then
    for sell in (
        lambda: sim_reserve(ref="ORD-1", actor=admin, partner=stale),
        lambda: msisdn_reserve(ref="ORD-1", actor=admin, msisdn=number, partner=stale),
        lambda: sim_allocate(partner=stale, actor=admin, sims=[SimCardFactory()]),
    ):
        with pytest.raises(ApplicationError) as exc:
            sell()
        assert exc.value.code == "partner_inactive"
        assert exc.value.fields == {"partner": ["East Phones is suspended."]}
    sim.refresh_from_db()
    number.refresh_from_db()
    assert (sim.status, number.status) == ("allocated", "allocated")
