"""The new-line form: what it offers, how it narrows numbers and extras, and its refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from orders.inventory.models import DeviceItem, Msisdn, SimCard
from orders.models import Order
from orders.tests.factories import AddOnFactory, PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory

from .conftest import APRIL_10, HTMX, new_line_data


def _url(account):
    return reverse("orders:order-new-connection", args=[account.public_id])


def _field_errors(response, name):
    return [str(message) for message in response.context["form"].errors.get(name, [])]


def test_form_offers_plans_on_sale_for_this_account_only(csr_client, account, plan_45):
    # given: plans the console may not sell to this postpaid individual
    PricePlanFactory(name="Prepaid 5GB", payment_type="prepaid")
    PricePlanFactory(name="Shop only", eligible_channels=["partner"])
    PricePlanFactory(name="Business 50GB", eligible_customer_kinds=["business"])
    PricePlanFactory(name="Old plan", status="retired")
    # when
    response = csr_client.get(_url(account))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Max 100GB" in html
    assert "£45.00" in html
    assert "100 GB data · 500 minutes" in html
    assert "Activation fee £10.00" in html
    for name in ("Prepaid 5GB", "Shop only", "Business 50GB", "Old plan"):
        assert name not in html


def test_number_picker_filters_by_category_and_pattern_as_you_type(
    csr_client, account, number, golden
):
    # given
    MsisdnFactory(number="+447500900777", status="reserved")
    # when: the CSR types 777 (an htmx request for the picker only)
    response = csr_client.get(_url(account), {"part": "numbers", "pattern": "777"}, headers=HTMX)
    # then: only available numbers containing 777, golden ones with their price
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="number-choices"' in html
    assert "+44 7500 977777" in html
    assert "Golden" in html
    assert "£50.00" in html
    assert "+44 7500 900001" not in html
    assert "+44 7500 900777" not in html
    # when: standard numbers only
    html = csr_client.get(
        _url(account), {"part": "numbers", "category": "standard"}, headers=HTMX
    ).content.decode()
    # then
    assert "+44 7500 900001" in html
    assert "+44 7500 977777" not in html


def test_number_picker_explains_a_pattern_it_cannot_search(csr_client, account, number):
    # when
    response = csr_client.get(_url(account), {"part": "numbers", "pattern": "77a"}, headers=HTMX)
    # then
    html = response.content.decode()
    assert "Use digits only" in html
    assert "+44 7500 900001" not in html


def test_picker_keeps_the_chosen_number_when_the_filter_leaves_it_out(
    csr_client, account, number, golden
):
    # when
    response = csr_client.get(
        _url(account),
        {"part": "numbers", "category": "golden", "msisdn": number.number},
        headers=HTMX,
    )
    # then
    html = response.content.decode()
    assert f'value="{number.number}" checked' in html
    assert "+44 7500 977777" in html


def test_choosing_a_plan_shows_its_add_ons_and_included_devices(
    csr_client, account, plan_30, plan_45, router, booster
):
    # given: an add-on only for the £30 plan
    AddOnFactory(name="Basic roaming", plan_codes=[plan_30.code])
    # when: the CSR picks Max 100GB
    response = csr_client.get(
        _url(account), {"part": "extras", "plan": str(plan_45.public_id)}, headers=HTMX
    )
    # then
    html = response.content.decode()
    assert "<html" not in html
    assert "5G router" in html
    assert "Included with the plan" in html
    assert "Data booster 5GB" in html
    assert "Basic roaming" not in html
    # when: the £30 plan, which does not include the router
    html = csr_client.get(
        _url(account), {"part": "extras", "plan": str(plan_30.public_id)}, headers=HTMX
    ).content.decode()
    # then
    assert "£49.00" in html
    assert "Included with the plan" not in html
    assert "Basic roaming" in html


def test_out_of_stock_devices_are_not_offered(csr_client, account, router):
    # given
    DeviceItem.objects.update(status="sold")
    # when
    html = csr_client.get(_url(account)).content.decode()
    # then
    assert "5G router" not in html
    assert "No device is on sale and in stock." in html


@time_machine.travel(APRIL_10)
def test_get_quote_drafts_the_order_and_shows_it(
    csr_client, csr, account, plan_45, golden, sim, router, booster
):
    # when
    response = csr_client.post(
        _url(account),
        new_line_data(
            plan_45,
            golden.number,
            sim.iccid,
            devices=[str(router.public_id)],
            addons=[str(booster.public_id)],
        ),
    )
    # then
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders:order-detail", args=[order.public_id])
    assert (order.type, order.status, order.channel, order.placed_by) == (
        "new_connection",
        "draft",
        "console",
        csr,
    )
    assert (order.account, order.plan, order.msisdn, order.sim) == (account, plan_45, golden, sim)
    assert Msisdn.objects.get(pk=golden.pk).status == "reserved"
    assert DeviceItem.objects.get(serial="R-0001").status == "reserved"
    assert list(order.lines.values_list("kind", flat=True)) == [
        "number",
        "sim",
        "plan",
        "activation_fee",
        "proration_debit",
        "add_on",
        "device",
    ]


def test_next_standard_number_takes_the_first_available(csr_client, account, plan_45, sim):
    # given
    MsisdnFactory(number="+447500900003")
    MsisdnFactory(number="+447500900002")
    # when
    csr_client.post(_url(account), new_line_data(plan_45, "next-standard", sim.iccid))
    # then
    assert Order.objects.get().msisdn.number == "+447500900002"


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("no plan", "plan", "Choose a plan."),
        ("no number", "msisdn", "Choose a number, the next standard number, or a port-in."),
        ("number taken", "msisdn", "+44 7500 900001 is reserved"),
        ("number not a mobile", "msisdn", "is not a mobile number"),
        ("wrong check digit", "iccid", "check digit is wrong"),
        ("no SIM", "iccid", "Type or scan the SIM's ICCID."),
        ("SIM already used", "iccid", "is assigned"),
        ("conflicting add-ons", "addons", "cannot be held together"),
        ("prepaid plan", "plan", "Pay as you go v1 is not on sale"),
        ("no standard number left", "msisdn", "No standard number is available."),
    ],
)
def test_bad_input_is_shown_on_its_field_and_places_no_order(
    case, field, message, csr_client, account, plan_45, prepaid_plan, number, sim, booster
):
    # given
    data = new_line_data(plan_45, number.number, sim.iccid)
    if case == "no plan":
        del data["plan"]
    elif case == "no number":
        del data["msisdn"]
    elif case == "number taken":
        Msisdn.objects.filter(pk=number.pk).update(status="reserved", reservation_ref="ORD-X")
    elif case == "number not a mobile":
        data["msisdn"] = "020 7946 0000"
    elif case == "wrong check digit":
        data["iccid"] = sim.iccid[:-1] + str((int(sim.iccid[-1]) + 1) % 10)
    elif case == "no SIM":
        data["iccid"] = ""
    elif case == "SIM already used":
        SimCard.objects.filter(pk=sim.pk).update(status="assigned")
    elif case == "conflicting add-ons":
        rival = AddOnFactory(name="Data booster 10GB", conflicts=[booster])
        data["addons"] = [str(booster.public_id), str(rival.public_id)]
    elif case == "prepaid plan":
        data["plan"] = str(prepaid_plan.public_id)
    elif case == "no standard number left":
        Msisdn.objects.update(status="assigned")
        data["msisdn"] = "next-standard"
    statuses_before = sorted(Msisdn.objects.values_list("number", "status"))
    # when
    response = csr_client.post(_url(account), data)
    # then
    assert response.status_code == 200
    errors = _field_errors(response, field)
    assert any(message in error for error in errors), errors
    assert "No order was placed." in response.content.decode()
    assert not Order.objects.exists()
    assert sorted(Msisdn.objects.values_list("number", "status")) == statuses_before
    assert SimCard.objects.filter(status="reserved").count() == 0


def test_refused_form_keeps_what_was_chosen(csr_client, account, plan_45, number, booster):
    # when: everything but the SIM
    response = csr_client.post(
        _url(account),
        new_line_data(plan_45, number.number, "", addons=[str(booster.public_id)]),
    )
    # then
    html = response.content.decode()
    assert f'value="{plan_45.public_id}" checked' in html
    assert f'value="{number.number}" checked' in html
    assert f'value="{booster.public_id}" checked' in html


def test_closed_account_takes_no_new_line(csr_client, account, plan_45, number, sim):
    # given
    account.status = "closed"
    account.save()
    # when
    response = csr_client.post(_url(account), new_line_data(plan_45, number.number, sim.iccid))
    # then
    assert response.status_code == 200
    assert any("is closed" in str(e) for e in response.context["form"].non_field_errors())
    assert not Order.objects.exists()


def test_golden_number_price_is_on_the_quote(csr_client, account, plan_45, golden, sim):
    # when
    response = csr_client.post(
        _url(account), new_line_data(plan_45, golden.number, sim.iccid), follow=True
    )
    # then
    html = response.content.decode()
    assert "Number +447500977777 (Golden)" in html
    assert "£50.00" in html
    assert Order.objects.get().lines.get(kind="number").one_time_amount == Decimal("50")
