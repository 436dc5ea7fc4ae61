"""Every front end works under its Content-Security-Policy, in a real browser: each kind of user
signs in and opens their main pages, and nothing is refused (no inline script, style or event
handler, nothing from another host) and nothing breaks (no console error, no uncaught error).

The browser reports a refused script or style as a `securitypolicyviolation` event, which a
script added before every page records; the console errors come through Playwright."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from crm.tests.factories import PASSWORD, PartnerFactory, UserFactory
from orders.tests.factories import PricePlanFactory
from orders.tests.inventory_factories import MsisdnFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.violatedDirective} refused ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile || document.URL}:${event.lineNumber}) ${event.sample}`
  );
});
"""


def _expect():
    from playwright.sync_api import expect

    return expect


class Watch:
    """What went wrong on the pages a test opened, page by page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: Any) -> None:
        # The site has no favicon yet: the browser's own guess at /favicon.ico is not a page's.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            self.errors.append(f"console error on {self.page.url}: {message.text}")

    def problems(self) -> list[str]:
        """Violations on the page shown now, and every error so far; then starts afresh."""
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.cspViolations || []")
        found = [f"CSP on {self.page.url}: {v}" for v in violations] + self.errors
        self.errors = []
        self.page.evaluate("window.cspViolations = []")
        return found

    def open(self, url: str) -> Any:
        """Open a page as a person would, and check it came with the policy and kept to it."""
        response = self.page.goto(url)
        assert response is not None
        assert response.status == 200, (url, response.status)
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        assert self.problems() == [], url
        return response


@pytest.fixture
def watch(page: Any) -> Watch:
    return Watch(page)


@pytest.fixture
def superuser(db: None) -> Any:
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def test_the_watch_sees_an_inline_script_and_style(watch, page, live_server):
    """The check itself: a page that breaks the policy is caught (served here with the site's
    own header, so the test cannot pass by looking away)."""
    # given
    policy = page.request.get(f"{live_server.url}/accounts/login/").headers[
        "content-security-policy"
    ]
    page.route(
        "**/inline-test/",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": policy},
            body='<p style="color: red">x</p><script>document.title = "ran"</script>',
        ),
    )
    # when
    page.goto(f"{live_server.url}/inline-test/")
    # then
    problems = watch.problems()
    assert any("script-src" in p and "inline" in p for p in problems), problems
    assert any("style-src" in p and "inline" in p for p in problems), problems
    assert page.title() != "ran"


def test_sign_in_pages_keep_to_the_policy(watch):
    # then
    watch.open("/accounts/login/")
    watch.open("/accounts/password/reset/")


def test_csr_console_keeps_to_the_policy(watch, sign_in, page, csr, line, customer):
    expect = _expect()
    account = line.account
    PricePlanFactory(code="basic", name="Basic 10GB")
    MsisdnFactory(number="+447500900123")
    # given
    sign_in(csr)
    expect(page).to_have_url(re.compile(r"/console/$"))
    assert watch.problems() == []
    # when: search as you type (htmx, with its indicator)
    page.get_by_role("searchbox").press_sequentially("Lovelace", delay=20)
    expect(page.locator("#search-results")).to_contain_text("Ada Lovelace")
    # then
    assert watch.problems() == []
    # when
    watch.open(reverse("crm:customer-detail", args=[customer.public_id]))
    watch.open(reverse("orders:order-new-connection", args=[account.public_id]))
    page.get_by_label(re.compile("Basic 10GB")).check()
    expect(page.locator("#extras")).to_contain_text("Add-ons allowed on Basic 10GB")
    page.get_by_label("Number contains").press_sequentially("123", delay=30)
    expect(page.locator("#number-choices label")).to_have_count(1)
    # and a barcode scanner ends the ICCID with Enter
    page.evaluate("window.stillHere = true")
    page.get_by_label("SIM number (ICCID)").fill("8944000000000000001")
    page.get_by_label("SIM number (ICCID)").press("Enter")
    page.get_by_label("Number contains").press("Enter")
    page.wait_for_timeout(300)
    # then: the form was not sent (the page never reloaded), and htmx ran without eval
    assert page.evaluate("window.stillHere") is True
    expect(page.locator(".field-error")).to_have_count(0)
    assert watch.problems() == []


def test_two_factor_set_up_keeps_to_the_policy(watch, sign_in, page, csr):
    expect = _expect()
    # given
    sign_in(csr)
    watch.open("/accounts/2fa/")
    # when: setting up an authenticator app asks for the password again
    page.goto("/accounts/2fa/totp/activate/")
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    # then: the QR code (a data: image) is drawn
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    qr = page.locator("main form img")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert watch.problems() == []


def test_back_office_and_api_docs_keep_to_the_policy(watch, sign_in, page, admin, partner_a):
    expect = _expect()
    kiosk = PartnerFactory(code="alpha-kiosk", name="Alpha Kiosk", parent=partner_a)
    PartnerFactory(code="alpha-kiosk-2", name="Alpha Kiosk Two", parent=kiosk)
    # given
    sign_in(admin)
    expect(page).to_have_url(re.compile(r"/backoffice/$"))
    assert watch.problems() == []
    # then
    watch.open("/backoffice/catalog/")
    watch.open("/backoffice/inventory/")
    watch.open("/backoffice/partners/")
    # the tree is indented by level, with classes instead of inline styles
    widths = page.locator("td .tree-indent").evaluate_all(
        "spans => spans.map(span => span.getBoundingClientRect().width)"
    )
    assert widths[0] == 0
    assert 0 < widths[1] < widths[2]
    # the usage pages: batches, the reject queue, CSV mappings and the upload form
    for url in ("/backoffice/usage/", "/backoffice/usage/rejects/",
                "/backoffice/usage/mappings/new/", "/backoffice/usage/upload/"):  # fmt: skip
        watch.open(url)
    # and the API docs draw the schema with Swagger UI
    watch.open("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("TeleCRM API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert watch.problems() == []


def test_partner_portal_keeps_to_the_policy(watch, sign_in, page, reseller_a, line, customer):
    expect = _expect()
    # given
    sign_in(reseller_a)
    expect(page).to_have_url(re.compile(r"/partner/$"))
    assert watch.problems() == []
    # then
    watch.open(reverse("partners:customer-detail", args=[customer.public_id]))


def test_self_care_keeps_to_the_policy(watch, sign_in, page, subscriber, line, customer):
    expect = _expect()
    # given
    sign_in(subscriber)
    expect(page).to_have_url(re.compile(r"/my/$"))
    assert watch.problems() == []
    # then
    watch.open(reverse("selfcare:line-detail", args=[line.public_id]))


def test_django_admin_keeps_to_the_policy(watch, sign_in, page, superuser, line, customer):
    expect = _expect()
    # given
    sign_in(superuser)
    # then
    watch.open("/admin/")
    watch.open(reverse("admin:crm_customer_changelist"))
    watch.open(reverse("admin:crm_customer_change", args=[customer.pk]))
    expect(page.locator("#content h1")).to_be_visible()
    watch.open(reverse("admin:crm_subscriber_changelist"))
