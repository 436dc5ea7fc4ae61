"""What is on sale, to whom, and which add-ons a line may buy."""

from __future__ import annotations

from datetime import date

import pytest
from django.http import Http404

from crm.tests.factories import AccountFactory, SubscriberFactory
from orders.catalog.selectors import (
    addons_eligible_for,
    addons_on_sale,
    plan_families,
    plan_get_for,
    plan_versions,
    plans_on_sale,
)
from orders.inventory.selectors import devices_on_sale
from orders.tests.factories import (
    AddOnFactory,
    DeviceFactory,
    DeviceItemFactory,
    PricePlanFactory,
)

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 15)


def codes(queryset) -> list[str]:
    return sorted(item.code for item in queryset)


# --- plans --------------------------------------------------------------------------------------


def test_plans_on_sale_are_published_and_within_their_window():
    # given
    PricePlanFactory(code="on-sale")
    PricePlanFactory(code="open-window", valid_from=date(2026, 3, 15), valid_to=date(2026, 3, 15))
    PricePlanFactory(code="draft", status="draft")
    PricePlanFactory(code="retired", status="retired")
    PricePlanFactory(code="not-yet", valid_from=date(2026, 3, 16))
    PricePlanFactory(code="ended", valid_to=date(2026, 3, 14))
    # when
    on_sale = plans_on_sale(on=MARCH)
    # then
    assert codes(on_sale) == ["on-sale", "open-window"]


def test_plans_on_sale_filter_by_channel_customer_kind_and_payment_type():
    # given
    PricePlanFactory(code="anyone")
    PricePlanFactory(code="business-only", eligible_customer_kinds=["business"])
    PricePlanFactory(code="shops-only", eligible_channels=["console", "partner"])
    PricePlanFactory(code="prepaid", payment_type="prepaid", eligible_channels=["selfcare"])
    # when
    selfcare_individual = plans_on_sale(on=MARCH, channel="selfcare", customer_kind="individual")
    partner_business = plans_on_sale(on=MARCH, channel="partner", customer_kind="business")
    prepaid = plans_on_sale(on=MARCH, payment_type="prepaid")
    # then
    assert codes(selfcare_individual) == ["anyone", "prepaid"]
    assert codes(partner_business) == ["anyone", "business-only", "shops-only"]
    assert codes(prepaid) == ["prepaid"]


def test_plan_get_for_hides_drafts_from_those_who_do_not_manage_the_catalog(subscriber, admin):
    # given
    draft = PricePlanFactory(status="draft")
    retired = PricePlanFactory(status="retired")
    # when
    with pytest.raises(Http404):
        plan_get_for(subscriber, draft.public_id)
    # then
    assert plan_get_for(subscriber, retired.public_id) == retired
    assert plan_get_for(admin, draft.public_id) == draft


def test_plan_versions_and_families_group_versions_by_code():
    # given
    PricePlanFactory(code="sim-only", version=1, status="retired", name="SIM only")
    PricePlanFactory(code="sim-only", version=2, status="published", name="SIM only")
    PricePlanFactory(code="sim-only", version=3, status="draft", name="SIM only")
    PricePlanFactory(code="payg", payment_type="prepaid", name="Pay as you go")
    # when
    families = plan_families()
    # then
    assert [v.version for v in plan_versions("sim-only")] == [3, 2, 1]
    assert [(f.code, [v.version for v in f.versions]) for f in families] == [
        ("payg", [1]),
        ("sim-only", [3, 2, 1]),
    ]
    sim_only = families[1]
    assert (sim_only.published.version, sim_only.draft.version) == (2, 3)


# --- add-ons ------------------------------------------------------------------------------------


def test_addons_on_sale_for_a_plan_code():
    # given
    AddOnFactory(code="any-plan")
    AddOnFactory(code="only-max", plan_codes=["unlimited-max"])
    AddOnFactory(code="retired", status="retired")
    # when / then
    assert codes(addons_on_sale()) == ["any-plan", "only-max"]
    assert codes(addons_on_sale(plan_code="sim-only")) == ["any-plan"]


@pytest.fixture
def roaming_line():
    plan = PricePlanFactory(code="sim-only-30gb")
    return SubscriberFactory(plan=plan, account=AccountFactory(currency="GBP"))


def test_addons_eligible_for_a_line_follow_its_plan_code_and_currency(roaming_line):
    # given
    AddOnFactory(code="any-plan")
    AddOnFactory(code="on-its-plan", plan_codes=["sim-only-30gb", "unlimited-max"])
    AddOnFactory(code="other-plan", plan_codes=["unlimited-max"])
    AddOnFactory(code="in-euros", currency="EUR")
    AddOnFactory(code="retired", status="retired")
    # when
    eligible = addons_eligible_for(roaming_line)
    # then
    assert codes(eligible) == ["any-plan", "on-its-plan"]


def test_addons_eligible_for_a_line_leave_out_conflicts_with_held_add_ons(roaming_line):
    # given
    small = AddOnFactory(code="eu-1gb", kind="roaming_pack", zone="EU")
    AddOnFactory(code="eu-5gb", kind="roaming_pack", zone="EU", conflicts=[small])
    AddOnFactory(code="usa-2gb", kind="roaming_pack", zone="US")
    AddOnFactory(code="boost", stackable=True)
    # when
    holding_small = addons_eligible_for(roaming_line, held_codes=["eu-1gb", "boost"])
    holding_nothing = addons_eligible_for(roaming_line)
    # then
    assert codes(holding_small) == ["boost", "usa-2gb"]
    assert codes(holding_nothing) == ["boost", "eu-1gb", "eu-5gb", "usa-2gb"]


def test_addons_eligible_for_a_line_without_plan_or_terminated(roaming_line):
    # given
    AddOnFactory(code="any-plan")
    AddOnFactory(code="on-a-plan", plan_codes=["sim-only-30gb"])
    no_plan = SubscriberFactory(plan=None)
    roaming_line.status = "terminated"
    # when / then
    assert codes(addons_eligible_for(no_plan)) == ["any-plan"]
    assert codes(addons_eligible_for(roaming_line)) == []


# --- devices ------------------------------------------------------------------------------------


def test_devices_on_sale_count_units_in_stock():
    # given
    router = DeviceFactory(sku="RTR-5G")
    DeviceItemFactory.create_batch(3, device=router)
    DeviceItemFactory(device=router, status="sold")
    DeviceFactory(sku="HS-A5")
    DeviceFactory(sku="OLD", status="retired")
    # when
    devices = {d.sku: d.in_stock for d in devices_on_sale()}
    # then
    assert devices == {"RTR-5G": 3, "HS-A5": 0}
