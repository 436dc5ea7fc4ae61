"""Every catalog change leaves one audit row with who made it and exactly what changed
(before and after), in the same transaction; a refused change leaves none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from common.audit import audit_events_for
from common.errors import ApplicationError
from common.models import AuditEvent
from orders.catalog.models import Allowance, PricePlan
from orders.catalog.services import (
    AllowanceData,
    TierData,
    addon_allowances_set,
    addon_create,
    addon_retire,
    addon_update,
    device_create,
    device_retire,
    device_update,
    plan_allowances_set,
    plan_create,
    plan_new_version,
    plan_publish,
    plan_retire,
    plan_tiers_set,
    plan_update,
)
from orders.tests.factories import (
    AddOnFactory,
    AllowanceFactory,
    ChargingTierFactory,
    DeviceFactory,
    PricePlanFactory,
)

pytestmark = pytest.mark.django_db


def trail(instance) -> list[tuple[str, object, dict, str]]:
    return [(e.action, e.actor, e.changes, e.reason) for e in audit_events_for(instance)]


# --- plans --------------------------------------------------------------------------------------


def test_plan_create_records_what_the_plan_was_created_with(admin, plan_terms):
    # when
    plan = plan_create(
        actor=admin, **plan_terms, eligible_channels=["partner"], valid_from=date(2026, 1, 1)
    )
    # then
    assert trail(plan) == [
        (
            "created",
            admin,
            {
                "code": [None, "sim-only-30gb"],
                "version": [None, 1],
                "name": [None, "SIM only 30GB"],
                "payment_type": [None, "postpaid"],
                "currency": [None, "GBP"],
                "recurring_fee_amount": [None, "18"],
                "recurring_period": [None, "month"],
                "activation_fee_amount": [None, "0"],
                "proration": [None, "daily"],
                "eligible_channels": [None, ["partner"]],
                "valid_from": [None, "2026-01-01"],
                "status": [None, "draft"],
            },
            "",
        )
    ]


def test_plan_update_records_only_the_fields_that_changed(admin, draft_plan):
    # when
    plan_update(
        plan=draft_plan,
        actor=admin,
        name=draft_plan.name,
        recurring_fee_amount="20.50",
        valid_to=date(2026, 12, 31),
    )
    # then
    assert trail(draft_plan) == [
        (
            "updated",
            admin,
            {"recurring_fee_amount": ["18", "20.5"], "valid_to": [None, "2026-12-31"]},
            "",
        )
    ]


def test_plan_update_that_changes_nothing_records_nothing(admin, draft_plan):
    # when
    plan_update(plan=draft_plan, actor=admin, recurring_fee_amount="18.0000")
    # then
    assert not AuditEvent.objects.exists()


def test_plan_new_version_records_the_new_draft_and_the_version_it_was_made_from(
    admin, published_plan
):
    # when
    draft = plan_new_version(plan=published_plan, actor=admin)
    # then
    assert trail(draft) == [("new version", admin, {"version": [1, 2]}, "")]
    assert trail(published_plan) == []


def test_plan_publish_records_the_publication_and_the_version_it_retires(admin, published_plan):
    # given
    draft = PricePlanFactory(code=published_plan.code, version=2, status="draft")
    # when
    plan_publish(plan=draft, actor=admin)
    # then
    assert trail(draft) == [("published", admin, {"status": ["draft", "published"]}, "")]
    assert trail(published_plan) == [
        ("retired", admin, {"status": ["published", "retired"]}, "Replaced by version 2.")
    ]


def test_plan_retire_records_the_status_change(admin, published_plan):
    # when
    plan_retire(plan=published_plan, actor=admin)
    # then
    assert trail(published_plan) == [("retired", admin, {"status": ["published", "retired"]}, "")]


def test_plan_allowances_set_records_the_allowances_before_and_after(admin, draft_plan):
    # given
    AllowanceFactory(plan=draft_plan, service="data", quantity=Decimal("30720.00"))
    # when
    plan_allowances_set(
        plan=draft_plan,
        actor=admin,
        allowances=[
            AllowanceData("voice", "500", "on_net"),
            AllowanceData("data", "1024", "zone", "eu"),
        ],
    )
    # then
    assert trail(draft_plan) == [
        (
            "updated",
            admin,
            {"allowances": [["data 30720 all"], ["data 1024 zone EU", "voice 500 on_net"]]},
            "",
        )
    ]


def test_plan_allowances_set_to_the_same_allowances_records_nothing(admin, draft_plan):
    # given
    AllowanceFactory(plan=draft_plan, service="data", quantity=Decimal("30720.00"))
    # when
    plan_allowances_set(plan=draft_plan, actor=admin, allowances=[AllowanceData("data", "30720")])
    # then
    assert not AuditEvent.objects.exists()


def test_plan_tiers_set_records_the_tiers_before_and_after(admin, draft_plan):
    # given
    ChargingTierFactory(plan=draft_plan, service="sms", unit_price_amount=Decimal("0.10"))
    # when
    plan_tiers_set(
        plan=draft_plan,
        actor=admin,
        tiers=[TierData("sms", "0", "100", "0.10"), TierData("sms", "100", None, "0.05")],
    )
    # then
    assert trail(draft_plan) == [
        (
            "updated",
            admin,
            {"tiers": [["sms 0+ at 0.1"], ["sms 0-100 at 0.1", "sms 100+ at 0.05"]]},
            "",
        )
    ]


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (plan_create, {"code": "", "name": "", "payment_type": "x", "recurring_fee_amount": ""}),
        (plan_update, {"plan": "published", "name": "New name"}),
        (plan_update, {"plan": "draft", "recurring_fee_amount": "-1"}),
        (plan_new_version, {"plan": "draft"}),
        (plan_publish, {"plan": "retired"}),
        (plan_retire, {"plan": "retired"}),
        (plan_allowances_set, {"plan": "draft", "allowances": [AllowanceData("data", "0")]}),
        (plan_allowances_set, {"plan": "published", "allowances": []}),
        (plan_tiers_set, {"plan": "draft", "tiers": [TierData("sms", "5", None, "0.1")]}),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_refused_plan_change_records_nothing(admin, call, kwargs):
    # given
    plans = {
        status: PricePlanFactory(code=f"plan-{status}", status=status)
        for status in ("draft", "published", "retired")
    }
    if "plan" in kwargs:
        kwargs = {**kwargs, "plan": plans[kwargs["plan"]]}
    AllowanceFactory(plan=plans["draft"])
    # when
    with pytest.raises(ApplicationError):
        call(actor=admin, **kwargs)
    # then
    assert not AuditEvent.objects.exists()
    assert Allowance.objects.count() == 1
    assert list(PricePlan.objects.order_by("code").values_list("status", flat=True)) == [
        "draft",
        "published",
        "retired",
    ]


# --- add-ons ------------------------------------------------------------------------------------


def test_addon_create_records_the_addon_and_the_other_side_of_each_conflict(admin):
    # given
    small = AddOnFactory(code="eu-roam-1gb", kind="roaming_pack", zone="EU")
    # when
    big = addon_create(
        actor=admin,
        code="eu-roam-5gb",
        name="EU Roaming 5GB",
        kind="roaming_pack",
        price_amount="12.00",
        currency="GBP",
        validity_days=30,
        zone="eu",
        conflicts_with=["eu-roam-1gb"],
    )
    # then
    assert trail(big) == [
        (
            "created",
            admin,
            {
                "code": [None, "eu-roam-5gb"],
                "name": [None, "EU Roaming 5GB"],
                "kind": [None, "roaming_pack"],
                "price_amount": [None, "12"],
                "currency": [None, "GBP"],
                "validity_days": [None, 30],
                "stackable": [None, False],
                "zone": [None, "EU"],
                "conflicts_with": [None, ["eu-roam-1gb"]],
                "status": [None, "active"],
            },
            "",
        )
    ]
    assert trail(small) == [
        (
            "updated",
            admin,
            {"conflicts_with": [[], ["eu-roam-5gb"]]},
            "Conflicts are mutual: changed with eu-roam-5gb.",
        )
    ]


def test_addon_update_records_the_changes_and_each_conflict_gained_or_lost(admin):
    # given
    old = AddOnFactory(code="old-pack")
    new = AddOnFactory(code="new-pack")
    addon = AddOnFactory(code="boost-1gb", price_amount=Decimal("5.00"), conflicts=[old])
    # when
    addon_update(addon=addon, actor=admin, price_amount="6.50", conflicts_with=["new-pack"])
    # then
    assert trail(addon) == [
        (
            "updated",
            admin,
            {"price_amount": ["5", "6.5"], "conflicts_with": [["old-pack"], ["new-pack"]]},
            "",
        )
    ]
    reason = "Conflicts are mutual: changed with boost-1gb."
    assert trail(old) == [("updated", admin, {"conflicts_with": [["boost-1gb"], []]}, reason)]
    assert trail(new) == [("updated", admin, {"conflicts_with": [[], ["boost-1gb"]]}, reason)]


def test_addon_allowances_set_records_the_allowances_before_and_after(admin):
    # given
    addon = AddOnFactory()
    # when
    addon_allowances_set(addon=addon, actor=admin, allowances=[AllowanceData("data", "1024.00")])
    # then
    assert trail(addon) == [("updated", admin, {"allowances": [[], ["data 1024 all"]]}, "")]


def test_addon_retire_records_the_status_change(admin):
    # given
    addon = AddOnFactory()
    # when
    addon_retire(addon=addon, actor=admin)
    # then
    assert trail(addon) == [("retired", admin, {"status": ["active", "retired"]}, "")]


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (
            addon_create,
            {"code": "x", "name": "", "kind": "x", "price_amount": "", "validity_days": 0},
        ),
        (addon_update, {"addon": "active", "validity_days": 999}),
        (addon_update, {"addon": "retired", "name": "New name"}),
        (addon_allowances_set, {"addon": "active", "allowances": [AllowanceData("x", "1")]}),
        (addon_allowances_set, {"addon": "retired", "allowances": []}),
        (addon_retire, {"addon": "retired"}),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_refused_addon_change_records_nothing(admin, call, kwargs):
    # given
    addons = {status: AddOnFactory(status=status) for status in ("active", "retired")}
    if "addon" in kwargs:
        kwargs = {**kwargs, "addon": addons[kwargs["addon"]]}
    # when
    with pytest.raises(ApplicationError):
        call(actor=admin, **kwargs)
    # then
    assert not AuditEvent.objects.exists()


# --- devices ------------------------------------------------------------------------------------


def test_device_create_records_what_the_device_was_created_with(admin, published_plan):
    # when
    device = device_create(
        actor=admin,
        sku="rtr-5g-200",
        name="HomeHub 5G router",
        kind="router",
        price_amount="149",
        currency="GBP",
        included_with_plan_codes=[published_plan.code],
    )
    # then
    assert trail(device) == [
        (
            "created",
            admin,
            {
                "sku": [None, "RTR-5G-200"],
                "name": [None, "HomeHub 5G router"],
                "kind": [None, "router"],
                "price_amount": [None, "149"],
                "currency": [None, "GBP"],
                "included_with_plan_codes": [None, ["sim-only-30gb"]],
                "status": [None, "active"],
            },
            "",
        )
    ]


def test_device_update_records_only_the_fields_that_changed(admin):
    # given
    device = DeviceFactory(name="HomeHub 4G", price_amount=Decimal("49.00"))
    # when
    device_update(device=device, actor=admin, name="HomeHub 4G", price_amount="39.99")
    # then
    assert trail(device) == [("updated", admin, {"price_amount": ["49", "39.99"]}, "")]


def test_device_retire_records_the_status_change(admin):
    # given
    device = DeviceFactory()
    # when
    device_retire(device=device, actor=admin)
    # then
    assert trail(device) == [("retired", admin, {"status": ["active", "retired"]}, "")]


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (device_create, {"sku": "", "name": "", "kind": "x", "price_amount": "-1"}),
        (device_update, {"device": "active", "price_amount": "-1"}),
        (device_update, {"device": "retired", "name": "New name"}),
        (device_retire, {"device": "retired"}),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_refused_device_change_records_nothing(admin, call, kwargs):
    # given
    devices = {status: DeviceFactory(status=status) for status in ("active", "retired")}
    if "device" in kwargs:
        kwargs = {**kwargs, "device": devices[kwargs["device"]]}
    # when
    with pytest.raises(ApplicationError):
        call(actor=admin, **kwargs)
    # then
    assert not AuditEvent.objects.exists()


def test_a_change_whose_audit_cannot_be_written_is_not_made(admin, draft_plan):
    # given: no one to record the change against
    # when
    with pytest.raises(ValueError, match="needs the user"):
        plan_update(plan=draft_plan, actor=None, name="Renamed")
    # then: the change and its audit row commit together or not at all
    draft_plan.refresh_from_db()
    assert draft_plan.name == "SIM only 30GB"
    assert not AuditEvent.objects.exists()
