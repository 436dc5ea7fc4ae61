"""The audit log: one row per change, with who, what (before and after) and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from common.audit import audit_events_for, audit_record, changes_between, snapshot
from common.models import AuditEvent
from crm.tests.factories import AccountFactory


def test_changes_name_each_changed_field_with_its_before_and_after_exactly():
    # given
    before = {"credit_limit_amount": Decimal("100.0000"), "bill_cycle_day": 1, "note": "x"}
    after = {"credit_limit_amount": Decimal("250.5000"), "bill_cycle_day": 1, "note": "x"}
    # when / then: amounts stay exact strings, unchanged fields are left out
    assert changes_between(before, after) == {"credit_limit_amount": ["100", "250.5"]}


def test_a_change_is_recorded_with_its_actor_and_reason_and_read_back_newest_first(csr, admin):
    # given
    account = AccountFactory(credit_limit_amount=Decimal("100"))
    before = snapshot(account, ["credit_limit_amount", "created_at"])
    account.credit_limit_amount = Decimal("250")
    # when
    audit_record(
        actor=csr,
        instance=account,
        action="updated",
        changes=changes_between(before, snapshot(account, ["credit_limit_amount"])),
        reason="Customer asked",
    )
    audit_record(actor=admin, instance=account, action="closed")
    # then
    trail = list(audit_events_for(account))
    assert [(e.action, e.actor, e.reason) for e in trail] == [
        ("closed", admin, ""),
        ("updated", csr, "Customer asked"),
    ]
    assert trail[1].changes["credit_limit_amount"] == ["100", "250"]
    assert trail[1].object_repr == account.number


def test_an_audited_change_needs_an_actor(db):
    account = AccountFactory()
    with pytest.raises(ValueError, match="needs the user"):
        audit_record(actor=None, instance=account, action="updated")
    assert not AuditEvent.objects.exists()


def test_dates_are_kept_as_iso_strings():
    assert changes_between({"valid_to": None}, {"valid_to": date(2026, 5, 1)}) == {
        "valid_to": [None, "2026-05-01"]
    }
