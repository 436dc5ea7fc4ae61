"""Two-factor set-up in a real browser: a CSR without an authenticator app signs in, is sent to
set one up, saves the recovery codes and lands on the console."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from crm.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _expect():
    from playwright.sync_api import expect

    return expect


def current_code(secret):
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def test_a_csr_sets_up_two_factor_before_the_console(page, sign_in, settings, csr):
    expect = _expect()
    # given: staff must set up two-factor sign-in
    settings.MFA_REQUIRED_ROLES = ["csr", "supervisor", "admin"]
    sign_in(csr)
    # then: sent on to set it up, with the reason; allauth asks for the password once more
    expect(page.locator(".messages")).to_contain_text("Your role requires two-factor sign-in.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.locator("img[alt]").first).to_be_visible()  # the QR code
    # when: the code the app shows
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(current_code(secret))
    page.get_by_role("button", name="Activate").click()
    # then: the recovery codes, and the way on to the console
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    expect(page.locator("#recovery_codes")).to_be_visible()
    page.get_by_role("link", name="Continue to CSR console →").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.get_by_role("searchbox")).to_be_visible()
    assert Authenticator.objects.filter(user=csr, type=Authenticator.Type.TOTP).exists()
