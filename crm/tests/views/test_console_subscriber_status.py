"""Activating, suspending and resuming a line from its row on the customer page, with who and
why: each change is an order placed and completed at once through orders.lines. Terminating is
not a row action: it goes through the terminate order page."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from common.roles import permissions_from_names
from crm.models import Subscriber, SubscriberEvent
from crm.tests.factories import SubscriberFactory, UserFactory
from orders.lines import line_suspend
from orders.models import Order

from .conftest import HTMX


def _url(line):
    return reverse("crm:subscriber-status", args=[line.public_id])


def _detail(line):
    return reverse("crm:customer-detail", args=[line.account.customer.public_id])


def _snapshot() -> dict[str, Any]:
    return {
        "lines": sorted(Subscriber.objects.values_list("msisdn", "status")),
        "events": SubscriberEvent.objects.count(),
        "orders": sorted(Order.objects.values_list("number", "type", "status")),
    }


def test_suspend_with_reason_records_who_and_why(csr_client, csr, line):
    # when
    response = csr_client.post(_url(line), {"action": "suspend", "reason": "Phone stolen"})
    # then
    assert response.status_code == 302
    assert response.url == f"{_detail(line)}#line-{line.public_id}"
    line.refresh_from_db()
    assert line.status == Subscriber.Status.SUSPENDED
    event = SubscriberEvent.objects.get(subscriber=line)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        "active",
        "suspended",
        csr,
        "Phone stolen",
    )
    page = csr_client.get(response.url).content.decode()
    assert "+44 7400 123456 is now suspended." in page


def test_suspend_is_an_order_placed_and_completed_in_the_console(csr_client, csr, line):
    # when
    csr_client.post(_url(line), {"action": "suspend", "reason": "Phone stolen"})
    # then
    order = Order.objects.get()
    assert (order.type, order.status, order.channel, order.placed_by) == (
        "suspend",
        "completed",
        "console",
        csr,
    )
    assert (order.subscriber, order.account, order.reason) == (line, line.account, "Phone stolen")
    assert order.completed_at is not None


def test_htmx_suspend_swaps_the_row_and_the_timeline(csr_client, line):
    # when
    response = csr_client.post(
        _url(line), {"action": "suspend", "reason": "Phone stolen"}, headers=HTMX
    )
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.strip().startswith(f'<tr id="line-{line.public_id}"')
    assert 'data-status="suspended">Suspended</span>' in html
    assert "+44 7400 123456 is now suspended." in html
    assert 'value="resume"' in html
    assert 'value="suspend"' not in html
    assert 'id="timeline" class="timeline" hx-swap-oob="true"' in html
    assert "Phone stolen" in html


def test_resume_after_suspend(csr_client, csr, line):
    # given
    line_suspend(subscriber=line, actor=csr, reason="Unpaid bill", channel="console")
    # when
    response = csr_client.post(_url(line), {"action": "resume", "reason": "Bill paid"})
    # then
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    event = SubscriberEvent.objects.filter(subscriber=line).first()
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        "suspended",
        "active",
        csr,
        "Bill paid",
    )
    assert list(Order.objects.order_by("pk").values_list("type", "status", "channel")) == [
        ("suspend", "completed", "console"),
        ("resume", "completed", "console"),
    ]


def test_activate_a_pending_line(csr_client, csr, line):
    # given
    pending = SubscriberFactory(account=line.account, status="pending")
    # when
    response = csr_client.post(
        _url(pending), {"action": "activate", "reason": "SIM received"}, headers=HTMX
    )
    # then
    assert response.status_code == 200
    assert 'data-status="active">Active</span>' in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Subscriber.Status.ACTIVE
    event = SubscriberEvent.objects.get(subscriber=pending)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        "pending",
        "active",
        csr,
        "SIM received",
    )
    order = Order.objects.get()
    assert (order.type, order.status, order.channel, order.subscriber) == (
        "activate",
        "completed",
        "console",
        pending,
    )


def test_suspend_without_reason_is_refused(csr_client, line):
    # given
    before = _snapshot()
    # when
    response = csr_client.post(_url(line), {"action": "suspend", "reason": "  "}, headers=HTMX)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Give a reason for the change." in html
    assert 'data-status="active">Active</span>' in html
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert _snapshot() == before


def test_suspend_without_reason_and_without_htmx_says_why(csr_client, line):
    # given
    before = _snapshot()
    # when
    response = csr_client.post(_url(line), {"action": "suspend"}, follow=True)
    # then
    assert "+44 7400 123456: Give a reason for the change." in response.content.decode()
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert _snapshot() == before


@pytest.mark.parametrize("actor", ["csr", "supervisor"])
def test_terminate_is_not_a_row_action(actor, client, request, line):
    # given: even a supervisor terminates through the terminate order page
    client.force_login(request.getfixturevalue(actor))
    before = _snapshot()
    # when
    response = client.post(
        _url(line), {"action": "terminate", "reason": "Customer is leaving"}, headers=HTMX
    )
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice. terminate is not one of the available choices." in html
    assert 'data-status="active">Active</span>' in html
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert _snapshot() == before


def test_terminate_without_htmx_says_why_and_changes_nothing(supervisor_client, line):
    # given
    before = _snapshot()
    # when
    response = supervisor_client.post(
        _url(line), {"action": "terminate", "reason": "Customer is leaving"}, follow=True
    )
    # then
    assert "+44 7400 123456: Select a valid choice." in response.content.decode()
    assert _snapshot() == before


def test_transition_not_allowed_now_is_refused(csr_client, line):
    # given
    before = _snapshot()
    # when: an active line cannot be resumed (a stale page)
    response = csr_client.post(_url(line), {"action": "resume", "reason": "x"}, headers=HTMX)
    # then
    html = response.content.decode()
    assert "+44 7400 123456 is active; it cannot be resumed." in html
    assert 'data-status="active">Active</span>' in html
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert _snapshot() == before


def test_transition_not_allowed_without_htmx_says_why(csr_client, csr, line):
    # given
    line_suspend(subscriber=line, actor=csr, reason="Unpaid bill", channel="console")
    before = _snapshot()
    # when: a suspended line cannot be suspended again (two CSRs on the same customer)
    response = csr_client.post(_url(line), {"action": "suspend", "reason": "x"}, follow=True)
    # then
    assert "+44 7400 123456 is suspended; it cannot be suspended." in (response.content.decode())
    assert _snapshot() == before


def test_unknown_action_is_refused(csr_client, line):
    # given
    before = _snapshot()
    # when
    response = csr_client.post(_url(line), {"action": "explode", "reason": "x"}, headers=HTMX)
    # then
    assert "Select a valid choice" in response.content.decode()
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert _snapshot() == before


@pytest.mark.parametrize(
    "held",
    [("crm.change_subscriber_status",), ("orders.place_order",)],
    ids=["without orders.place_order", "without crm.change_subscriber_status"],
)
def test_changing_status_needs_both_permissions(client, held, line):
    # given
    user = UserFactory()
    user.user_permissions.add(
        *permissions_from_names(["crm.access_console", "crm.view_any_customer", *held])
    )
    client.force_login(user)
    before = _snapshot()
    # when
    response = client.post(_url(line), {"action": "suspend", "reason": "Phone stolen"})
    # then
    assert response.status_code == 403
    assert _snapshot() == before
