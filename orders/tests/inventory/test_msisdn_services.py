"""Number pool transitions: every change allowed and refused, reservations and their refs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from common.errors import ApplicationError, InvalidTransition
from crm.tests.factories import PartnerFactory
from orders.inventory.models import InventoryEvent, Msisdn
from orders.inventory.services import (
    msisdn_assign,
    msisdn_quarantine,
    msisdn_quarantine_end,
    msisdn_release,
    msisdn_reserve,
)
from orders.tests.inventory_factories import MsisdnFactory

S = Msisdn.Status


def _in_status(status):
    extra = {}
    if status == S.RESERVED:
        extra = {
            "reserved_until": timezone.now() + timedelta(minutes=5),
            "reservation_ref": "ORD-1",
        }
    if status == S.QUARANTINED:
        extra = {"quarantined_until": timezone.now() + timedelta(days=5)}
    if status == S.ALLOCATED:
        extra = {"partner": PartnerFactory(name="Corner Shop")}
    return MsisdnFactory(status=status, **extra)


CHANGES = {
    "reserve": (lambda m, a: msisdn_reserve(msisdn=m, ref="ORD-2", actor=a), S.RESERVED),
    "release": (
        lambda m, a: msisdn_release(msisdn=m, actor=a, reason="Sale abandoned"),
        S.AVAILABLE,
    ),
    "assign": (lambda m, a: msisdn_assign(msisdn=m, ref="ORD-1", actor=a), S.ASSIGNED),
    "quarantine": (
        lambda m, a: msisdn_quarantine(msisdn=m, actor=a, reason="Line terminated"),
        S.QUARANTINED,
    ),
    "quarantine_end": (
        lambda m, a: msisdn_quarantine_end(msisdn=m, actor=a, reason="Wanted back"),
        S.AVAILABLE,
    ),
}
ALLOWED = {
    ("reserve", S.AVAILABLE),
    ("release", S.RESERVED),
    ("assign", S.AVAILABLE),
    ("assign", S.RESERVED),
    ("quarantine", S.ASSIGNED),
    ("quarantine_end", S.QUARANTINED),
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("change", list(CHANGES))
def test_each_number_change_is_allowed_only_from_its_statuses(db, actor, change, status):
    # given
    msisdn = _in_status(status)
    call, target = CHANGES[change]
    allowed = (change, status) in ALLOWED
    # when
    if allowed:
        result = call(msisdn, actor)
    elif status == S.ALLOCATED and change in ("reserve", "assign"):
        # on a partner's shelf: only that partner sells it
        with pytest.raises(ApplicationError) as refused:
            call(msisdn, actor)
        assert refused.value.code == "allocated_elsewhere"
        assert "is allocated to Corner Shop; only that partner sells it." in refused.value.message
    else:
        with pytest.raises(InvalidTransition):
            call(msisdn, actor)
    # then
    msisdn.refresh_from_db()
    events = list(InventoryEvent.objects.filter(msisdn=msisdn))
    if allowed:
        assert msisdn.status == result.status == target
        assert [(e.old_status, e.new_status, e.actor) for e in events] == [(status, target, actor)]
    else:
        assert msisdn.status == status
        assert events == []


def test_every_allowed_change_is_in_the_models_transition_table():
    # given / when
    pairs = {(status, CHANGES[change][1]) for change, status in ALLOWED}
    # then
    assert all(target in Msisdn.TRANSITIONS[source] for source, target in pairs)


def test_reserving_a_named_number_holds_it_for_the_sale_until_it_expires(db, actor, settings):
    # given
    settings.INVENTORY_RESERVATION_MINUTES = 20
    msisdn = MsisdnFactory(number="+447500900123")
    before = timezone.now()
    # when
    reserved = msisdn_reserve(msisdn="07500 900123", ref="ORD-42", actor=actor)
    # then
    msisdn.refresh_from_db()
    assert (msisdn.status, msisdn.reservation_ref) == (S.RESERVED, "ORD-42")
    assert (
        before + timedelta(minutes=20)
        <= msisdn.reserved_until
        <= timezone.now() + timedelta(minutes=20)
    )
    assert reserved.pk == msisdn.pk
    assert InventoryEvent.objects.get(msisdn=msisdn).reason == "Reserved for ORD-42"


def test_reserving_next_available_takes_the_lowest_number_of_the_category(db, actor):
    # given
    MsisdnFactory(number="+447500900001", category=Msisdn.Category.GOLDEN, status=S.ASSIGNED)
    MsisdnFactory(number="+447500900005", category=Msisdn.Category.GOLDEN)
    MsisdnFactory(number="+447500900003", category=Msisdn.Category.GOLDEN)
    MsisdnFactory(number="+447500900002", category=Msisdn.Category.STANDARD)
    # when
    first = msisdn_reserve(category="golden", ref="ORD-1", actor=actor)
    second = msisdn_reserve(category="golden", ref="ORD-2", actor=actor)
    # then
    assert (first.number, second.number) == ("+447500900003", "+447500900005")
    with pytest.raises(ApplicationError) as exc:
        msisdn_reserve(category="golden", ref="ORD-3", actor=actor)
    assert exc.value.code == "out_of_stock"
    assert exc.value.fields == {"category": ["No golden number is available."]}


def test_reserving_again_with_the_same_reference_extends_the_hold(db, actor):
    # given
    msisdn = MsisdnFactory()
    msisdn_reserve(msisdn=msisdn, ref="ORD-1", actor=actor, minutes=5)
    # when
    msisdn_reserve(msisdn=msisdn, ref="ORD-1", actor=actor, minutes=60)
    # then
    msisdn.refresh_from_db()
    assert msisdn.reserved_until > timezone.now() + timedelta(minutes=55)
    assert InventoryEvent.objects.filter(msisdn=msisdn).count() == 1


def test_a_number_reserved_for_one_sale_cannot_be_reserved_or_assigned_by_another(db, actor):
    # given
    msisdn = MsisdnFactory()
    msisdn_reserve(msisdn=msisdn, ref="ORD-1", actor=actor)
    # when
    with pytest.raises(InvalidTransition):
        msisdn_reserve(msisdn=msisdn, ref="ORD-2", actor=actor)
    with pytest.raises(ApplicationError) as assign_error:
        msisdn_assign(msisdn=msisdn, ref="ORD-2", actor=actor)
    with pytest.raises(ApplicationError) as release_error:
        msisdn_release(msisdn=msisdn, ref="ORD-2", actor=actor, reason="Not mine")
    # then
    assert assign_error.value.code == release_error.value.code == "reserved_elsewhere"
    msisdn.refresh_from_db()
    assert (msisdn.status, msisdn.reservation_ref) == (S.RESERVED, "ORD-1")


def test_assigning_the_sales_own_reservation_clears_it(db, actor):
    # given
    msisdn = MsisdnFactory()
    msisdn_reserve(msisdn=msisdn, ref="ORD-1", actor=actor)
    # when
    msisdn_assign(msisdn=msisdn.number, ref="ORD-1", actor=actor)
    # then
    msisdn.refresh_from_db()
    assert (msisdn.status, msisdn.reserved_until, msisdn.reservation_ref) == (S.ASSIGNED, None, "")
    assert InventoryEvent.objects.filter(msisdn=msisdn).first().reason == "Assigned by ORD-1"


def test_quarantine_lasts_the_configured_number_of_days(db, actor, settings):
    # given
    settings.MSISDN_QUARANTINE_DAYS = 30
    msisdn = MsisdnFactory(status=S.ASSIGNED)
    # when
    msisdn_quarantine(msisdn=msisdn, actor=actor, reason="Line terminated")
    # then
    msisdn.refresh_from_db()
    remaining = msisdn.quarantined_until - timezone.now()
    assert timedelta(days=29, hours=23) < remaining <= timedelta(days=30)


def test_ending_a_quarantine_early_needs_a_reason(db, actor):
    # given
    msisdn = _in_status(S.QUARANTINED)
    # when
    with pytest.raises(ApplicationError) as exc:
        msisdn_quarantine_end(msisdn=msisdn, actor=actor, reason="  ")
    # then
    assert exc.value.fields == {"reason": ["A reason is required."]}
    msisdn.refresh_from_db()
    assert msisdn.status == S.QUARANTINED


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("07500 123", "'07500 123' is not a valid phone number."),
        ("+447500999999", "+44 7500 999999 is not in the number pool."),
    ],
)
def test_reserving_an_unknown_number_says_why(db, actor, number, message):
    # given
    MsisdnFactory(number="+447500900000")
    # when
    with pytest.raises(ApplicationError) as exc:
        msisdn_reserve(msisdn=number, ref="ORD-1", actor=actor)
    # then
    assert exc.value.fields == {"number": [message]}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ref": ""}, "ref"),
        ({"ref": "x" * 41}, "ref"),
        ({"ref": "ORD-1", "minutes": 0}, "minutes"),
        ({"ref": "ORD-1", "minutes": 31 * 24 * 60 + 1}, "minutes"),
    ],
)
def test_a_reservation_needs_a_reference_and_a_sensible_length(db, actor, kwargs, field):
    # given
    msisdn = MsisdnFactory()
    # when
    with pytest.raises(ApplicationError) as exc:
        msisdn_reserve(msisdn=msisdn, actor=actor, **kwargs)
    # then
    assert field in exc.value.fields
    msisdn.refresh_from_db()
    assert msisdn.status == S.AVAILABLE


def test_a_golden_number_carries_its_price(db, actor):
    # given
    MsisdnFactory(
        number="+447777777777", category=Msisdn.Category.GOLDEN, price_amount=Decimal("50.00")
    )
    # when
    reserved = msisdn_reserve(category="golden", ref="ORD-1", actor=actor)
    # then
    assert (reserved.price_amount, reserved.currency) == (Decimal("50.00"), "GBP")


def test_a_suspended_partner_sells_no_number_from_its_shelf(db, actor):
    # given: a number on the shelf, then the partner suspended behind the back of the one in hand
    shop = PartnerFactory(name="Corner Shop")
    number = MsisdnFactory(status=S.ALLOCATED, partner=shop)
    type(shop).objects.filter(pk=shop.pk).update(status="suspended")
    # when / then
    for sell in (
        lambda: msisdn_reserve(ref="ORD-1", actor=actor, category="standard", partner=shop),
        lambda: msisdn_reserve(ref="ORD-1", actor=actor, msisdn=number, partner=shop),
        lambda: msisdn_assign(msisdn=number, ref="ORD-1", actor=actor, partner=shop),
    ):
        with pytest.raises(ApplicationError) as exc:
            sell()
        assert exc.value.code == "partner_inactive"
    number.refresh_from_db()
    assert number.status == S.ALLOCATED
