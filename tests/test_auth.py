"""Signing in: each role lands on its own front end, the others refuse it, failures are
throttled, staff can protect their sign-in with TOTP, and API keys' identities never sign in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.test import Client

from common.api_keys import api_key_issue
from crm.tests.factories import PASSWORD

LOGIN_URL = "/accounts/login/"
FRONT_ENDS = {
    "console": "/console/",
    "backoffice": "/backoffice/",
    "partner": "/partner/",
    "selfcare": "/my/",
}
LANDING = {
    "csr": "console",
    "supervisor": "console",
    "admin": "backoffice",
    "reseller_a": "partner",
    "reseller_b": "partner",
    "subscriber": "selfcare",
    "other_subscriber": "selfcare",
}
NOW = datetime(2025, 6, 2, 10, 0, 5, tzinfo=UTC)


def sign_in(client, email, password=PASSWORD, **environ):
    return client.post(LOGIN_URL, {"login": email, "password": password}, **environ)


def is_signed_in(client):
    return "_auth_user_id" in client.session


def totp_code(secret):
    """The code an authenticator app shows now (time is frozen by the tests)."""
    counter = int(NOW.timestamp()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def wrong_totp_code(secret):
    valid = {format_hotp_value(hotp_value(secret, c)) for c in yield_hotp_counters_from_time()}
    return next(code for code in (f"{n:06d}" for n in range(1_000_000)) if code not in valid)


def failures_before_throttle():
    """The smallest count among the configured login_failed limits ("10/m/ip,5/5m/key")."""
    rules = settings.ACCOUNT_RATE_LIMITS["login_failed"].split(",")
    return min(int(rule.split("/")[0]) for rule in rules)


# --- landing and refusal ---------------------------------------------------------------------


@pytest.mark.parametrize("role", list(LANDING))
def test_each_role_lands_on_its_own_front_end(client, request, role):
    # given
    user = request.getfixturevalue(role)
    # when
    response = sign_in(client, user.email)
    # then
    landing = FRONT_ENDS[LANDING[role]]
    assert response.status_code == 302
    assert response["Location"] == landing
    assert client.get(landing).status_code == 200


@pytest.mark.parametrize("front_end", list(FRONT_ENDS))
@pytest.mark.parametrize("role", [*LANDING, "anonymous"])
def test_each_front_end_refuses_the_other_roles(client, request, db, front_end, role):
    # given
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    url = FRONT_ENDS[front_end]
    # when
    response = client.get(url)
    # then
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN_URL}?next={url}"
    elif LANDING[role] == front_end:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "Not allowed" in response.content.decode()


def test_sign_in_page_renders_in_the_shared_layout(client, db):
    # when
    response = client.get(LOGIN_URL)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert '<main class="container auth-box">' in html
    assert '<label for="id_login">Email</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "sign up" not in html.lower()  # accounts are never opened by sign-up


def test_wrong_password_is_refused_with_a_clear_message(client, csr):
    # when
    response = sign_in(client, csr.email, "not-the-password")
    # then
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert not is_signed_in(client)


def test_security_page_offers_to_activate_an_authenticator_app(client, admin):
    # given
    client.force_login(admin)
    # when
    response = client.get("/accounts/2fa/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "An authenticator app is not active." in html
    assert '<a href="/accounts/2fa/totp/activate/" class="button">' in html
    assert '<a href="/backoffice/">← Back office</a>' in html


# --- throttling -----------------------------------------------------------------------------


@pytest.fixture
def login_limits(settings):
    """At most 10 failures a minute from one address, and 5 in 5 minutes for one login."""
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "10/m/ip,5/5m/key",
    }


@time_machine.travel(NOW, tick=False)
def test_repeated_failed_sign_ins_are_throttled_even_with_the_right_password(
    client, csr, login_limits
):
    # given: five wrong passwords for one login
    for _ in range(5):
        sign_in(client, csr.email, "guess")
    # when
    response = sign_in(client, csr.email)
    # then: 429 with the wait for machines, the message for people
    assert response.status_code == 429
    assert response["Retry-After"] == "300"  # until the first failure leaves the 5-minute window
    assert "Too many failed login attempts" in response.content.decode()
    assert '<label for="id_login">Email</label>' in response.content.decode()
    assert not is_signed_in(client)


@time_machine.travel(NOW, tick=False)
def test_failures_for_many_logins_from_one_address_throttle_that_address(client, csr, login_limits):
    # given: ten wrong guesses from one address, each for another login
    for n in range(10):
        sign_in(client, f"guess-{n}@example.com", "guess")
    # when
    response = sign_in(client, csr.email)
    # then: the per-address window is a minute
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert not is_signed_in(client)


def test_retry_after_counts_down_as_failures_leave_the_window(client, csr, login_limits):
    # given: five failures, the first 100 seconds ago
    with time_machine.travel(NOW, tick=False) as clock:
        for _ in range(5):
            sign_in(client, csr.email, "guess")
            clock.shift(25)
        # when: 100 s after the first failure (which leaves the window at +300 s)
        response = sign_in(client, csr.email)
    # then
    assert response.status_code == 429
    assert response["Retry-After"] == "175"


@time_machine.travel(NOW, tick=False)
def test_a_throttled_address_and_login_do_not_lock_out_someone_else(
    client, csr, supervisor, login_limits
):
    # given: the address 198.51.100.7 and the CSR's login are both throttled
    for _ in range(10):
        sign_in(client, csr.email, "guess", REMOTE_ADDR="198.51.100.7")
    assert sign_in(client, csr.email, REMOTE_ADDR="198.51.100.7").status_code == 429
    # when: the supervisor signs in from another address
    other = Client(REMOTE_ADDR="203.0.113.20")
    response = sign_in(other, supervisor.email)
    # then
    assert response.status_code == 302
    assert is_signed_in(other)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("trusted_proxies", "locked_out"),
    [
        pytest.param(1, False, id="behind a trusted proxy, each client is counted on its own"),
        pytest.param(0, True, id="untrusted, a forged X-Forwarded-For changes nothing"),
    ],
)
def test_throttling_counts_the_client_behind_trusted_proxies(
    client, settings, supervisor, login_limits, trusted_proxies, locked_out
):
    # given: ten failures through the proxy 10.0.0.2 from one client
    settings.TRUSTED_PROXY_COUNT = trusted_proxies
    through_proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(10):
        sign_in(
            client,
            f"guess-{n}@example.com",
            "guess",
            HTTP_X_FORWARDED_FOR="198.51.100.7",
            **through_proxy,
        )
    # when: another client through the same proxy (or the same one with another header)
    other = Client()
    response = sign_in(
        other, supervisor.email, HTTP_X_FORWARDED_FOR="203.0.113.20", **through_proxy
    )
    # then
    assert (response.status_code == 429) is locked_out
    assert is_signed_in(other) is not locked_out


def test_fewer_failures_than_the_limit_still_let_the_right_password_in(client, csr):
    # given
    for _ in range(failures_before_throttle() - 1):
        sign_in(client, csr.email, "guess")
    # when
    response = sign_in(client, csr.email)
    # then
    assert response.status_code == 302
    assert is_signed_in(client)


# --- two-factor sign-in ---------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_staff_with_totp_must_give_the_code_to_sign_in(client, admin):
    # given
    secret = generate_totp_secret()
    TOTP.activate(admin, secret)
    # when: the password is right
    response = sign_in(client, admin.email)
    # then: the code is asked for, and no page opens yet
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert not is_signed_in(client)
    assert client.get("/backoffice/").status_code == 302
    page = client.get("/accounts/2fa/authenticate/")
    assert '<label for="id_code">Code</label>' in page.content.decode()

    # when: a wrong code
    response = client.post("/accounts/2fa/authenticate/", {"code": wrong_totp_code(secret)})
    # then
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert not is_signed_in(client)

    # when: the right code
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    # then
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/"
    assert is_signed_in(client)
    assert client.get("/backoffice/").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_staff_activate_totp_through_the_security_pages(client, admin):
    # given: signed in; activation asks for the password again first
    sign_in(client, admin.email)
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    client.post(response["Location"], {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(r'id="authenticator_secret"\s+value="([A-Z2-7]+)"', page).group(1)
    # when
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": wrong_totp_code(secret)})
    right = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    # then
    assert "Incorrect code." in wrong.content.decode()
    assert right.status_code == 302
    assert Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).count() == 1


# --- machine identities ---------------------------------------------------------------------


def test_an_api_keys_identity_cannot_sign_in_to_pages(client, admin):
    # given: a key's machine user, even one somebody gave a password by mistake
    key, _secret = api_key_issue(
        actor=admin, name="Mediation", permissions=["crm.view_any_customer"]
    )
    machine = key.user
    without_password = sign_in(client, machine.email, "any-password-at-all")
    machine.set_password(PASSWORD)
    machine.save(update_fields=["password"])
    # when
    response = sign_in(client, machine.email)
    # then
    assert without_password.status_code == 200
    assert response.status_code == 200
    assert "are not correct" in response.content.decode()
    assert not is_signed_in(client)


def test_an_api_keys_identity_opens_no_front_end(client, admin):
    # given
    key, _secret = api_key_issue(
        actor=admin, name="Mediation", permissions=["crm.view_any_customer"]
    )
    client.force_login(key.user)
    # when
    statuses = {name: client.get(url).status_code for name, url in FRONT_ENDS.items()}
    # then
    assert statuses == dict.fromkeys(FRONT_ENDS, 403)


def test_forgotten_password_sends_a_reset_link_that_sets_a_new_password(client, csr, mailoutbox):
    # when
    response = client.post("/accounts/password/reset/", {"email": csr.email})
    # then
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = next(w for w in mailoutbox[0].body.split() if "/accounts/password/reset/key/" in w)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": "a-new-long-password-2026", "password2": "a-new-long-password-2026"},
    )
    assert done.status_code == 302
    csr.refresh_from_db()
    assert csr.check_password("a-new-long-password-2026")


def test_reset_for_an_unknown_email_reveals_nothing_and_sends_nothing(client, db, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_the_sign_in_page_leads_to_the_password_reset(client, db):
    # a partner user added in the back office has no password yet: this is how they set one
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in page
