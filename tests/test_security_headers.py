"""Every answer of every front end and the API carries the security headers: a
Content-Security-Policy that allows nothing inline and nothing from elsewhere, a
Permissions-Policy, `no-store` (pages hold someone's data), nosniff, same-origin referrers and no
framing. Static files keep their long cache lifetimes."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from crm.tests.factories import PASSWORD, UserFactory

LOGIN_URL = "/accounts/login/"
REAUTHENTICATE_URL = "/accounts/reauthenticate/"
TOTP_SETUP_URL = "/accounts/2fa/totp/activate/"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
SWITCHED_OFF = ["camera", "microphone", "geolocation", "payment", "usb"]

# (front end, persona, its main page)
PAGES = [
    ("console", "csr", "/console/"),
    ("back office", "admin", "/backoffice/"),
    ("back office catalog", "admin", "/backoffice/catalog/"),
    ("partner list", "admin", "/backoffice/partners/"),
    ("partner portal", "reseller_a", "/partner/"),
    ("self-care", "subscriber", "/my/"),
    ("sign-in", "anonymous", LOGIN_URL),
    ("two-factor", "csr", "/accounts/2fa/"),
    ("password again", "csr", REAUTHENTICATE_URL),
    ("TOTP set-up", "csr", TOTP_SETUP_URL),
    ("Django admin", "superuser", "/admin/"),
    ("API list", "csr", "/api/v1/customers/"),
    ("API docs", "admin", "/api/docs/"),
    ("API docs script", "admin", "/api/docs/?script="),
    ("API schema", "admin", "/api/schema/"),
]


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def sign_in(client: Client, user) -> None:
    """Through the sign-in form, as a person would (the TOTP set-up wants a fresh sign-in)."""
    response = client.post(LOGIN_URL, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content


def policy_of(response) -> dict[str, str]:
    directives = (d.strip() for d in response["Content-Security-Policy"].split(";"))
    return dict(d.split(" ", 1) for d in directives if d)


def assert_security_headers(response, *, policy: bool = True) -> None:
    if policy:
        assert policy_of(response) == POLICY
    features = dict(
        f.strip().split("=", 1) for f in response["Permissions-Policy"].split(",") if f.strip()
    )
    assert {name: features.get(name) for name in SWITCHED_OFF} == dict.fromkeys(SWITCHED_OFF, "()")
    assert "interest-cohort" not in features  # FLoC is gone; browsers warn about the name
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("front_end", "persona", "url"), PAGES, ids=[page[0] for page in PAGES])
def test_each_front_ends_main_page_carries_the_security_headers(
    front_end, persona, url, client, request, customer
):
    # given
    if persona != "anonymous":
        sign_in(client, request.getfixturevalue(persona))
    if url == TOTP_SETUP_URL:  # allauth asks for the password again first
        assert client.post(REAUTHENTICATE_URL, {"password": PASSWORD}).status_code == 302
    # when
    response = client.get(url)
    # then
    assert response.status_code == 200, response.content[:500]
    assert_security_headers(response)


def test_refusals_and_missing_pages_carry_the_security_headers(client, subscriber, customer):
    # given
    client.force_login(subscriber)
    # when
    refused = client.get("/console/")
    missing = client.get("/console/no-such-page/")
    # then
    assert (refused.status_code, missing.status_code) == (403, 404)
    assert_security_headers(refused)
    assert_security_headers(missing)


def test_the_csrf_failure_page_keeps_to_the_policy(client, csr):
    # given: a form sent without its CSRF token
    client.handler.enforce_csrf_checks = True
    client.force_login(csr)
    # when
    response = client.post("/console/customers/new/", {"first_name": "Ann"})
    # then: the project's page, not Django's built-in one with its inline style
    html = response.content.decode()
    assert response.status_code == 403
    assert "The form was not sent" in html
    assert "<style" not in html
    assert "style=" not in html
    assert_security_headers(response)


def test_api_errors_answered_by_the_error_shape_layer_carry_the_security_headers(
    client, csr, settings
):
    # given: a host name not served (Django answers 400 in HTML; the API answers it again as
    # JSON), and a body over the limit (refused before any other layer runs)
    client.force_login(csr)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    # when
    wrong_host = client.get("/api/v1/customers/", headers={"host": "elsewhere.example"})
    too_large = client.post(
        "/api/v1/customers/", json.dumps({"x": "x" * 2000}), content_type="application/json"
    )
    # then: JSON answers in the one error shape, with every header
    assert (wrong_host.status_code, too_large.status_code) == (400, 413)
    assert wrong_host.json()["code"] == "bad_request"
    assert_security_headers(wrong_host)
    assert_security_headers(too_large, policy=False)  # no page to protect: JSON, nosniff


def test_static_files_keep_their_cache_lifetime(client, db, settings):
    # given: WhiteNoise serving straight from the apps' static folders (no collectstatic here)
    settings.WHITENOISE_USE_FINDERS = True
    # when
    response = client.get("/static/css/app.css")
    # then
    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert "max-age" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
