"""A CSR sells a new line with a router and a data booster, then changes its plan mid-period,
in a real browser, from the search box to the prorated quote."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from common.money import Money
from crm.models import Subscriber
from orders.models import Order
from orders.proration import bill_period_containing, proration_lines
from orders.tests.factories import (
    AddOnFactory,
    AllowanceFactory,
    DeviceFactory,
    DeviceItemFactory,
    PricePlanFactory,
)
from orders.tests.inventory_factories import MsisdnFactory, SimCardFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/order-quote-phone.png"


def _expect():
    from playwright.sync_api import expect

    return expect


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


@pytest.fixture
def shop(line):
    """Two plans, a router, a data booster, numbers and a SIM; the account is billed on a day
    other than today, so a change today is part-way through its bill period."""
    account = line.account
    account.bill_cycle_day = 1 if timezone.localdate().day != 1 else 2
    account.save(update_fields=["bill_cycle_day"])
    basic = PricePlanFactory(code="basic", name="Basic 10GB", recurring_fee_amount=Decimal("30"))
    AllowanceFactory(plan=basic, service="data", quantity=Decimal("10240"))
    maximum = PricePlanFactory(
        code="max",
        name="Max 100GB",
        recurring_fee_amount=Decimal("45"),
        activation_fee_amount=Decimal("10"),
    )
    AllowanceFactory(plan=maximum, service="data", quantity=Decimal("102400"))
    router = DeviceFactory(name="5G router", price_amount=Decimal("49"))
    DeviceItemFactory(device=router, serial="R-0001")
    booster = AddOnFactory(name="Data booster 5GB", price_amount=Decimal("5"))
    AllowanceFactory(plan=None, addon=booster, service="data", quantity=Decimal("5120"))
    MsisdnFactory(number="+447500900001")
    MsisdnFactory(number="+447500900123")
    MsisdnFactory(number="+447500977777", category="golden", price_amount=Decimal("50"))
    return {"account": account, "basic": basic, "max": maximum, "sim": SimCardFactory()}


def test_csr_sells_a_line_with_a_router_and_a_booster_then_changes_its_plan(
    page, sign_in, csr, line, customer, shop
):
    expect = _expect()
    account = shop["account"]
    today = timezone.localdate()
    period = bill_period_containing(today, bill_cycle_day=account.bill_cycle_day)
    # given
    sign_in(csr)
    # when: the CSR finds the customer and starts a new line on her account
    page.get_by_role("searchbox").press_sequentially("Lovelace", delay=20)
    page.locator("#search-results").get_by_role("link", name=re.compile("Ada Lovelace")).click()
    expect(page.locator("h1")).to_contain_text("Ada Lovelace")
    page.locator(f"#account-{account.public_id}").get_by_role("link", name="New line").click()
    expect(page.locator("h1")).to_have_text(f"New line on {account.number}")
    # and picks the plan; the extras follow the plan
    page.get_by_label(re.compile("Basic 10GB")).check()
    expect(page.locator("#extras")).to_contain_text("Add-ons allowed on Basic 10GB")
    # and looks for a number with 123 in it
    page.get_by_label("Number contains").press_sequentially("123", delay=30)
    choices = page.locator("#number-choices")
    expect(choices.locator("label")).to_have_count(1)
    expect(choices).to_contain_text("+44 7500 900123")
    choices.get_by_label(re.compile(r"\+44 7500 900123")).check()
    page.get_by_label("SIM number (ICCID)").fill(shop["sim"].iccid)
    page.get_by_label(re.compile("5G router")).check()
    page.get_by_label(re.compile("Data booster 5GB")).check()
    page.get_by_role("button", name="Get quote").click()
    # then: the quote, with every amount
    expect(page.locator("h1")).to_contain_text("New connection")
    quote = page.locator("#quote")
    expect(quote).to_contain_text("5G router (serial R-0001)")
    expect(quote).to_contain_text("£49.00")
    expect(quote).to_contain_text("Data booster 5GB (30 days)")
    expect(quote).to_contain_text("£5.00")
    expect(quote).to_contain_text("One-time total£54.00")
    expect(quote).to_contain_text("New recurring charge£30.00")
    [debit] = proration_lines(
        period=period, effective_on=today, method="daily", new_fee=gbp("30"), new_label="x"
    )
    expect(quote).to_contain_text(debit.formula)
    # the quote adds each line as billing will post it, rounded once (today's proration may
    # have more places than the currency: 30 × 30/31 days is 29.0323)
    expect(quote.locator(".due-now")).to_contain_text(
        (gbp("54") + debit.amount.rounded()).format().replace("\xa0", " ")
    )
    # when
    page.get_by_role("button", name="Submit order").click()
    # then
    expect(page.locator(".messages")).to_contain_text("is completed")
    expect(page.locator(".page-head .badge")).to_have_text("Completed")
    expect(page.locator("main")).to_contain_text("Line +44 7500 900123 is active on Basic 10GB")
    new_line = Subscriber.objects.get(msisdn="+447500900123")
    assert (new_line.status, new_line.plan, new_line.iccid) == (
        "active",
        shop["basic"],
        shop["sim"].iccid,
    )
    # when: back on the customer page
    page.get_by_role("link", name=re.compile("← Ada Lovelace")).click()
    # then: the new line and the order are there
    row = page.locator(f"#line-{new_line.public_id}")
    expect(row).to_contain_text("+44 7500 900123")
    expect(row).to_contain_text("Basic 10GB")
    expect(row.locator(".badge")).to_have_text("Active")
    order = Order.objects.get(subscriber=new_line, type="new_connection")
    expect(page.locator(f"#order-{order.public_id}")).to_contain_text("Completed")
    # when: the customer wants the bigger plan now
    row.get_by_role("link", name="Change plan").click()
    page.get_by_label(re.compile("Max 100GB")).check()
    page.get_by_role("radio", name=re.compile(r"^Now\b")).check()
    page.get_by_role("button", name="Get quote").click()
    # then: the unused days of the old plan are credited and the new plan debited
    credit, debit = proration_lines(
        period=period,
        effective_on=today,
        method="daily",
        old_fee=gbp("30"),
        new_fee=gbp("45"),
        old_label="Basic 10GB",
        new_label="Max 100GB",
    )
    quote = page.locator("#quote")
    expect(page.locator("h1")).to_contain_text("Plan change")
    expect(quote).to_contain_text(f"Proration credit: {credit.description}")
    expect(quote).to_contain_text(credit.formula)
    expect(quote).to_contain_text(credit.amount.rounded().format().replace("\xa0", " "))
    expect(quote).to_contain_text(f"Proration debit: {debit.description}")
    expect(quote).to_contain_text(debit.formula)
    expect(quote).to_contain_text(f"{debit.days} of {period.days} days")
    # when: the same quote on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=SCREENSHOT, full_page=True)
    # then: nothing is wider than the screen and Submit is within reach
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.get_by_role("button", name="Submit order").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
