"""The audit log: one row per change, with who, what (before and after) and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from common.audit import audit_events_for, audit_record, changes_between, snapshot
from common.models import AuditEvent

# common imports no app, not even in its tests (import-linter): the audited record here is a
# plain auth Group, and the actors come from the persona fixtures.


def test_changes_name_each_changed_field_with_its_before_and_after_exactly():
    # given
    before = {"credit_limit_amount": Decimal("100.0000"), "bill_cycle_day": 1, "note": "x"}
    after = {"credit_limit_amount": Decimal("250.5000"), "bill_cycle_day": 1, "note": "x"}
    # when / then: amounts stay exact strings, unchanged fields are left out
    assert changes_between(before, after) == {"credit_limit_amount": ["100", "250.5"]}


def test_a_change_is_recorded_with_its_actor_and_reason_and_read_back_newest_first(csr, admin):
    # given
    group = Group.objects.create(name="Night shift")
    before = snapshot(group, ["name", "pk"])
    group.name = "Late shift"
    # when
    audit_record(
        actor=csr,
        instance=group,
        action="updated",
        changes=changes_between(before, snapshot(group, ["name", "pk"])),
        reason="Renamed by the rota",
    )
    audit_record(actor=admin, instance=group, action="closed")
    # then
    trail = list(audit_events_for(group))
    assert [(e.action, e.actor, e.reason) for e in trail] == [
        ("closed", admin, ""),
        ("updated", csr, "Renamed by the rota"),
    ]
    assert trail[1].changes == {"name": ["Night shift", "Late shift"]}
    assert trail[1].object_repr == "Late shift"


def test_an_audited_change_needs_an_actor(db):
    group = Group.objects.create(name="Night shift")
    with pytest.raises(ValueError, match="needs the user"):
        audit_record(actor=None, instance=group, action="updated")
    assert not AuditEvent.objects.exists()


def test_dates_are_kept_as_iso_strings():
    assert changes_between({"valid_to": None}, {"valid_to": date(2026, 5, 1)}) == {
        "valid_to": [None, "2026-05-01"]
    }
