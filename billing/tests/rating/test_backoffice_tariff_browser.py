"""An admin edits a tariff draft in a real browser (a row added over htmx), publishes it and
asks what a call would cost, with no console error and no CSP violation."""

from __future__ import annotations

from typing import Any

import pytest

from billing.rating.models import TariffVersion
from billing.tests.rating.tariff_samples import sample_tariff
from tests.browser.conftest import browser, page, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_an_admin_edits_a_draft_publishes_it_and_gets_a_quote(admin, page, sign_in):  # noqa: F811
    # given
    expect = _expect()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    draft = sample_tariff(admin).versions.get()
    sign_in(admin)
    # when: a premium-rate destination is added to the draft
    page.goto(f"/backoffice/tariffs/versions/{draft.public_id}/")
    panel = page.locator("section#destinations")
    panel.locator("summary").click()
    panel.get_by_label("Id").fill("GB_PREMIUM")
    panel.get_by_label("Prefixes").fill("449")
    panel.get_by_role("button", name="Add").click()
    # then: the sections come back over htmx with the new row
    expect(
        page.locator("section#destinations").get_by_role("cell", name="GB_PREMIUM", exact=True)
    ).to_be_visible()
    # when: the draft is published now
    page.get_by_role("link", name="Publish…").click()
    page.get_by_label("Reason").fill("Launch of the UK sample tariff")
    page.get_by_role("button", name="Publish").click()
    # then
    expect(page.locator(".messages")).to_contain_text("is published")
    draft.refresh_from_db()
    assert draft.status == TariffVersion.Status.PUBLISHED
    # when: 95 s to a UK mobile is quoted
    page.get_by_role("link", name="What would this cost?").first.click()
    page.get_by_label("Tariff or plan").select_option("tariff:uk-sample")
    page.get_by_label("Destination number").fill("447700900123")
    page.get_by_label("Usage").fill("95")
    page.get_by_role("button", name="Rate it").click()
    # then
    expect(page.locator("#cost-heading")).to_contain_text("GBP")
    expect(page.locator("#quote table")).to_contain_text("RT_MOBILE")
    # when: a number the tariff has no rate for
    page.get_by_label("Destination number").fill("33612345678")
    page.get_by_role("button", name="Rate it").click()
    # then
    expect(page.locator("#quote .message.error")).to_contain_text("no_rate_for_destination")
    assert errors == []
