"""The CSR console in a real browser: sign in, search as you type, notes, suspending a line."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm.models import Interaction, Subscriber, SubscriberEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/console-phone.png"


def _expect():
    from playwright.sync_api import expect

    return expect


def test_csr_finds_a_customer_by_msisdn_and_adds_a_note(page, sign_in, csr, line, customer):
    expect = _expect()
    # given
    sign_in(csr)
    expect(page).to_have_url(re.compile(r"/console/$"))
    # when: an MSISDN typed with a space, as the customer reads it out
    page.get_by_role("searchbox").press_sequentially("07400 123456", delay=20)
    # then: the result appears without a page load
    result = page.locator("#search-results .result")
    expect(result).to_contain_text("Ada Lovelace")
    expect(result).to_contain_text("+44 7400 123456")
    expect(page).to_have_url(re.compile(r"/console/$"))
    # when
    result.get_by_role("link", name=re.compile("Ada Lovelace")).click()
    expect(page).to_have_url(re.compile(rf"/console/customers/{customer.public_id}/$"))
    page.get_by_label("Subject").fill("Roaming question")
    page.get_by_label("Note").fill("Customer asked about the EU roaming pack.")
    page.get_by_role("button", name="Add note").click()
    # then
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Customer asked about the EU roaming pack.")
    expect(page.locator("#timeline-panel")).to_contain_text("Note added.")
    note = Interaction.objects.get(customer=customer)
    assert (note.subject, note.body, note.author) == (
        "Roaming question",
        "Customer asked about the EU roaming pack.",
        csr,
    )


def test_subscriber_is_refused_the_console(page, sign_in, subscriber, customer, live_server):
    expect = _expect()
    # given
    sign_in(subscriber)
    # then: they land on their own self-care pages, which let them in
    expect(page).to_have_url(re.compile(r"/my/$"))
    if not page.title().startswith("Not found"):  # while self-care is being built
        expect(page.locator("h1")).not_to_have_text("Not allowed")
    # when
    response = page.goto("/console/")
    # then
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("body")).not_to_contain_text("Ada Lovelace")


def test_csr_suspends_a_line_with_a_reason(page, sign_in, csr, line, customer):
    expect = _expect()
    # given
    sign_in(csr)
    page.goto(reverse("crm:customer-detail", args=[customer.public_id]))
    row = page.locator(f"#line-{line.public_id}")
    expect(row.locator(".badge")).to_have_text("Active")
    # when: no reason yet, the browser asks for one and nothing is sent
    row.get_by_role("button", name="Suspend").click()
    expect(row.locator(".badge")).to_have_text("Active")
    # and with a reason
    row.get_by_placeholder("Reason (required)").fill("Phone reported stolen")
    row.get_by_role("button", name="Suspend").click()
    # then: the row is swapped in place, with the next allowed action
    expect(row.locator(".badge")).to_have_text("Suspended")
    expect(row.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Phone reported stolen")
    line.refresh_from_db()
    assert line.status == Subscriber.Status.SUSPENDED
    event = SubscriberEvent.objects.get(subscriber=line)
    assert (event.actor, event.reason) == (csr, "Phone reported stolen")


def test_customer_page_on_a_phone(page, sign_in, csr, line, customer):
    # given
    Interaction.objects.create(
        customer=customer, subject="Welcome call", body="All fine.", author=csr
    )
    sign_in(csr)
    page.set_viewport_size({"width": 390, "height": 844})
    # when
    page.goto(reverse("crm:customer-detail", args=[customer.public_id]))
    page.screenshot(path=SCREENSHOT, full_page=True)
    # then: nothing is wider than the screen, and a line's actions are reachable
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    row = page.locator(f"#line-{line.public_id}")
    box = row.get_by_role("button", name="Suspend").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
