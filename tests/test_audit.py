"""The audit log: one row per change, with who, what (before and after) and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from common.audit import (
    audit_event_qs_for,
    audit_events_for,
    audit_record,
    changes_between,
    changes_created,
    snapshot,
)
from common.models import ApiKey, AuditEvent
from common.templatetags.audit import audit_field, audit_value


def a_record(owner, *, name: str = "Mediation 1") -> ApiKey:
    """Any record will do; common's own (an API key) keeps common's tests free of other apps."""
    return ApiKey.objects.create(
        name=name, prefix=name[-4:], key_hash="0" * 64, user=owner, created_by=owner
    )


def test_changes_name_each_changed_field_with_its_before_and_after_exactly():
    # given
    before = {"credit_limit_amount": Decimal("100.0000"), "bill_cycle_day": 1, "note": "x"}
    after = {"credit_limit_amount": Decimal("250.5000"), "bill_cycle_day": 1, "note": "x"}
    # when / then: amounts stay exact strings, unchanged fields are left out
    assert changes_between(before, after) == {"credit_limit_amount": ["100", "250.5"]}


def test_a_change_is_recorded_with_its_actor_and_reason_and_read_back_newest_first(csr, admin):
    # given
    key = a_record(admin)
    before = snapshot(key, ["name"])
    key.name = "Mediation 2"
    # when
    audit_record(
        actor=csr,
        instance=key,
        action="updated",
        changes=changes_between(before, snapshot(key, ["name"])),
        reason="Renamed with the server",
    )
    audit_record(actor=admin, instance=key, action="revoked")
    # then
    trail = list(audit_events_for(key))
    assert [(e.action, e.actor, e.reason) for e in trail] == [
        ("revoked", admin, ""),
        ("updated", csr, "Renamed with the server"),
    ]
    assert trail[1].changes == {"name": ["Mediation 1", "Mediation 2"]}
    assert trail[1].object_repr == str(key)


def test_an_audited_change_needs_an_actor(admin):
    # given
    key = a_record(admin)
    # when / then
    with pytest.raises(ValueError, match="needs the user"):
        audit_record(actor=None, instance=key, action="updated")
    assert not AuditEvent.objects.exists()


def test_dates_are_kept_as_iso_strings():
    assert changes_between({"valid_to": None}, {"valid_to": date(2026, 5, 1)}) == {
        "valid_to": [None, "2026-05-01"]
    }


def test_a_new_record_is_described_by_the_values_it_was_given():
    # when
    changes = changes_created(
        {"name": "Booster", "zone": "", "plan_codes": [], "valid_to": None, "stackable": False}
    )
    # then: empty values are left out, a false flag is a value
    assert changes == {"name": [None, "Booster"], "stackable": [None, False]}


def test_only_those_who_may_read_the_audit_log_get_its_rows(csr, supervisor, admin):
    # given
    audit_record(actor=admin, instance=a_record(admin), action="issued")
    # when / then
    assert audit_event_qs_for(csr).count() == 0
    assert audit_event_qs_for(supervisor).count() == 1
    assert audit_event_qs_for(admin).count() == 1


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        ("", "—"),
        ("250", "250"),
        (15, "15"),
        (True, "yes"),
        ([], "none"),
        (["data 1024 all", "voice 500 on_net"], "data 1024 all, voice 500 on_net"),
    ],
)
def test_values_read_as_people_expect(value, shown):
    assert audit_value(value) == shown


def test_field_names_read_as_words():
    assert audit_field("credit_limit_amount") == "credit limit amount"
