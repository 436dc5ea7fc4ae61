"""Price plans: create, edit drafts, versions, publish and retire."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from common.errors import ApplicationError, InvalidTransition
from crm.tests.factories import SubscriberFactory
from orders.catalog.models import Allowance, ChargingTier, PricePlan
from orders.catalog.services import (
    AllowanceData,
    TierData,
    plan_allowances_set,
    plan_create,
    plan_new_version,
    plan_publish,
    plan_retire,
    plan_tiers_set,
    plan_update,
)
from orders.tests.factories import AllowanceFactory, ChargingTierFactory, PricePlanFactory

pytestmark = pytest.mark.django_db


def refused(call, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ApplicationError) as caught:
        call(**kwargs)
    return caught.value.fields


# --- create -------------------------------------------------------------------------------------


def test_plan_create_starts_a_draft_version_1(admin, plan_terms):
    # when
    plan = plan_create(
        actor=admin,
        **plan_terms,
        activation_fee_amount="10",
        eligible_customer_kinds=["business", "individual"],
        eligible_channels=["partner", "console"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
    )
    # then
    plan.refresh_from_db()
    assert (plan.code, plan.version, plan.status) == ("sim-only-30gb", 1, "draft")
    assert plan.recurring_fee_amount == Decimal("18.00")
    assert plan.activation_fee_amount == Decimal("10.00")
    assert plan.eligible_customer_kinds == ["individual", "business"]
    assert plan.eligible_channels == ["console", "partner"]
    assert plan.published_at is None


@pytest.mark.parametrize("fee", [None, "", "   "])
def test_plan_create_refuses_a_plan_with_no_price(admin, plan_terms, fee):
    # given
    plan_terms["recurring_fee_amount"] = fee
    # when
    fields = refused(plan_create, actor=admin, **plan_terms)
    # then
    assert fields == {
        "recurring_fee_amount": [
            "A plan needs a price: give its recurring fee (0 for a plan with no fee)."
        ]
    }
    assert not PricePlan.objects.exists()


def test_plan_create_accepts_a_zero_fee_given_explicitly(admin, plan_terms):
    # given
    plan_terms["recurring_fee_amount"] = "0"
    # when
    plan = plan_create(actor=admin, **plan_terms)
    # then
    assert plan.recurring_fee_amount == Decimal("0")


def test_plan_create_refuses_a_currency_the_operator_does_not_sell_in(admin, plan_terms):
    # given
    plan_terms["currency"] = "jpy"
    # when
    fields = refused(plan_create, actor=admin, **plan_terms)
    # then
    assert fields == {
        "currency": ["JPY is not a currency the operator sells in; use one of GBP, EUR, USD."]
    }


def test_plan_create_refuses_a_validity_that_ends_before_it_starts(admin, plan_terms):
    # when
    fields = refused(
        plan_create,
        actor=admin,
        **plan_terms,
        valid_from=date(2026, 3, 1),
        valid_to=date(2026, 2, 28),
    )
    # then
    assert fields == {
        "valid_to": [
            "The plan cannot stop being sold (28 Feb 2026) before it starts (01 Mar 2026)."
        ]
    }


def test_plan_create_refuses_a_validity_that_is_not_a_date(admin, plan_terms):
    # when
    fields = refused(plan_create, actor=admin, **plan_terms, valid_from="2026-02-30")
    # then
    assert fields == {
        "valid_from": ["'2026-02-30' is not a date; use YYYY-MM-DD, e.g. 2026-01-31."]
    }


def test_plan_create_refuses_eligibility_outside_customer_kinds_and_channels(admin, plan_terms):
    # when
    fields = refused(
        plan_create,
        actor=admin,
        **plan_terms,
        eligible_customer_kinds=["individual", "robot"],
        eligible_channels=["fax"],
    )
    # then
    assert fields == {
        "eligible_customer_kinds": ["Unknown: 'robot'; use any of individual, business."],
        "eligible_channels": ["Unknown: 'fax'; use any of console, partner, selfcare, api."],
    }


def test_plan_create_refuses_negative_and_malformed_amounts(admin, plan_terms):
    # given
    plan_terms["recurring_fee_amount"] = "-1"
    # when
    fields = refused(plan_create, actor=admin, **plan_terms, activation_fee_amount="1.23456")
    # then
    assert fields == {
        "recurring_fee_amount": ["The recurring fee cannot be negative."],
        "activation_fee_amount": ["The activation fee has more than 4 decimal places."],
    }


def test_plan_create_refuses_a_float(admin, plan_terms):
    # given
    plan_terms["recurring_fee_amount"] = 18.5
    # when
    fields = refused(plan_create, actor=admin, **plan_terms)
    # then
    assert fields == {
        "recurring_fee_amount": [
            "The recurring fee must be given as a decimal string, never a float."
        ]
    }


def test_plan_create_refuses_a_code_in_use_or_malformed(admin, plan_terms, published_plan):
    # when
    taken = refused(plan_create, actor=admin, **plan_terms)
    malformed = refused(plan_create, actor=admin, **{**plan_terms, "code": "SIM only!"})
    # then
    assert taken == {
        "code": ["A plan with the code 'sim-only-30gb' already exists; make a new version of it."]
    }
    assert malformed == {
        "code": ["Use lower-case letters, digits and single hyphens, e.g. sim-only-30gb."]
    }
    assert PricePlan.objects.count() == 1


def test_plan_create_names_every_field_at_fault_at_once(admin):
    # when
    fields = refused(
        plan_create,
        actor=admin,
        code="",
        name="",
        payment_type="weekly",
        recurring_fee_amount=None,
    )
    # then
    assert set(fields) == {"code", "name", "payment_type", "recurring_fee_amount"}
    assert fields["payment_type"] == [
        "'weekly' is not a payment type; use one of prepaid, postpaid."
    ]


# --- update -------------------------------------------------------------------------------------


def test_plan_update_changes_a_draft_in_place(admin, draft_plan):
    # when
    plan = plan_update(
        plan=draft_plan, actor=admin, name="SIM only 35GB", recurring_fee_amount="19.50"
    )
    # then
    plan.refresh_from_db()
    assert (plan.pk, plan.version, plan.status) == (draft_plan.pk, 1, "draft")
    assert (plan.name, plan.recurring_fee_amount) == ("SIM only 35GB", Decimal("19.50"))


def test_plan_update_refuses_a_published_version(admin, published_plan):
    # when
    with pytest.raises(InvalidTransition) as caught:
        plan_update(plan=published_plan, actor=admin, recurring_fee_amount="25")
    # then
    assert caught.value.message == (
        "Version 1 of SIM only 30GB is published; plans are edited only on a draft. "
        "Make a new version to change it."
    )
    published_plan.refresh_from_db()
    assert published_plan.recurring_fee_amount == Decimal("18.00")


def test_plan_update_checks_the_merged_plan(admin, draft_plan):
    # given
    plan_update(plan=draft_plan, actor=admin, valid_from=date(2026, 6, 1))
    # when
    fields = refused(plan_update, plan=draft_plan, actor=admin, valid_to=date(2026, 5, 1))
    # then
    assert list(fields) == ["valid_to"]
    draft_plan.refresh_from_db()
    assert draft_plan.valid_to is None


def test_plan_update_refuses_fields_that_are_not_editable(admin, draft_plan):
    # when
    with pytest.raises(ApplicationError) as caught:
        plan_update(plan=draft_plan, actor=admin, code="other", status="published")
    # then
    assert caught.value.message == "These fields cannot be changed: code, status."


# --- versions -----------------------------------------------------------------------------------


def test_plan_new_version_copies_the_published_plan_with_allowances_and_tiers(
    admin, published_plan
):
    # given
    AllowanceFactory(plan=published_plan, service="voice", quantity=Decimal("500"), scope="on_net")
    AllowanceFactory(
        plan=published_plan, service="data", quantity=Decimal("1024"), scope="zone", zone="EU"
    )
    ChargingTierFactory(plan=published_plan, to_quantity=Decimal("100"))
    ChargingTierFactory(
        plan=published_plan, from_quantity=Decimal("100"), unit_price_amount=Decimal("0.05")
    )
    # when
    draft = plan_new_version(plan=published_plan, actor=admin)
    # then
    assert (draft.code, draft.version, draft.status) == ("sim-only-30gb", 2, "draft")
    assert draft.public_id != published_plan.public_id
    assert draft.recurring_fee_amount == Decimal("18.00")
    assert sorted(draft.allowances.values_list("service", "quantity", "scope", "zone")) == [
        ("data", Decimal("1024.00"), "zone", "EU"),
        ("voice", Decimal("500.00"), "on_net", ""),
    ]
    assert list(draft.tiers.values_list("from_quantity", "to_quantity", "unit_price_amount")) == [
        (Decimal("0.00"), Decimal("100.00"), Decimal("0.10")),
        (Decimal("100.00"), None, Decimal("0.05")),
    ]
    published_plan.refresh_from_db()
    assert published_plan.status == "published"
    assert published_plan.allowances.count() == 2


def test_plan_new_version_refuses_while_a_draft_exists(admin, published_plan):
    # given
    plan_new_version(plan=published_plan, actor=admin)
    # when
    with pytest.raises(ApplicationError) as caught:
        plan_new_version(plan=published_plan, actor=admin)
    # then
    assert caught.value.message == (
        "Draft version 2 of SIM only 30GB already exists; edit it instead."
    )
    assert PricePlan.objects.filter(code="sim-only-30gb").count() == 2


@pytest.mark.parametrize("status", ["draft", "retired"])
def test_plan_new_version_copies_only_the_published_version(admin, status):
    # given
    plan = PricePlanFactory(status=status, name="Old plan")
    # when
    with pytest.raises(InvalidTransition) as caught:
        plan_new_version(plan=plan, actor=admin)
    # then
    assert caught.value.message == (
        f"Version 1 of Old plan is {status}; only the published version is copied into a new "
        "version."
    )
    assert PricePlan.objects.count() == 1


def test_publishing_v2_retires_v1_and_a_subscriber_on_v1_keeps_v1(admin, published_plan):
    # given
    line = SubscriberFactory(plan=published_plan)
    draft = plan_new_version(plan=published_plan, actor=admin)
    plan_update(plan=draft, actor=admin, recurring_fee_amount="20")
    # when
    with time_machine.travel("2026-03-01 09:00:00Z", tick=False):
        v2 = plan_publish(plan=draft, actor=admin)
    # then
    published_plan.refresh_from_db()
    v2.refresh_from_db()
    assert (published_plan.status, v2.status) == ("retired", "published")
    assert v2.published_by == admin
    assert v2.published_at.isoformat() == "2026-03-01T09:00:00+00:00"
    line.refresh_from_db()
    assert line.plan == published_plan
    assert line.plan.recurring_fee_amount == Decimal("18.00")
    assert PricePlan.objects.filter(code="sim-only-30gb", status="published").get() == v2


@pytest.mark.parametrize("status", ["published", "retired"])
def test_plan_publish_refuses_anything_but_a_draft(admin, status):
    # given
    plan = PricePlanFactory(status=status, name="Old plan")
    # when
    with pytest.raises(InvalidTransition) as caught:
        plan_publish(plan=plan, actor=admin)
    # then
    assert caught.value.message == f"Version 1 of Old plan is {status}; it cannot become published."
    plan.refresh_from_db()
    assert plan.status == status


def test_plan_publish_refuses_a_plan_whose_validity_has_ended(admin, draft_plan):
    # given
    plan_update(plan=draft_plan, actor=admin, valid_to=date(2026, 1, 31))
    # when
    with time_machine.travel("2026-02-01 12:00:00Z"):
        fields = refused(plan_publish, plan=draft_plan, actor=admin)
    # then
    assert fields == {
        "valid_to": [
            "The plan stopped being sold on 31 Jan 2026; it would never be on sale. "
            "Change the end date first."
        ]
    }
    draft_plan.refresh_from_db()
    assert draft_plan.status == "draft"


def test_plan_publish_refuses_a_draft_whose_currency_is_no_longer_sold(admin, draft_plan, settings):
    # given
    settings.CURRENCIES = ["EUR"]
    # when
    fields = refused(plan_publish, plan=draft_plan, actor=admin)
    # then
    assert fields == {"currency": ["GBP is not a currency the operator sells in; use one of EUR."]}


@pytest.mark.parametrize("status", ["draft", "published"])
def test_plan_retire_takes_a_version_off_sale(admin, status):
    # given
    plan = PricePlanFactory(status=status)
    # when
    plan_retire(plan=plan, actor=admin)
    # then
    plan.refresh_from_db()
    assert plan.status == "retired"


def test_plan_retire_refuses_a_retired_version(admin):
    # given
    plan = PricePlanFactory(status="retired", name="Old plan")
    # when
    with pytest.raises(InvalidTransition) as caught:
        plan_retire(plan=plan, actor=admin)
    # then
    assert caught.value.message == "Version 1 of Old plan is retired; it cannot become retired."


# --- allowances ---------------------------------------------------------------------------------


def test_plan_allowances_set_replaces_what_a_draft_includes(admin, draft_plan):
    # given
    AllowanceFactory(plan=draft_plan, service="sms", quantity=Decimal("100"))
    # when
    plan_allowances_set(
        plan=draft_plan,
        actor=admin,
        allowances=[
            AllowanceData("voice", "3000", "on_net"),
            AllowanceData("voice", "1500", "off_net"),
            AllowanceData("data", "5120", "zone", "eu"),
        ],
    )
    # then
    assert sorted(draft_plan.allowances.values_list("service", "quantity", "scope", "zone")) == [
        ("data", Decimal("5120.00"), "zone", "EU"),
        ("voice", Decimal("1500.00"), "off_net", ""),
        ("voice", Decimal("3000.00"), "on_net", ""),
    ]


def test_plan_allowances_set_refuses_bad_rows_and_keeps_the_old_ones(admin, draft_plan):
    # given
    AllowanceFactory(plan=draft_plan, service="sms", quantity=Decimal("100"))
    # when
    fields = refused(
        plan_allowances_set,
        plan=draft_plan,
        actor=admin,
        allowances=[
            AllowanceData("data", "0"),
            AllowanceData("voice", "-5"),
            AllowanceData("data", "10", "zone"),
            AllowanceData("sms", "10", "all", "EU"),
            AllowanceData("data", "10", "on_net"),
            AllowanceData("fax", "10"),
            AllowanceData("sms", None),
            AllowanceData("voice", "1.234", "off_net"),
        ],
    )
    # then
    assert fields == {
        "allowances.0.quantity": ["The quantity must be more than 0."],
        "allowances.1.quantity": ["The quantity cannot be negative."],
        "allowances.2.zone": ["Name the zone, e.g. EU or US."],
        "allowances.3.zone": ["A zone is given only with the zone scope."],
        "allowances.4.scope": ["On-net and off-net apply to voice and SMS, not data."],
        "allowances.5.service": ["'fax' is not a service; use one of voice, sms, data."],
        "allowances.6.quantity": ["Give the quantity included."],
        "allowances.7.quantity": ["The quantity has more than 2 decimal places."],
    }
    assert list(Allowance.objects.values_list("service", "quantity")) == [
        ("sms", Decimal("100.00"))
    ]


def test_plan_allowances_set_refuses_the_same_allowance_twice(admin, draft_plan):
    # when
    fields = refused(
        plan_allowances_set,
        plan=draft_plan,
        actor=admin,
        allowances=[AllowanceData("data", "1024"), AllowanceData("data", "2048")],
    )
    # then
    assert fields == {
        "allowances.1.service": [
            "Allowance 1 already includes Data (MB) (any destination); combine them into one."
        ]
    }


def test_plan_allowances_set_refuses_a_published_plan(admin, published_plan):
    # when
    with pytest.raises(InvalidTransition):
        plan_allowances_set(
            plan=published_plan, actor=admin, allowances=[AllowanceData("sms", "100")]
        )
    # then
    assert not Allowance.objects.exists()


# --- charging tiers -----------------------------------------------------------------------------


def test_plan_tiers_set_saves_contiguous_bands_per_service(admin, draft_plan):
    # when
    plan_tiers_set(
        plan=draft_plan,
        actor=admin,
        tiers=[
            TierData("sms", "100", None, "0.05"),
            TierData("sms", "0", "100", "0.10"),
            TierData("voice", "0", None, "0.15"),
        ],
    )
    # then
    assert list(
        ChargingTier.objects.values_list(
            "service", "from_quantity", "to_quantity", "unit_price_amount"
        )
    ) == [
        ("sms", Decimal("0.00"), Decimal("100.00"), Decimal("0.10")),
        ("sms", Decimal("100.00"), None, Decimal("0.05")),
        ("voice", Decimal("0.00"), None, Decimal("0.15")),
    ]


def test_plan_tiers_set_refuses_overlapping_tiers_naming_them(admin, draft_plan):
    # given
    ChargingTierFactory(plan=draft_plan)
    # when
    fields = refused(
        plan_tiers_set,
        plan=draft_plan,
        actor=admin,
        tiers=[
            TierData("sms", "0", "100", "0.10"),
            TierData("sms", "50", "200", "0.08"),
            TierData("sms", "200", None, "0.05"),
        ],
    )
    # then
    message = "SMS tiers 1 (0 to 100) and 2 (50 to 200) overlap."
    assert fields == {
        "tiers.0.to_quantity": [message],
        "tiers.1.from_quantity": [message],
        "tiers": [message],
    }
    assert list(ChargingTier.objects.values_list("from_quantity", "to_quantity")) == [
        (Decimal("0.00"), None)
    ]


def test_plan_tiers_set_refuses_a_tier_after_an_open_ended_one(admin, draft_plan):
    # when
    fields = refused(
        plan_tiers_set,
        plan=draft_plan,
        actor=admin,
        tiers=[TierData("data", "0", None, "0.01"), TierData("data", "1024", None, "0.005")],
    )
    # then
    assert fields["tiers"] == ["Data tiers 1 (0 to no limit) and 2 (1024 to no limit) overlap."]


def test_plan_tiers_set_refuses_a_gap_and_a_first_tier_above_zero(admin, draft_plan):
    # when
    fields = refused(
        plan_tiers_set,
        plan=draft_plan,
        actor=admin,
        tiers=[TierData("voice", "10", "100", "0.10"), TierData("voice", "150", None, "0.05")],
    )
    # then
    gap = "Voice tiers 1 (10 to 100) and 2 (150 to no limit) leave a gap: 100 to 150 has no price."
    assert fields == {
        "tiers.0.from_quantity": ["Voice tiers must start at 0; the first starts at 10."],
        "tiers.1.from_quantity": [gap],
        "tiers": [gap],
    }


def test_plan_tiers_set_refuses_bad_rows(admin, draft_plan):
    # when
    fields = refused(
        plan_tiers_set,
        plan=draft_plan,
        actor=admin,
        tiers=[
            TierData("sms", "0", "0", "0.10"),
            TierData("voice", "0", None, "-0.10"),
            TierData("data", None, None, None),
        ],
    )
    # then
    assert fields == {
        "tiers.0.to_quantity": ["The tier must end above where it starts (0)."],
        "tiers.1.unit_price_amount": ["The unit price cannot be negative."],
        "tiers.2.from_quantity": ["Give where the tier starts (0 for the first)."],
        "tiers.2.unit_price_amount": ["Give the price per unit (enter 0 for free units)."],
    }


def test_plan_tiers_set_refuses_a_published_plan(admin, published_plan):
    # when
    with pytest.raises(InvalidTransition):
        plan_tiers_set(plan=published_plan, actor=admin, tiers=[TierData("sms", "0", None, "0.10")])
    # then
    assert not ChargingTier.objects.exists()
