"""Importing a range of numbers: validated, bounded, duplicates skipped, written set-based."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.errors import ApplicationError
from common.money import Money
from crm.tests.factories import SubscriberFactory
from orders.inventory.models import InventoryEvent, Msisdn
from orders.inventory.services import msisdn_range_import
from orders.tests.inventory_factories import MsisdnFactory


def test_a_range_joins_the_pool_as_available_numbers(db, actor):
    # when
    result = msisdn_range_import(
        first="07500 000000", last="+447500000099", category="standard", actor=actor
    )
    # then
    assert (result.requested, result.created, result.in_use, result.skipped) == (100, 100, 0, 0)
    numbers = list(Msisdn.objects.order_by("number").values_list("number", flat=True))
    assert (numbers[0], numbers[-1]) == ("+447500000000", "+447500000099")
    assert len(numbers) == 100
    assert set(Msisdn.objects.values_list("status", "category", "price_amount", "currency")) == {
        ("available", "standard", Decimal("0"), "GBP")
    }
    events = InventoryEvent.objects.filter(msisdn__isnull=False)
    assert events.count() == 100
    assert set(events.values_list("old_status", "new_status", "actor", "reason")) == {
        ("", "available", actor.pk, "Imported")
    }


def test_numbers_already_in_the_pool_are_skipped_and_counted(db, actor):
    # given
    reserved = MsisdnFactory(number="+447500000005", status="reserved", reservation_ref="ORD-1")
    msisdn_range_import(
        first="+447500000000", last="+447500000003", category="standard", actor=actor
    )
    # when
    result = msisdn_range_import(
        first="+447500000000", last="+447500000009", category="standard", actor=actor
    )
    # then
    assert (result.requested, result.created, result.skipped) == (10, 5, 5)
    assert Msisdn.objects.count() == 10
    reserved.refresh_from_db()
    assert reserved.status == "reserved"


def test_numbers_live_lines_already_have_join_as_assigned(db, actor):
    # given
    SubscriberFactory(msisdn="+447500000002", status="active")
    SubscriberFactory(msisdn="+447500000003", status="terminated")
    # when
    result = msisdn_range_import(
        first="+447500000000", last="+447500000004", category="standard", actor=actor
    )
    # then
    assert (result.created, result.in_use) == (4, 1)
    assert Msisdn.objects.get(number="+447500000002").status == "assigned"
    assert Msisdn.objects.get(number="+447500000003").status == "available"


def test_golden_numbers_carry_their_price(db, actor):
    # when
    msisdn_range_import(
        first="+447777777777",
        last="+447777777777",
        category="golden",
        price=Money(Decimal("50.00"), "GBP"),
        actor=actor,
    )
    # then
    golden = Msisdn.objects.get()
    assert (golden.category, golden.price_amount, golden.currency) == (
        "golden",
        Decimal("50.00"),
        "GBP",
    )


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        (
            {"first": "07500 00000", "last": "+447500000009"},
            {"first": ["'07500 00000' is not a valid phone number."]},
        ),
        (
            {"first": "+33612345678", "last": "+33612345679"},
            {
                "first": ["'+33612345678' is a number of FR, not of the operator's country (GB)."],
                "last": ["'+33612345679' is a number of FR, not of the operator's country (GB)."],
            },
        ),
        (
            {"first": "+442079460000", "last": "+442079460009"},
            {
                "first": ["'+442079460000' is not a mobile number."],
                "last": ["'+442079460009' is not a mobile number."],
            },
        ),
        (
            {"first": "+447500000009", "last": "+447500000000"},
            {"last": ["The last number comes before the first."]},
        ),
        (
            {"first": "+447500000000", "last": "+447500100000"},
            {"last": ["A range holds at most 100,000 numbers; this one has 100,001."]},
        ),
        (
            {"first": "+447500000000", "last": "+447500000001", "category": "platinum"},
            {"category": ["'platinum' is not a number category."]},
        ),
        (
            {"first": "+447500000000", "last": "+447500000001", "category": "golden"},
            {"price": ["A golden number carries a price: give one."]},
        ),
        (
            {
                "first": "+447500000000",
                "last": "+447500000001",
                "price": Money(Decimal("-1"), "GBP"),
            },
            {"price": ["A price cannot be negative."]},
        ),
        (
            {
                "first": "+447500000000",
                "last": "+447500000001",
                "price": Money(Decimal("1"), "JPY"),
            },
            {"currency": ["JPY is not a currency the operator sells in."]},
        ),
    ],
)
def test_a_bad_range_is_refused_with_the_reason(db, actor, kwargs, fields):
    # given
    kwargs = {"category": "standard", **kwargs}
    # when
    with pytest.raises(ApplicationError) as exc:
        msisdn_range_import(actor=actor, **kwargs)
    # then
    assert exc.value.fields == fields
    assert Msisdn.objects.count() == 0


def test_a_range_that_strays_outside_mobile_numbers_is_refused_whole(db, actor, settings):
    # given: 07457 5… and 07457 7… are mobile numbers, 07457 6… are not
    settings.MSISDN_RANGE_MAX = 200_000
    first, last = "+447457599999", "+447457700000"
    # when
    with pytest.raises(ApplicationError) as exc:
        msisdn_range_import(first=first, last=last, category="standard", actor=actor)
    # then
    assert exc.value.code == "invalid_range"
    assert exc.value.fields == {
        "range": [
            "100,000 numbers in this range are not a mobile number of GB: +44 7457 600000, "
            "+44 7457 600001, +44 7457 600002, +44 7457 600003, +44 7457 600004 and 99,995 more. "
            "Split the range."
        ]
    }
    assert Msisdn.objects.count() == 0


def test_the_largest_range_imports_in_one_go(db, actor):
    # when
    result = msisdn_range_import(
        first="+447500000000", last="+447500099999", category="standard", actor=actor
    )
    # then
    assert result.created == 100_000
    assert Msisdn.objects.count() == InventoryEvent.objects.count() == 100_000
