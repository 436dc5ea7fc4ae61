"""Suspending, resuming and terminating a line from the customer page, with who and why."""

from __future__ import annotations

from django.urls import reverse

from crm.models import Subscriber, SubscriberEvent
from crm.services import subscriber_suspend

from .conftest import HTMX


def _url(line):
    return reverse("crm:subscriber-status", args=[line.public_id])


def _detail(line):
    return reverse("crm:customer-detail", args=[line.account.customer.public_id])


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
    assert 'value="resume"' in html
    assert 'value="suspend"' not in html
    assert 'id="timeline" class="timeline" hx-swap-oob="true"' in html
    assert "Phone stolen" in html


def test_resume_after_suspend(csr_client, csr, line):
    # given
    subscriber_suspend(subscriber=line, actor=csr, reason="Unpaid bill")
    # when
    response = csr_client.post(_url(line), {"action": "resume", "reason": "Bill paid"})
    # then
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert SubscriberEvent.objects.filter(subscriber=line).first().reason == "Bill paid"


def test_suspend_without_reason_is_refused(csr_client, line):
    # when
    response = csr_client.post(_url(line), {"action": "suspend", "reason": "  "}, headers=HTMX)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Give a reason for the change." in html
    assert 'data-status="active">Active</span>' in html
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert not SubscriberEvent.objects.exists()


def test_suspend_without_reason_and_without_htmx_says_why(csr_client, line):
    # when
    response = csr_client.post(_url(line), {"action": "suspend"}, follow=True)
    # then
    assert "+44 7400 123456: Give a reason for the change." in response.content.decode()
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert not SubscriberEvent.objects.exists()


def test_csr_cannot_terminate(csr_client, line):
    # when
    response = csr_client.post(_url(line), {"action": "terminate", "reason": "Leaving"})
    # then
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert not SubscriberEvent.objects.exists()


def test_supervisor_terminates(supervisor_client, supervisor, line):
    # when
    response = supervisor_client.post(
        _url(line), {"action": "terminate", "reason": "Customer is leaving"}, headers=HTMX
    )
    # then
    assert response.status_code == 200
    assert 'data-status="terminated">Terminated</span>' in response.content.decode()
    line.refresh_from_db()
    assert line.status == Subscriber.Status.TERMINATED
    event = SubscriberEvent.objects.get(subscriber=line)
    assert (event.actor, event.reason) == (supervisor, "Customer is leaving")


def test_transition_not_allowed_now_is_refused(csr_client, line):
    # when: an active line cannot be resumed (a stale page)
    response = csr_client.post(_url(line), {"action": "resume", "reason": "x"}, headers=HTMX)
    # then
    assert "is not suspended" in response.content.decode()
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert not SubscriberEvent.objects.exists()


def test_unknown_action_is_refused(csr_client, line):
    # when
    response = csr_client.post(_url(line), {"action": "explode", "reason": "x"}, headers=HTMX)
    # then
    assert "Select a valid choice" in response.content.decode()
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
