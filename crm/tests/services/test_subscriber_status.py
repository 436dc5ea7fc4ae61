from __future__ import annotations

import pytest

from common.errors import ApplicationError, InvalidTransition
from crm.models import Subscriber, SubscriberEvent
from crm.services import subscriber_resume, subscriber_suspend, subscriber_terminate


def test_suspend_records_who_when_and_why(csr, line):
    # when
    subscriber_suspend(subscriber=line, actor=csr, reason="Phone reported stolen")
    # then
    line.refresh_from_db()
    assert line.status == Subscriber.Status.SUSPENDED
    event = SubscriberEvent.objects.get(subscriber=line)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        "active",
        "suspended",
        csr,
        "Phone reported stolen",
    )


def test_suspend_needs_a_reason_and_changes_nothing_without_one(csr, line):
    with pytest.raises(ApplicationError) as caught:
        subscriber_suspend(subscriber=line, actor=csr, reason="  ")
    assert "reason" in caught.value.fields
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert not SubscriberEvent.objects.exists()


def test_terminated_line_cannot_be_resumed(csr, line):
    subscriber_terminate(subscriber=line, actor=csr, reason="Customer left")
    with pytest.raises(InvalidTransition):
        subscriber_resume(subscriber=line, actor=csr, reason="Came back")
    line.refresh_from_db()
    assert line.status == Subscriber.Status.TERMINATED
