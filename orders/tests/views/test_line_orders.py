"""Orders for an existing line: plan change, add-on, SIM swap, suspend, resume and terminate."""

from __future__ import annotations

import time_machine
from django.urls import reverse

from crm.models import Subscriber
from crm.tests.factories import SubscriberFactory
from orders.inventory.models import SimCard
from orders.models import Order
from orders.placing import order_addon_create
from orders.services import order_place
from orders.tests.factories import AddOnFactory, PricePlanFactory

from .conftest import APRIL_10


def _url(name, line):
    return reverse(f"orders:order-{name}", args=[line.public_id])


def _errors(response, name):
    return [str(message) for message in response.context["form"].errors.get(name, [])]


# --- plan change --------------------------------------------------------------------------------


@time_machine.travel(APRIL_10)
def test_plan_change_page_offers_other_plans_of_the_same_payment_type(
    csr_client, account, plan_30, plan_45, prepaid_plan
):
    # given
    line = SubscriberFactory(account=account, plan=plan_30)
    # when
    html = csr_client.get(_url("plan-change", line)).content.decode()
    # then
    assert f'value="{plan_45.public_id}"' in html
    assert f'value="{plan_30.public_id}"' not in html  # the line is on it
    assert "Pay as you go" not in html
    assert "At the end of the current period, 1 May 2026" in html
    assert "(1 Apr to 30 Apr 2026)" in html


@time_machine.travel(APRIL_10)
def test_plan_change_now_is_quoted_with_proration(csr_client, csr, account, plan_30, plan_45):
    # given
    line = SubscriberFactory(account=account, plan=plan_30)
    # when
    response = csr_client.post(
        _url("plan-change", line),
        {"plan": str(plan_45.public_id), "effective": "now"},
        follow=True,
    )
    # then
    html = response.content.decode()
    order = Order.objects.get()
    assert response.redirect_chain == [
        (reverse("orders:order-detail", args=[order.public_id]), 302)
    ]
    assert (order.type, order.subscriber, order.plan, order.effective) == (
        "plan_change",
        line,
        plan_45,
        "now",
    )
    assert "-30 × 21 / 30 days = -21.0000 → -21.00 GBP" in html
    assert "45 × 21 / 30 days = 31.5000 → 31.50 GBP" in html
    line.refresh_from_db()
    assert line.plan == plan_30  # nothing changes before the order is submitted


def test_plan_change_refusals_are_on_the_plan_field(
    csr_client, account, plan_30, plan_45, prepaid_plan
):
    # given
    line = SubscriberFactory(account=account, plan=plan_30)
    cases = [
        ({"effective": "now"}, "plan", "Choose a plan."),
        ({"plan": str(prepaid_plan.public_id), "effective": "now"}, "plan", "not on sale"),
        ({"plan": str(plan_30.public_id), "effective": "now"}, "plan", "already on"),
        ({"plan": "not-a-plan", "effective": "now"}, "plan", "not in the catalog"),
        ({"plan": str(plan_45.public_id), "effective": "later"}, "effective", "valid choice"),
    ]
    for data, field, message in cases:
        # when
        response = csr_client.post(_url("plan-change", line), data)
        # then
        assert response.status_code == 200
        assert any(message in error for error in _errors(response, field)), (data, response)
    assert not Order.objects.exists()


def test_plan_change_of_a_wrong_payment_type_plan_on_a_prepaid_account(csr_client, customer):
    # given: a prepaid line and a postpaid plan
    line = SubscriberFactory(account__customer=customer, account__payment_type="prepaid")
    postpaid = PricePlanFactory(name="Postpaid 20GB")
    # when
    response = csr_client.post(
        _url("plan-change", line), {"plan": str(postpaid.public_id), "effective": "now"}
    )
    # then
    assert any("is not on sale" in e for e in _errors(response, "plan"))
    assert not Order.objects.exists()


# --- add-ons ------------------------------------------------------------------------------------


def test_add_on_page_offers_only_eligible_add_ons(csr_client, csr, account, plan_30):
    # given: the line holds EU 1GB
    line = SubscriberFactory(account=account, plan=plan_30)
    eu_small = AddOnFactory(name="EU 1GB")
    AddOnFactory(name="EU 5GB", conflicts=[eu_small])
    AddOnFactory(name="Max only", plan_codes=["max"])
    AddOnFactory(name="Booster", stackable=True)
    order_place(
        order=order_addon_create(actor=csr, channel="console", subscriber=line, addon=eu_small),
        actor=csr,
    )
    # when
    html = csr_client.get(_url("addon", line)).content.decode()
    # then
    assert "Booster" in html
    for name in ("EU 1GB", "EU 5GB", "Max only"):
        assert name not in html


def test_conflicting_add_on_is_refused_on_its_field(csr_client, csr, account, plan_30):
    # given
    line = SubscriberFactory(account=account, plan=plan_30)
    eu_small = AddOnFactory(name="EU 1GB")
    eu_big = AddOnFactory(name="EU 5GB", conflicts=[eu_small])
    order_place(
        order=order_addon_create(actor=csr, channel="console", subscriber=line, addon=eu_small),
        actor=csr,
    )
    # when
    response = csr_client.post(_url("addon", line), {"addon": str(eu_big.public_id)})
    # then
    assert response.status_code == 200
    assert _errors(response, "addon") == ["EU 5GB and EU 1GB cannot be held together."]
    assert Order.objects.count() == 1


