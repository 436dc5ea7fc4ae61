"""The crm side of a line's status changes: checked against Subscriber.TRANSITIONS, locked,
and recorded with who, when and why. (Every door reaches it through an order: see
orders/tests/services/test_line_doors.py.)"""

from __future__ import annotations

import pytest

from common.errors import ApplicationError, InvalidTransition
from crm.models import Subscriber, SubscriberEvent
from crm.services import subscriber_status_change


def test_a_status_change_records_who_when_and_why(csr, line):
    # when
    subscriber_status_change(
        subscriber=line, new_status="suspended", actor=csr, reason="Phone reported stolen"
    )
    # then
    line.refresh_from_db()
    assert line.status == Subscriber.Status.SUSPENDED
    assert line.status_changed_at is not None
    event = SubscriberEvent.objects.get(subscriber=line)
    assert (event.old_status, event.new_status, event.actor, event.reason) == (
        "active",
        "suspended",
        csr,
        "Phone reported stolen",
    )


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_a_status_change_needs_a_short_reason_and_changes_nothing_without_one(csr, line, reason):
    with pytest.raises(ApplicationError) as caught:
        subscriber_status_change(subscriber=line, new_status="suspended", actor=csr, reason=reason)
    assert "reason" in caught.value.fields
    line.refresh_from_db()
    assert line.status == Subscriber.Status.ACTIVE
    assert not SubscriberEvent.objects.exists()


@pytest.mark.parametrize(
    ("before", "after"),
    [("terminated", "active"), ("terminated", "suspended"), ("active", "pending")],
)
def test_a_change_the_table_does_not_allow_is_refused(csr, line, before, after):
    # given
    Subscriber.objects.filter(pk=line.pk).update(status=before)
    # when
    with pytest.raises(InvalidTransition) as caught:
        subscriber_status_change(subscriber=line, new_status=after, actor=csr, reason="Try")
    # then
    assert caught.value.message == f"+44 7400 123456 is {before}; it cannot become {after}."
    line.refresh_from_db()
    assert line.status == before
    assert not SubscriberEvent.objects.exists()
