"""An operator uploads an Asterisk CDR file in the back office, watches a real Celery worker
process it chunk by chunk until the page shows its totals, then creates the line a rejected
call came from and recycles that call from the reject queue, in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest

from billing.tests.usage.conftest import asterisk_row, at, csv_text
from billing.tests.usage.worker import celery_worker
from billing.usage.models import UsageBatch, UsageRecord

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

__all__ = ["celery_worker"]

STRANGER = "+447400555555"
DONE_MS = 90_000


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def usage_line(customer: Any) -> Any:
    """A postpaid line on a GBP plan, priced by the usage tests' simple tariff."""
    from crm.tests.factories import SubscriberFactory
    from orders.tests.factories import PricePlanFactory

    plan = PricePlanFactory(code="talk", currency="GBP")
    return SubscriberFactory(
        account__customer=customer, account__currency="GBP", msisdn="+447400123456",
        imsi="234100000000001", status="active", plan=plan,
    )  # fmt: skip


@pytest.fixture
def worker(usage_line: Any, celery_worker: Any) -> None:
    """A Celery worker, started once the settings and the line are in place."""


@pytest.fixture(autouse=True)
def _usage_settings(settings: Any, tmp_path: Any) -> None:
    """Set before the worker starts, which takes them over."""
    from billing.usage import imports
    from billing.usage.lines import rating

    settings.USAGE_TARIFF_RESOLVER = "billing.tests.usage.conftest.fake_resolver"
    settings.TIME_ZONE = "UTC"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.USAGE_CHUNK_SIZE = 1  # one chunk per row: the progress shows
    rating.tiers_clear()
    rating._plan_currency.cache_clear()
    rating._operator_zone.cache_clear()
    imports.partitions_forget()
    imports.contexts_forget()


def master_csv() -> bytes:
    rows = [
        asterisk_row("07400123456", "07700900123", start=at(), billsec=60, uniqueid="1.1"),
        asterisk_row("07400123456", "07700900124", start=at(hour=11), billsec=120, uniqueid="1.2"),
        asterisk_row("07400555555", "07700900123", start=at(hour=12), uniqueid="1.3"),
    ]
    return csv_text(rows).encode()


def test_operator_uploads_a_cdr_file_watches_it_and_recycles_a_reject(
    page, sign_in, admin, customer, usage_line, worker
):
    expect = _expect()
    # given
    sign_in(admin)
    # when: the operator uploads the switch's Master.csv
    page.goto("/backoffice/usage/")
    page.get_by_role("link", name="Upload a file").first.click()
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "Master.csv", "mimeType": "text/csv", "buffer": master_csv()}],
    )
    page.select_option("select[name=format]", "asterisk")
    page.fill("input[name=source]", "pbx-1")
    page.get_by_role("button", name="Upload").click()
    # then: the batch page follows the worker until the batch is done
    expect(page.locator("h1")).to_have_text("Master.csv")
    progress = page.locator("#batch-progress")
    expect(progress).to_have_attribute("data-status", "done", timeout=DONE_MS)
    expect(page.locator("#count-received")).to_have_text("3")
    expect(page.locator("#count-rated")).to_contain_text("2")
    expect(page.locator("#count-rejected")).to_have_text("1")
    expect(progress).to_contain_text("3 of 3 chunks done")
    expect(progress).to_contain_text("unknown_line")

    # when: the missing line is created and the reject recycled from the queue
    from crm.tests.factories import SubscriberFactory

    SubscriberFactory(
        account=usage_line.account, msisdn=STRANGER, imsi="234100000000009", status="active",
        plan=usage_line.plan,
    )  # fmt: skip
    page.locator("#count-rejected").get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Reject queue")
    expect(page.locator("#results")).to_contain_text("07400555555")
    reject = UsageRecord.objects.get(status="rejected")
    page.check(f"#reject-{reject.pk}")
    page.fill("input[name=reason]", "line created for 07400 555555")
    page.get_by_role("button", name="Recycle").click()
    # then
    expect(page.locator(".messages")).to_contain_text(
        re.compile("Recycled 1 record: 1 rated, 0 rejected again")
    )
    expect(page.locator("#results")).to_contain_text("No rejected record matches.")
    batch = UsageBatch.objects.get()
    assert (batch.received_count, batch.rated_count, batch.rejected_count) == (3, 3, 0)