def test_add_on_is_quoted(csr_client, account, plan_30, booster):
    # given
    line = SubscriberFactory(account=account, plan=plan_30)
    # when
    response = csr_client.post(_url("addon", line), {"addon": str(booster.public_id)}, follow=True)
    # then
    html = response.content.decode()
    order = Order.objects.get()
    assert (order.type, order.status, order.subscriber) == ("add_on", "draft", line)
    assert "Data booster 5GB (30 days)" in html
    assert "£5.00" in html.split("Due now")[1]


def test_add_on_needs_a_choice(csr_client, account, plan_30):
    # given
    line = SubscriberFactory(account=account, plan=plan_30)
    # when
    response = csr_client.post(_url("addon", line), {})
    # then
    assert _errors(response, "addon") == ["Choose an add-on."]
    assert not Order.objects.exists()


# --- SIM swap -----------------------------------------------------------------------------------


def test_sim_swap_refuses_a_wrong_check_digit_and_a_missing_reason(csr_client, account, sim):
    # given
    line = SubscriberFactory(account=account)
    wrong = sim.iccid[:-1] + str((int(sim.iccid[-1]) + 1) % 10)
    # when
    response = csr_client.post(_url("sim-swap", line), {"iccid": wrong, "reason": ""})
    # then
    assert any("check digit is wrong" in e for e in _errors(response, "iccid"))
    assert _errors(response, "reason") == ["Give a reason."]
    assert not Order.objects.exists()
    assert SimCard.objects.get(pk=sim.pk).status == "in_stock"


def test_sim_swap_refuses_a_sim_that_is_not_in_stock(csr_client, account, sim):
    # given
    line = SubscriberFactory(account=account)
    SimCard.objects.filter(pk=sim.pk).update(status="blocked")
    # when
    response = csr_client.post(_url("sim-swap", line), {"iccid": sim.iccid, "reason": "Lost"})
    # then
    assert any("blocked" in e for e in _errors(response, "iccid"))
    assert not Order.objects.exists()


def test_sim_swap_keeps_the_number_once_submitted(csr_client, account, sim):
    # given
    line = SubscriberFactory(account=account)
    number = line.msisdn
    # when
    csr_client.post(_url("sim-swap", line), {"iccid": sim.iccid, "reason": "Phone stolen"})
    order = Order.objects.get()
    csr_client.post(reverse("orders:order-place", args=[order.public_id]))
    # then
    line.refresh_from_db()
    assert (line.msisdn, line.iccid) == (number, sim.iccid)
    assert Order.objects.get().reason == "Phone stolen"


# --- suspend, resume, terminate -----------------------------------------------------------------


def test_suspend_needs_a_reason_then_suspends_once_submitted(csr_client, account):
    # given
    line = SubscriberFactory(account=account)
    # when
    response = csr_client.post(_url("suspend", line), {"reason": ""})
    # then
    assert _errors(response, "reason") == ["Give a reason."]
    assert not Order.objects.exists()
    # when
    csr_client.post(_url("suspend", line), {"reason": "Unpaid bill"})
    order = Order.objects.get()
    csr_client.post(reverse("orders:order-place", args=[order.public_id]))
    # then
    line.refresh_from_db()
    assert line.status == "suspended"
    assert (order.type, order.reason) == ("suspend", "Unpaid bill")


def test_resume_of_an_active_line_is_refused(csr_client, account):
    # given
    line = SubscriberFactory(account=account)
    # when
    response = csr_client.post(_url("resume", line), {"reason": "Paid"})
    # then
    assert response.status_code == 200
    assert any("is active" in str(e) for e in response.context["form"].non_field_errors())
    assert not Order.objects.exists()


@time_machine.travel(APRIL_10)
def test_terminate_is_quoted_with_the_credit_for_unused_days(supervisor_client, account, plan_30):
    # given
    line = SubscriberFactory(account=account, plan=plan_30)
    # when
    response = supervisor_client.post(
        _url("terminate", line), {"reason": "Moved abroad"}, follow=True
    )
    # then
    html = response.content.decode()
    order = Order.objects.get()
    assert order.type == "terminate"
    assert "Unused 21 days of Basic 10GB" in html
    assert "-30 × 21 / 30 days = -21.0000 → -21.00 GBP" in html
    assert Subscriber.objects.get(pk=line.pk).status == "active"


def test_orders_for_a_terminated_line_are_refused(csr_client, account, plan_30, plan_45):
    # given
    line = SubscriberFactory(account=account, plan=plan_30, status="terminated")
    # when
    response = csr_client.post(
        _url("plan-change", line), {"plan": str(plan_45.public_id), "effective": "now"}
    )
    # then
    assert response.status_code == 200
    assert any("is terminated" in str(e) for e in response.context["form"].non_field_errors())
    assert not Order.objects.exists()
