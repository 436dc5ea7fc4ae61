"""The two-factor gate: staff (and any role the operator adds) set up an authenticator app before
they use their front end, the Django admin or the API with their session; machines with API
keys are never stopped. tests/fixtures.py turns the gate off for every other test."""

from __future__ import annotations

import re

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse
from rest_framework.test import APIClient

from common.api_keys import api_key_issue
from common.mfa import two_factor_required_roles, two_factor_setup_required
from common.roles import Role
from crm.management.commands.start import demo_environment
from crm.tests.factories import PASSWORD, UserFactory
from tests.test_auth import NOW, is_signed_in, sign_in, totp_code

SET_UP = "/accounts/2fa/totp/activate/"
API_URL = "/api/v1/customers/"
STAFF_DEFAULT = ["csr", "supervisor", "admin"]
FRONT_END = {
    "csr": "/console/",
    "supervisor": "/console/",
    "admin": "/backoffice/",
    "reseller_a": "/partner/",
    "subscriber": "/my/",
}
GATE_REFUSAL = {
    "message": "Two-factor sign-in is required for your role and is not set up. Set up an "
    "authenticator app at /accounts/2fa/totp/activate/ before using the API with your session.",
    "code": "two_factor_required",
    "extra": {"fields": {}},
}


@pytest.fixture
def gate_on(settings):
    """The gate as settings.py sets it by default: the three staff roles."""
    settings.MFA_REQUIRED_ROLES = STAFF_DEFAULT


def with_totp(user):
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


# --- who is stopped -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["csr", "supervisor", "admin"])
def test_staff_without_totp_are_sent_to_set_it_up_before_their_front_end(
    client, request, gate_on, role
):
    # given
    client.force_login(request.getfixturevalue(role))
    # when
    response = client.get(FRONT_END[role])
    # then
    assert response.status_code == 302
    assert response["Location"] == SET_UP
    assert any("requires two-factor sign-in" in text for text in messages_of(response))


@pytest.mark.parametrize("role", ["csr", "supervisor", "admin"])
def test_staff_without_totp_are_refused_the_api_with_their_session(request, gate_on, role):
    # given
    api = APIClient()
    api.force_login(request.getfixturevalue(role))
    # when
    read = api.get(API_URL)
    write = api.post(API_URL, {"kind": "individual"}, format="json")
    # then
    assert (read.status_code, read.json()) == (403, GATE_REFUSAL)
    assert (write.status_code, write.json()) == (403, GATE_REFUSAL)


@pytest.mark.parametrize("role", ["reseller_a", "subscriber"])
def test_resellers_and_subscribers_are_not_stopped_by_default(client, request, gate_on, role):
    # given
    user = request.getfixturevalue(role)
    client.force_login(user)
    api = APIClient()
    api.force_login(user)
    # when
    page = client.get(FRONT_END[role])
    listing = api.get(API_URL)
    # then
    assert page.status_code == 200
    assert listing.status_code == 200


@pytest.mark.parametrize(
    ("role", "setting"), [("reseller_a", "reseller"), ("subscriber", "subscriber")]
)
def test_resellers_and_subscribers_are_stopped_when_the_operator_adds_their_role(
    client, request, settings, role, setting
):
    # given
    settings.MFA_REQUIRED_ROLES = [*STAFF_DEFAULT, setting]
    user = request.getfixturevalue(role)
    client.force_login(user)
    api = APIClient()
    api.force_login(user)
    # when
    page = client.get(FRONT_END[role])
    listing = api.get(API_URL)
    # then
    assert (page.status_code, page["Location"]) == (302, SET_UP)
    assert (listing.status_code, listing.json()) == (403, GATE_REFUSAL)


def test_the_operator_can_require_it_of_nobody(client, settings, csr):
    # given
    settings.MFA_REQUIRED_ROLES = []
    client.force_login(csr)
    # when
    response = client.get("/console/")
    # then
    assert response.status_code == 200


def test_a_superuser_counts_as_an_admin_and_is_stopped_at_the_django_admin(client, gate_on, db):
    # given
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(root)
    # when
    response = client.get("/admin/")
    # then
    assert (response.status_code, response["Location"]) == (302, SET_UP)


def test_htmx_requests_are_told_to_load_the_set_up_page(client, gate_on, csr):
    # given
    client.force_login(csr)
    # when
    response = client.get("/console/", headers={"HX-Request": "true"})
    # then
    assert response.status_code == 200
    assert response["HX-Redirect"] == SET_UP


# --- who gets through -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["csr", "supervisor", "admin"])
def test_staff_with_totp_get_through(client, request, gate_on, role):
    # given
    user = request.getfixturevalue(role)
    with_totp(user)
    client.force_login(user)
    api = APIClient()
    api.force_login(user)
    # when
    page = client.get(FRONT_END[role])
    listing = api.get(API_URL)
    # then
    assert page.status_code == 200
    assert listing.status_code == 200


def test_recovery_codes_alone_do_not_count_as_set_up(gate_on, csr):
    # given: only recovery codes left (the TOTP removed)
    with_totp(csr)
    Authenticator.objects.filter(user=csr, type=Authenticator.Type.TOTP).delete()
    # when
    required = two_factor_setup_required(csr)
    # then
    assert required is True


