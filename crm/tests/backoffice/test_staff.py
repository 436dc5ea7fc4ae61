"""The staff page: supervisors (from the console) and admins (from the back office) see whose
two-factor sign-in is set up and reset it after a lost phone, with a reason; nobody else may."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.urls import reverse

from common.models import AuditEvent
from common.roles import Role
from crm.tests.factories import PASSWORD, UserFactory

LIST_URL = "/backoffice/staff/"


def reset_url(user):
    return reverse("crm:staff-two-factor-reset", args=[user.public_id])


def with_two_factor(user):
    TOTP.activate(user, generate_totp_secret())
    RecoveryCodes.activate(user)
    return user


@pytest.fixture
def other_admin(db):
    return with_two_factor(UserFactory(email="admin2@example.com", role=Role.ADMIN))


@pytest.fixture
def other_supervisor(db):
    return with_two_factor(UserFactory(email="supervisor2@example.com", role=Role.SUPERVISOR))


@pytest.fixture
def targets(csr, supervisor, admin, other_admin, other_supervisor):
    for user in (csr, supervisor, admin):
        with_two_factor(user)
    return {
        "csr": csr,
        "supervisor": supervisor,
        "admin": admin,
        "other_admin": other_admin,
        "other_supervisor": other_supervisor,
    }


def sign_in_as(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def unchanged(user):
    return Authenticator.objects.filter(user=user).count() == 2


# --- the list -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("csr", 403),
        ("supervisor", 200),
        ("admin", 200),
        ("reseller_a", 403),
        ("subscriber", 403),
        ("anonymous", 302),
    ],
)
def test_the_staff_page_opens_for_supervisors_and_admins_only(client, request, db, role, status):
    # given
    sign_in_as(client, request, role)
    # when
    response = client.get(LIST_URL)
    # then
    assert response.status_code == status
    if role == "anonymous":
        assert response["Location"] == f"/accounts/login/?next={LIST_URL}"


def test_a_supervisor_sees_their_csrs_in_the_console(client, targets):
    # given
    client.force_login(targets["supervisor"])
    newcomer = UserFactory(email="new-csr@example.com", role=Role.CSR)
    # when
    html = client.get(LIST_URL).content.decode()
    # then
    assert "frontend-console" in html
    assert targets["csr"].email in html
    assert newcomer.email in html
    assert '<span class="badge active">Set up</span>' in html
    assert '<span class="badge pending">Not set up</span>' in html
    for other in ("admin", "other_admin", "other_supervisor"):
        assert targets[other].email not in html
    assert f'href="{reset_url(targets["csr"])}"' in html


def test_an_admin_sees_every_other_staff_member_in_the_back_office(client, targets):
    # given
    client.force_login(targets["admin"])
    # when
    html = client.get(LIST_URL).content.decode()
    # then
    assert "frontend-backoffice" in html
    for other in ("csr", "supervisor", "other_admin", "other_supervisor"):
        assert targets[other].email in html
    assert f'href="{reset_url(targets["admin"])}"' not in html  # not themselves


@pytest.mark.parametrize(
    ("role", "linked"), [("csr", False), ("supervisor", True), ("admin", True)]
)
def test_the_staff_page_is_in_the_menu_of_those_who_may_open_it(client, request, role, linked):
    # given
    user = request.getfixturevalue(role)
    client.force_login(user)
    home = "/backoffice/" if role == "admin" else "/console/"
    # when
    html = client.get(home).content.decode()
    # then
    assert (f'<a href="{LIST_URL}">Staff</a>' in html) is linked


# --- the reset ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "target", "status"),
    [
        ("supervisor", "csr", 302),
        ("supervisor", "other_supervisor", 404),
        ("supervisor", "admin", 404),
        ("supervisor", "supervisor", 404),
        ("admin", "csr", 302),
        ("admin", "supervisor", 302),
        ("admin", "other_admin", 302),
        ("admin", "admin", 404),
        ("csr", "csr", 403),
        ("csr", "supervisor", 403),
        ("reseller_a", "csr", 403),
        ("subscriber", "csr", 403),
        ("anonymous", "csr", 302),
    ],
)
def test_each_role_resets_only_whom_it_may(client, request, targets, role, target, status):
    # given
    sign_in_as(client, request, role)
    person = targets[target]
    # when
    form = client.get(reset_url(person))
    response = client.post(reset_url(person), {"reason": "Phone lost"})
    # then
    assert response.status_code == status
    assert form.status_code == (200 if status == 302 and role != "anonymous" else status)
    done = status == 302 and role != "anonymous"
    assert unchanged(person) is not done
    assert AuditEvent.objects.filter(action="two-factor reset").count() == int(done)
    if done:
        assert response["Location"] == LIST_URL
    elif role == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")


def test_the_confirmation_asks_for_a_reason(client, targets):
    # given
    client.force_login(targets["supervisor"])
    # when
    html = client.get(reset_url(targets["csr"])).content.decode()
    # then
    assert "Reset the two-factor sign-in of" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<textarea name="reason"' in html
    assert '<button type="submit" class="danger">Reset two-factor sign-in</button>' in html


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reset_without_a_reason_is_refused_with_a_clear_error(client, targets, reason):
    # given
    client.force_login(targets["admin"])
    # when
    response = client.post(reset_url(targets["csr"]), {"reason": reason})
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved." in html
    assert "Say why the two-factor sign-in is reset." in html
    assert unchanged(targets["csr"])
    assert not AuditEvent.objects.exists()


def test_a_reset_without_the_csrf_token_is_refused(targets):
    # given
    client = Client(enforce_csrf_checks=True)
    client.force_login(targets["admin"])
    # when
    response = client.post(reset_url(targets["csr"]), {"reason": "Phone lost"})
    # then
    assert response.status_code == 403
    assert unchanged(targets["csr"])


def test_a_reset_says_what_happened_and_the_list_shows_it(client, targets):
    # given
    client.force_login(targets["supervisor"])
    # when
    response = client.post(reset_url(targets["csr"]), {"reason": "Phone lost"}, follow=True)
    # then
    html = response.content.decode()
    assert f"The two-factor sign-in of {targets['csr']} was reset." in html
    assert '<span class="badge pending">Not set up</span>' in html
    event = AuditEvent.objects.get(action="two-factor reset")
    assert (event.actor, event.reason, event.object_pk) == (
        targets["supervisor"],
        "Phone lost",
        str(targets["csr"].pk),
    )


def test_someone_without_an_authenticator_has_nothing_to_reset(client, admin, csr):
    # given
    client.force_login(admin)
    # when
    page = client.get(reset_url(csr)).content.decode()
    response = client.post(reset_url(csr), {"reason": "Phone lost"})
    # then
    assert "there is nothing to reset" in page
    assert "<form" not in page.split("<main", 1)[1]
    assert response.status_code == 200
    assert "has no two-factor sign-in set up: there is nothing to reset." in (
        response.content.decode()
    )
    assert not AuditEvent.objects.exists()


def test_after_a_reset_the_person_must_set_up_two_factor_again_at_sign_in(
    client, settings, targets
):
    # given: the gate on, and the CSR's phone reset by their supervisor
    settings.MFA_REQUIRED_ROLES = ["csr", "supervisor", "admin"]
    client.force_login(targets["supervisor"])
    client.post(reset_url(targets["csr"]), {"reason": "Phone lost"})
    # when: the CSR signs in with the password alone
    csr_client = Client()
    signed_in = csr_client.post(
        "/accounts/login/", {"login": targets["csr"].email, "password": PASSWORD}
    )
    # then: no code is asked, and the console sends them to set up a new app
    assert signed_in["Location"] == "/console/"
    assert csr_client.get("/console/")["Location"] == "/accounts/2fa/totp/activate/"


def test_the_reset_is_read_in_the_audit_log(client, targets):
    # given
    client.force_login(targets["supervisor"])
    client.post(reset_url(targets["csr"]), {"reason": "Phone lost"})
    # when
    response = client.get("/backoffice/audit/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Two-factor reset" in html or "two-factor reset" in html
    assert "Phone lost" in html
    assert str(targets["csr"]) in html
