"""Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Never downloads a browser: without /usr/bin/chromium the tests are skipped, or fail on CI.

Playwright's sync API keeps an event loop running in this thread while the browser is open, so
Django would refuse the tests' ORM calls; DJANGO_ALLOW_ASYNC_UNSAFE lifts that, but only while a
module's browser is open: set for the whole session it would leak into other tests (and into the
processes they start, e.g. `manage.py check --deploy` warns about it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(page: Any) -> Any:
    """Sign in through allauth's form, as a person would."""
    from crm.tests.factories import PASSWORD

    def sign_in(user: Any) -> Any:
        page.goto("/accounts/login/")
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form").filter(has=page.locator("input[name=password]")).locator(
            "button[type=submit]"
        ).click()
        page.wait_for_load_state()
        return page

    return sign_in
