"""A line's balances in the console, in a real browser: a CSR opens them from the customer
page and adjusts the main balance; above the limit it waits, and a supervisor approves it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.balances.models import Bucket
from billing.tests.balances.conftest import money_bucket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _expect():
    from playwright.sync_api import expect

    return expect


def test_csr_adjusts_a_balance_and_a_supervisor_approves_a_large_one(
    page, sign_in, csr, supervisor, admin, line, customer
):
    expect = _expect()
    # given: 10.00 on the line's main balance
    main = money_bucket(line, "10.00", admin)
    sign_in(csr)
    page.goto(reverse("crm:customer-detail", args=[customer.public_id]))
    # when: the CSR opens the balances and adds 2.50
    page.get_by_role("link", name="Balances").click()
    expect(page).to_have_url(re.compile(rf"/console/lines/{line.public_id}/balances/"))
    row = page.locator(f'tr[data-bucket="{main.public_id}"]')
    expect(row).to_contain_text("£10.00")
    row.get_by_text("Adjust…").click()
    row.get_by_label(re.compile("^Amount")).fill("2.50")
    row.get_by_label("Reason").fill("Dropped call")
    row.get_by_role("button", name="Adjust").click()
    # then: applied, and the ledger says who and why
    expect(page.locator(f'tr[data-bucket="{main.public_id}"]')).to_contain_text("£12.50")
    expect(page.locator("table.ledger")).to_contain_text("Dropped call")
    # when: 50.00, above the limit
    row = page.locator(f'tr[data-bucket="{main.public_id}"]')
    row.get_by_text("Adjust…").click()
    row.get_by_label(re.compile("^Amount")).fill("50")
    row.get_by_label("Reason").fill("Billing error refund")
    row.get_by_role("button", name="Adjust").click()
    # then: it waits
    expect(page.locator("table.pending-adjustments")).to_contain_text("Billing error refund")
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("12.5")
    # when: a supervisor approves it
    page.context.clear_cookies()
    sign_in(supervisor)
    page.goto(reverse("crm:line-balances", args=[line.public_id]))
    pending = page.locator("table.pending-adjustments")
    pending.get_by_label("Reason").fill("Checked the bill")
    pending.get_by_role("button", name="Approve").click()
    # then
    expect(page.locator(f'tr[data-bucket="{main.public_id}"]')).to_contain_text("£62.50")
    expect(page.locator("table.pending-adjustments")).to_have_count(0)
