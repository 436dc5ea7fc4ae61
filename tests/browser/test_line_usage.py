"""A line's itemised usage in the console, in a real browser: open it from the customer page,
narrow it with the filters (htmx, no page load), and download the same records as CSV."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from billing.tests.usage.records import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _expect():
    from playwright.sync_api import expect

    return expect


def test_csr_filters_a_lines_usage_and_downloads_it(page, sign_in, csr, line, customer):
    expect = _expect()
    # given
    record(line, started_at=datetime(2026, 11, 2, 9, tzinfo=UTC), seconds=90, charge="0.1500")
    record(line, started_at=datetime(2026, 11, 3, 9, tzinfo=UTC), service="sms", parts=1,
           charge="0.0500")  # fmt: skip
    record(line, started_at=datetime(2026, 11, 4, 9, tzinfo=UTC), seconds=30, charge="0.0500",
           called="+33123456789", destination_class="international")  # fmt: skip
    sign_in(csr)
    page.goto(reverse("crm:customer-detail", args=[customer.public_id]))
    # when
    page.get_by_role("link", name="Itemised usage").click()
    expect(page).to_have_url(re.compile(rf"/console/lines/{line.public_id}/usage/"))
    page.locator("#id_period_from").fill("2026-11-01")
    page.locator("#id_period_to").fill("2026-11-30")
    page.get_by_role("button", name="Show usage").click()
    # then
    results = page.locator("#usage-results")
    expect(results.locator('[data-total="count"]')).to_have_text("3")
    expect(results.locator("tbody tr")).to_have_count(3)
    # when: one service, swapped in by htmx
    page.locator("#id_service").select_option("sms")
    # then
    expect(results.locator('[data-total="count"]')).to_have_text("1")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results.locator('[data-total="charge"]')).to_have_text("£0.05")
    # when: the CSV link carries the same filters
    link = page.locator("#usage-csv")
    href = link.get_attribute("href")
    assert "service=sms" in href
    answer = page.request.get(href)
    # then
    assert answer.status == 200
    lines = answer.text().strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("2026-11-03T09:00:00Z,sms,originating,")