def test_api_keys_are_never_stopped(gate_on, csr, admin):
    # given: a key, used alone and alongside a gated person's session
    _, secret = api_key_issue(actor=admin, name="Mediation", permissions=["crm.view_any_customer"])
    alone = APIClient()
    alone.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    beside_session = APIClient()
    beside_session.force_login(csr)
    beside_session.credentials(HTTP_X_API_KEY=secret)
    # when
    responses = [alone.get(API_URL), beside_session.get(API_URL)]
    # then
    assert [response.status_code for response in responses] == [200, 200]


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Api-Key "},
        {"HTTP_AUTHORIZATION": "Api-Key    "},
        {"HTTP_X_API_KEY": " "},
    ],
    ids=["empty-authorization", "blank-authorization", "blank-x-api-key"],
)
def test_an_empty_api_key_header_does_not_skip_the_gate(client, gate_on, csr, headers):
    # given: a gated person's session, with a key header that carries no key
    client.force_login(csr)
    # when
    page = client.get("/console/", **headers)
    listing = client.get(API_URL, **headers)
    # then
    assert page.status_code == 302
    assert page["Location"] == reverse("mfa_activate_totp")
    assert listing.status_code == 403
    assert listing.json()["code"] == "two_factor_required"


def test_a_key_header_on_a_page_does_not_skip_the_gate(client, gate_on, csr, admin):
    # given: a real key, sent to a page (pages never take keys: the session is used)
    _, secret = api_key_issue(actor=admin, name="Mediation", permissions=["crm.view_any_customer"])
    client.force_login(csr)
    # when
    page = client.get("/console/", HTTP_AUTHORIZATION=f"Api-Key {secret}")
    # then
    assert page.status_code == 302
    assert page["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/accounts/2fa/", 200),
        ("/accounts/2fa/recovery-codes/", 404),  # allauth's own answer: there are none yet
        ("/accounts/password/change/", 200),
        ("/accounts/reauthenticate/", 200),
        ("/accounts/email/", 200),
    ],
)
def test_allauths_own_pages_stay_open_to_a_stopped_user(client, gate_on, csr, url, status):
    # given
    client.force_login(csr)
    # when
    response = client.get(url)
    # then
    assert response.status_code == status


def test_a_stopped_user_can_sign_out(client, gate_on, csr):
    # given
    client.force_login(csr)
    # when
    response = client.post("/accounts/logout/")
    # then
    assert response.status_code == 302
    assert not is_signed_in(client)


def test_the_set_up_page_itself_is_open_to_a_stopped_user(client, gate_on, csr):
    # given
    sign_in(client, csr.email)
    # when: allauth asks for the password again before a new authenticator is added
    response = client.get(SET_UP, follow=True)
    # then
    [(reauthenticate, _)] = response.redirect_chain
    assert reauthenticate == f"/accounts/reauthenticate/?next={SET_UP.replace('/', '%2F')}"
    assert client.post(reauthenticate, {"password": PASSWORD})["Location"] == SET_UP
    assert client.get(SET_UP).status_code == 200


# --- the whole way through ------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_csr_signs_in_sets_up_totp_saves_the_codes_and_lands_on_the_console(client, gate_on, csr):
    # given: the password is right; the console sends the CSR on to set up, where allauth
    # asks for the password once more, showing why
    landing = sign_in(client, csr.email)
    assert landing["Location"] == "/console/"
    stopped = client.get("/console/")
    assert stopped["Location"] == SET_UP
    confirm = client.get(SET_UP, follow=True)
    assert "Your role requires two-factor sign-in." in confirm.content.decode()
    client.post(confirm.redirect_chain[-1][0], {"password": PASSWORD})
    html = client.get(SET_UP).content.decode()
    secret = re.search(r'id="authenticator_secret"\s+value="([A-Z2-7]+)"', html).group(1)
    # when
    activated = client.post(SET_UP, {"code": totp_code(secret)})
    # then: the recovery codes are shown once, with the way on to the console
    assert activated.status_code == 302
    assert activated["Location"] == "/accounts/2fa/recovery-codes/"
    codes = client.get(activated["Location"]).content.decode()
    assert 'id="recovery_codes"' in codes
    assert '<a href="/console/" class="button" id="continue-to-frontend">' in codes
    assert client.get("/console/").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_staff_with_totp_are_asked_for_the_code_at_sign_in_with_the_gate_on(
    client, gate_on, supervisor
):
    # given
    secret = with_totp(supervisor)
    # when
    response = sign_in(client, supervisor.email)
    # then
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert not is_signed_in(client)
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert done["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


# --- settings and the demo ------------------------------------------------------------------


def test_the_sign_in_page_says_when_two_factor_is_not_required(client, settings, db):
    # given
    settings.MFA_REQUIRED_ROLES = []
    # when
    off = client.get("/accounts/login/").content.decode()
    settings.MFA_REQUIRED_ROLES = STAFF_DEFAULT
    on = client.get("/accounts/login/").content.decode()
    # then
    assert "Two-factor sign-in is not required on this demo" in off
    assert "Two-factor sign-in is not required" not in on


def test_every_role_can_be_named_in_the_setting(settings):
    # given
    settings.MFA_REQUIRED_ROLES = [role.name.lower() for role in Role]
    # when
    roles = two_factor_required_roles()
    # then
    assert roles == list(Role)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ""),
        ({"MFA_REQUIRED_ROLES": "csr,supervisor,admin"}, "csr,supervisor,admin"),
    ],
)
def test_the_demo_requires_two_factor_of_nobody_unless_told_otherwise(environ, expected):
    # when
    environment = demo_environment({"PATH": "/usr/bin", **environ})
    # then
    assert environment["MFA_REQUIRED_ROLES"] == expected
    assert environment["PATH"] == "/usr/bin"
