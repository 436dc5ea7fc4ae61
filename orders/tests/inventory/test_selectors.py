"""Reads of the pool and stock: pattern search, counts, histories and who sees what."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from orders.inventory.selectors import (
    inventory_counts,
    msisdn_available,
    msisdn_get_for,
    msisdn_history,
    msisdn_list,
    msisdn_pattern_clean,
    sim_batch_list,
    sim_history,
    sim_list,
    sim_qs_for,
)
from orders.inventory.services import msisdn_release, msisdn_reserve, sim_allocate
from orders.tests.inventory_factories import MsisdnFactory, SimBatchFactory, SimCardFactory


@pytest.fixture
def pool(db):
    return [
        MsisdnFactory(number="+447777000000", category="golden"),
        MsisdnFactory(number="+447500777123", category="silver"),
        MsisdnFactory(number="+447500000777", category="standard", status="assigned"),
        MsisdnFactory(number="+447500000001", category="standard"),
    ]


@pytest.mark.parametrize(
    ("raw", "numbers"),
    [
        ("777", ["+447500000777", "+447500777123", "+447777000000"]),
        ("07500", ["+447500000001", "+447500000777", "+447500777123"]),
        ("+44 7777", ["+447777000000"]),
        ("", ["+447500000001", "+447500000777", "+447500777123", "+447777000000"]),
    ],
)
def test_numbers_are_found_by_the_digits_they_contain_or_begin_with(admin, pool, raw, numbers):
    # when
    found = msisdn_list(admin, pattern=msisdn_pattern_clean(raw))
    # then
    assert [m.number for m in found] == numbers


def test_available_numbers_by_category_and_pattern(pool):
    # when
    golden = msisdn_available(category="golden")
    with_777 = msisdn_available(pattern="777")
    # then
    assert [m.number for m in golden] == ["+447777000000"]
    assert [m.number for m in with_777] == ["+447500777123", "+447777000000"]


@pytest.mark.parametrize("raw", ["7a7", "+", "07500-abc", "1234567890123456"])
def test_a_pattern_that_is_not_digits_is_refused(raw):
    # when / then
    with pytest.raises(ValueError, match="digits only"):
        msisdn_pattern_clean(raw)


def test_counts_list_every_status_with_zero_where_none(pool):
    # given
    SimCardFactory.create_batch(2)
    SimCardFactory(status="damaged")
    # when
    counts = inventory_counts()
    # then
    assert [(r.label, r.count) for r in counts.numbers_by_status.rows] == [
        ("Available", 3),
        ("Allocated to a partner", 0),
        ("Reserved", 0),
        ("Assigned", 1),
        ("Quarantined", 0),
    ]
    assert [(r.value, r.count) for r in counts.available_numbers_by_category.rows] == [
        ("standard", 1),
        ("silver", 1),
        ("golden", 1),
    ]
    assert {r.value: r.count for r in counts.sims_by_status.rows} == {
        "in_stock": 2,
        "allocated": 0,
        "reserved": 0,
        "assigned": 0,
        "blocked": 0,
        "damaged": 1,
    }
    assert counts.sims_by_status.total == 3


def test_a_numbers_history_is_newest_first_with_who_and_why(admin, pool):
    # given
    msisdn = pool[0]
    msisdn_reserve(msisdn=msisdn, ref="ORD-1", actor=admin)
    msisdn_release(msisdn=msisdn, actor=admin, reason="Customer changed their mind")
    # when
    history = list(msisdn_history(msisdn))
    # then
    assert [(e.old_status, e.new_status, e.reason, e.actor) for e in history] == [
        ("reserved", "available", "Customer changed their mind", admin),
        ("available", "reserved", "Reserved for ORD-1", admin),
    ]


def test_a_reseller_sees_only_the_sims_on_its_own_shelf(admin, reseller_a, partner_a, partner_b):
    # given
    mine, theirs = SimCardFactory(), SimCardFactory()
    SimCardFactory()  # central stock
    sim_allocate(partner=partner_a, actor=admin, sims=[mine])
    sim_allocate(partner=partner_b, actor=admin, sims=[theirs])
    # when
    seen_by_reseller = list(sim_qs_for(reseller_a))
    seen_by_admin = sim_list(admin)
    # then
    assert seen_by_reseller == [mine]
    assert seen_by_admin.count() == 3
    assert [e.new_status for e in sim_history(mine)] == ["allocated"]


@pytest.mark.parametrize("who", ["subscriber", "csr", "anonymous"])
def test_people_outside_the_back_office_see_no_stock(request, pool, who):
    # given
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    SimBatchFactory()
    # when / then
    assert list(msisdn_list(user)) == []
    assert list(sim_qs_for(user)) == []
    assert list(sim_batch_list(user)) == []
    with pytest.raises(Http404):
        msisdn_get_for(user, "+447777000000")


def test_a_number_is_found_however_it_is_typed(admin, pool):
    # when / then
    assert msisdn_get_for(admin, "07777 000000") == pool[0]
    assert msisdn_get_for(admin, "447777000000") == pool[0]
