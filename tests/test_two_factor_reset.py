"""Resetting a staff member's two-factor sign-in after a lost phone: only within the actor's
reach, with a reason, audited; afterwards the gate asks them to set it up again."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from common.audit import audit_events_for
from common.errors import ApplicationError
from common.mfa import staff_qs_for, staff_two_factor_reset, two_factor_setup_required
from common.models import AuditEvent
from common.roles import Role
from crm.tests.factories import PartnerUserFactory, UserFactory


def with_two_factor(user):
    TOTP.activate(user, generate_totp_secret())
    RecoveryCodes.activate(user)
    return user


@pytest.fixture
def people(csr, supervisor, admin, subscriber, reseller_a):
    """Everyone a reset might be aimed at, each with an authenticator app and recovery codes."""
    found = {
        "csr": csr,
        "other_csr": UserFactory(email="csr2@example.com", role=Role.CSR),
        "supervisor": supervisor,
        "other_supervisor": UserFactory(email="supervisor2@example.com", role=Role.SUPERVISOR),
        "admin": admin,
        "other_admin": UserFactory(email="admin2@example.com", role=Role.ADMIN),
        "csr_and_admin": UserFactory(email="both@example.com", role=Role.CSR),
        "superuser": UserFactory(email="root@example.com", is_staff=True, is_superuser=True),
        "subscriber": subscriber,
        "reseller": reseller_a,
    }
    found["csr_and_admin"].groups.add(Group.objects.get(name=Role.ADMIN.value))
    for user in found.values():
        with_two_factor(user)
    return found


def authenticator_count(user):
    return Authenticator.objects.filter(user=user).count()


# --- who may reset whom ---------------------------------------------------------------------

REACH = {
    # a supervisor resets CSRs only
    ("supervisor", "csr"): True,
    ("supervisor", "other_csr"): True,
    ("supervisor", "other_supervisor"): False,
    ("supervisor", "admin"): False,
    ("supervisor", "csr_and_admin"): False,
    ("supervisor", "supervisor"): False,
    ("supervisor", "superuser"): False,
    # an admin resets every other staff member
    ("admin", "csr"): True,
    ("admin", "supervisor"): True,
    ("admin", "other_admin"): True,
    ("admin", "csr_and_admin"): True,
    ("admin", "admin"): False,
    ("admin", "superuser"): False,
    ("admin", "subscriber"): False,
    ("admin", "reseller"): False,
    # a CSR resets nobody's
    ("csr", "other_csr"): False,
    ("csr", "csr"): False,
    # a superuser resets every other staff member and superuser
    ("superuser", "admin"): True,
}


@pytest.mark.parametrize(("actor", "target"), list(REACH))
def test_each_role_resets_only_within_its_reach(people, actor, target):
    # given
    allowed = REACH[(actor, target)]
    actor, target = people[actor], people[target]
    # when
    if allowed:
        staff_two_factor_reset(actor=actor, user=target, reason="Phone lost")
    else:
        with pytest.raises(PermissionDenied):
            staff_two_factor_reset(actor=actor, user=target, reason="Phone lost")
    # then
    assert authenticator_count(target) == (0 if allowed else 2)
    assert AuditEvent.objects.filter(action="two-factor reset").count() == int(allowed)
    assert staff_qs_for(actor).filter(pk=target.pk).exists() is allowed


def test_a_reset_removes_the_app_and_the_recovery_codes_and_is_audited(people, settings):
    # given
    settings.MFA_REQUIRED_ROLES = ["csr", "supervisor", "admin"]
    supervisor, csr = people["supervisor"], people["csr"]
    assert not two_factor_setup_required(csr)
    # when
    removed = staff_two_factor_reset(
        actor=supervisor, user=csr, reason="  Phone lost; called their desk to check  "
    )
    # then
    assert removed == ["recovery_codes", "totp"]
    assert authenticator_count(csr) == 0
    [event] = audit_events_for(csr)
    assert (event.action, event.actor, event.reason) == (
        "two-factor reset",
        supervisor,
        "Phone lost; called their desk to check",
    )
    assert event.changes == {"two_factor": [["recovery_codes", "totp"], []]}
    assert two_factor_setup_required(csr)  # the gate asks them to set it up again


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reset_needs_a_reason(people, reason):
    # given
    admin, csr = people["admin"], people["csr"]
    # when
    with pytest.raises(ApplicationError) as refused:
        staff_two_factor_reset(actor=admin, user=csr, reason=reason)
    # then
    assert refused.value.fields == {
        "reason": ["Say why, e.g. “Phone lost, identity checked by phone call”."]
    }
    assert authenticator_count(csr) == 2
    assert not AuditEvent.objects.exists()


def test_there_is_nothing_to_reset_without_an_authenticator(admin, csr):
    # when
    with pytest.raises(ApplicationError) as refused:
        staff_two_factor_reset(actor=admin, user=csr, reason="Phone lost")
    # then
    assert refused.value.code == "conflict"
    assert "nothing to reset" in refused.value.message
    assert not AuditEvent.objects.exists()


def test_an_api_keys_machine_user_is_not_staff(admin, db):
    # given: a machine user somebody put in a staff group by mistake
    machine = PartnerUserFactory().user
    machine.is_machine = True
    machine.save(update_fields=["is_machine"])
    machine.groups.add(Group.objects.get(name=Role.CSR.value))
    # when
    listed = staff_qs_for(admin)
    # then
    assert machine not in listed
