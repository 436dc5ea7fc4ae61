"""The re-rating pages: start a re-rate by numbers, read the preview, commit or discard with a
reason; who may use them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from billing.models import Charge
from billing.tests.usage.records import record
from billing.usage.models import UsageRecord
from billing.usage.rerating_models import RerateRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _corrected_tariff(settings: Any) -> None:
    settings.USAGE_TARIFF_RESOLVER = "billing.tests.usage.test_rerate.corrected"


def _start(client: Any, **data: str) -> Any:
    form = {
        "msisdns": "07400 123456",
        "plan_code": "",
        "tariff_code": "",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        "reason": "Rate corrected",
    }
    return client.post(reverse("rerating:run-start"), {**form, **data})


def test_start_preview_commit(client: Any, supervisor: Any, line: Any) -> None:
    # given
    billed = record(line, started_at=datetime(2026, 11, 2, tzinfo=UTC), charge="0.1000",
                    status="billed")  # fmt: skip
    client.force_login(supervisor)
    # when
    started = _start(client)
    run = RerateRun.objects.get()
    preview = client.get(reverse("rerating:run-detail", args=[run.public_id]))
    committed = client.post(
        reverse("rerating:run-commit", args=[run.public_id]), {"reason": "Looks right"}
    )
    again = client.post(reverse("rerating:run-commit", args=[run.public_id]), {"reason": "Again"})
    # then
    assert started.status_code == 302
    body = preview.content.decode()
    assert f'data-record="{billed.pk}"' in body
    assert "£0.10" in body
    assert "£0.20" in body
    assert "+44 7400 123456" in body  # the line by its number, never its internal key
    assert f"#{line.pk}" not in body
    assert committed.status_code == 302
    run.refresh_from_db()
    assert run.status == "committed"
    assert again.status_code == 400
    assert "already committed" in again.content.decode()
    [charge] = Charge.objects.all()
    assert charge.amount == Decimal("0.1000")


def test_unknown_number_is_named_and_nothing_is_started(
    client: Any, supervisor: Any, line: Any
) -> None:
    # given
    client.force_login(supervisor)
    # when
    r = _start(client, msisdns="07400 123456, 07400 999999")
    # then
    assert r.status_code == 200
    assert "No line has +447400999999" in r.content.decode()
    assert not RerateRun.objects.exists()


def test_discard_needs_a_reason(client: Any, supervisor: Any, line: Any) -> None:
    # given
    client.force_login(supervisor)
    _start(client)
    run = RerateRun.objects.get()
    # when
    refused = client.post(reverse("rerating:run-discard", args=[run.public_id]), {"reason": ""})
    done = client.post(reverse("rerating:run-discard", args=[run.public_id]), {"reason": "Oops"})
    # then
    assert refused.status_code == 400
    assert done.status_code == 302
    run.refresh_from_db()
    assert run.status == "discarded"


@pytest.mark.parametrize(
    ("_case", "actor", "status"),
    [
        ("CSR", "csr", 403),
        ("reseller", "reseller_a", 403),
        ("subscriber", "subscriber", 403),
        ("supervisor", "supervisor", 302),
        ("admin", "admin", 302),
    ],
)
def test_only_supervisors_and_admins_rerate(
    _case: str, actor: str, status: int, request: Any, client: Any, line: Any
) -> None:
    # given
    record(line, started_at=datetime(2026, 11, 2, tzinfo=UTC), charge="0.1000")
    client.force_login(request.getfixturevalue(actor))
    # when
    r = _start(client)
    # then
    assert r.status_code == status
    assert RerateRun.objects.exists() is (status == 302)
    assert UsageRecord.objects.get().charge_amount == Decimal("0.1000")


def test_a_lines_usage_page_offers_to_rerate_it(client: Any, supervisor: Any, line: Any) -> None:
    # given
    client.force_login(supervisor)
    usage = client.get(
        reverse("crm:line-usage", args=[line.public_id]),
        {"period_from": "2026-11-01", "period_to": "2026-11-30"},
    )
    # when
    start = client.get(
        reverse("rerating:run-start"),
        {"msisdns": line.msisdn, "period_start": "2026-11-01", "period_end": "2026-11-30"},
    )
    # then
    assert "Re-rate this line for this period" in usage.content.decode()
    body = start.content.decode()
    assert "+447400123456" in body
    assert 'value="2026-11-01"' in body
