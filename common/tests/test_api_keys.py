"""Issuing and revoking API keys are audited with who did it, never with the secret."""

from __future__ import annotations

import json

import pytest

from common.api_keys import api_key_issue, api_key_revoke
from common.audit import audit_events_for
from common.errors import ApplicationError
from common.models import AuditEvent


def test_issuing_a_key_is_audited_without_its_secret(admin):
    # when
    key, secret = api_key_issue(
        actor=admin,
        name="Mediation 1",
        permissions=["crm.view_any_customer", "crm.add_interaction"],
    )
    # then
    [event] = audit_events_for(key)
    assert (event.action, event.actor, event.object_repr) == ("issued", admin, str(key))
    assert event.changes == {
        "name": [None, "Mediation 1"],
        "prefix": [None, key.prefix],
        "permissions": [None, ["crm.add_interaction", "crm.view_any_customer"]],
    }
    stored = json.dumps([event.changes, event.object_repr, event.reason])
    assert secret not in stored
    assert secret.split(".", 1)[1] not in stored
    assert key.key_hash not in stored


def test_revoking_a_key_is_audited_with_who_revoked_it(admin, supervisor):
    # given
    key, _ = api_key_issue(actor=admin, name="Switch", permissions=["crm.add_interaction"])
    # when
    api_key_revoke(api_key=key, actor=supervisor)
    # then
    revoked, issued = audit_events_for(key)
    assert (revoked.action, revoked.actor, revoked.changes) == (
        "revoked",
        supervisor,
        {"status": ["active", "revoked"]},
    )
    assert (issued.action, issued.actor) == ("issued", admin)


def test_a_refused_issue_or_revoke_records_nothing(admin):
    # given
    key, _ = api_key_issue(actor=admin, name="Switch", permissions=["crm.add_interaction"])
    api_key_revoke(api_key=key, actor=admin)
    before = AuditEvent.objects.count()
    # when
    with pytest.raises(ApplicationError):
        api_key_issue(actor=admin, name="", permissions=[])
    with pytest.raises(ApplicationError):
        api_key_revoke(api_key=key, actor=admin)
    # then
    assert AuditEvent.objects.count() == before
