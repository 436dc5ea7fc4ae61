"""A line's whole life in a real browser: a CSR signs up a new customer whose number is ported
in from another operator, submits the quote, and later a supervisor terminates the line through
its one "Terminate…" door, seeing the credit before submitting."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Subscriber
from orders.inventory.models import SimCard
from orders.models import Order
from orders.tests.factories import AllowanceFactory, PricePlanFactory
from orders.tests.inventory_factories import SimCardFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _expect():
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def plan(db):
    plan = PricePlanFactory(code="basic", name="Basic 10GB", recurring_fee_amount=Decimal("30"))
    AllowanceFactory(plan=plan, service="data", quantity=Decimal("10240"))
    return plan


def test_a_ported_in_customer_is_connected_then_terminated_through_one_door(
    page, sign_in, csr, supervisor, plan
):
    expect = _expect()
    sim = SimCardFactory()
    today = timezone.localdate()
    # given
    sign_in(csr)
    # when the CSR fills in the new customer with a ported-in number
    page.goto("/console/customers/new/")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Address line 1").fill("1 Navy Way")
    page.get_by_label("Town or city").fill("London")
    page.get_by_label("Postpaid").check()
    # billed on a day other than today, so the termination is part-way through a period
    page.get_by_label("Bill cycle day").fill("2" if today.day == 1 else "1")
    page.locator("#id_plan").select_option(str(plan.public_id))
    page.get_by_label(re.compile("Port in the customer's number")).check()
    page.get_by_label("Number to port in").fill("07400 555123")
    page.get_by_label("Current operator").select_option("EE")
    page.get_by_label("Port date").fill(today.isoformat())
    page.get_by_label("SIM number (ICCID)").fill(sim.iccid)
    page.get_by_role("button", name="Create customer and get quote").click()
    # then the quote of the first line shows, and nothing is connected yet
    expect(page.locator(".message.success")).to_contain_text("Grace Hopper is customer CUS-")
    expect(page.locator("h1")).to_contain_text("New connection")
    assert not Subscriber.objects.filter(msisdn="+447400555123").exists()
    # when the CSR submits it
    page.get_by_role("button", name="Submit order").click()
    # then the line is live with the ported number and the SIM from stock
    expect(page.locator(".message.success").first).to_contain_text("is completed")
    line = Subscriber.objects.get(msisdn="+447400555123")
    assert (line.status, line.iccid) == ("active", sim.iccid)
    customer = line.account.customer
    # when a supervisor opens the customer: one door to terminate, no inline terminate button
    page.context.clear_cookies()
    sign_in(supervisor)
    page.goto(f"/console/customers/{customer.public_id}/")
    row = page.locator(f"#line-{line.public_id}")
    expect(row.get_by_role("button", name="Terminate")).to_have_count(0)
    row.get_by_role("link", name="Terminate…").click()
    page.get_by_label("Reason").fill("Moving abroad")
    page.get_by_role("button", name="Get quote").click()
    # then the credit is shown before anything happens
    expect(page.locator("#quote")).to_contain_text("Proration")
    assert Subscriber.objects.get(pk=line.pk).status == "active"
    page.get_by_role("button", name="Submit order").click()
    # and the line ends with everything a termination does
    expect(page.locator(".message.success").first).to_contain_text("is completed")
    line.refresh_from_db()
    assert line.status == "terminated"
    assert SimCard.objects.get(pk=sim.pk).status == "blocked"
    order = Order.objects.get(type="terminate", subscriber=line)
    assert (order.status, order.placed_by) == ("completed", supervisor)
