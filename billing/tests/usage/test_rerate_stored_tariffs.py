"""Re-rating end to end with the tariffs stored in the database: a call rated by version 1, a
correction published from before the call, the re-rate prices it with the correction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from billing.rating.demo import tariffs_demo_ensure
from billing.rating.models import TariffVersion
from billing.rating.plan import TariffPlan
from billing.rating.services import (
    tariff_version_content_replace,
    tariff_version_draft,
    tariff_version_publish,
)
from billing.tests.usage.conftest import asterisk_row, csv_text, write
from billing.tests.usage.test_tariff_timeline import weekday_at_ten
from billing.usage.models import UsageRecord
from billing.usage.rerating import rerate_commit, rerate_preview
from billing.usage.services import usage_batch_ingest_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _stored_tariffs(settings: Any) -> None:
    settings.USAGE_TARIFF_RESOLVER = "billing.rating.timeline.usage_tariff_for_plan"


@pytest.fixture
def tariffs(admin: Any) -> Any:
    return tariffs_demo_ensure(admin)


@pytest.fixture
def plan(db: None, tariffs: Any) -> Any:
    from orders.tests.factories import PricePlanFactory

    return PricePlanFactory(code="talk", currency="GBP", tariff=tariffs["postpaid-standard"])


def test_a_correction_published_from_the_past_is_applied_by_the_rerate(
    line: Any, admin: Any, supervisor: Any, tariffs: Any, tmp_path: Any
) -> None:
    # given: a 60 s peak call to another network's mobile, rated by version 1 (3p to connect,
    # the first minute as a block at 15p)
    start = weekday_at_ten(2)
    rows = [asterisk_row("07400123456", "07700900123", start=start, billsec=60, ring=0,
                         uniqueid="1764000000.21")]  # fmt: skip
    path = write(tmp_path, "Master.csv", csv_text(rows))
    usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx1", actor=admin)
    call = UsageRecord.objects.get(source_record_id="1764000000.21")
    assert call.charge_amount == Decimal("0.1800")
    first = call.tariff_version_id
    assert first is not None
    # and the peak price corrected to 12p, in force from the day before the call
    tariff = tariffs["postpaid-standard"]
    draft = tariff_version_draft(tariff=tariff, actor=admin, reason="Peak price correction")
    content = draft.content
    for rate in content["rates"]:
        if rate["id"] == "RT_MOBILE_PEAK":
            for slot in rate["slots"]:
                slot["price"] = "0.1200"
    draft = tariff_version_content_replace(
        version=draft, actor=admin, plan=TariffPlan.from_dict(content), summary="12p peak"
    )
    corrected = tariff_version_publish(
        version=draft, actor=admin, reason="Peak price correction",
        valid_from=start.replace(hour=0) - timedelta(days=1),
    )  # fmt: skip
    # when
    run = rerate_preview(
        lines=[line], period_start=start.date(), period_end=start.date(), actor=supervisor,
        reason="Peak price correction",
    )  # fmt: skip
    rerate_commit(run=run, actor=supervisor, reason="Checked")
    # then: 3p + 12p
    [item] = run.items.all()
    assert (item.old_amount, item.new_amount) == (Decimal("0.1800"), Decimal("0.1500"))
    call.refresh_from_db()
    assert call.status == UsageRecord.Status.RERATED
    assert call.charge_amount == Decimal("0.1500")
    assert call.tariff_version_id == corrected.pk != first
    assert TariffVersion.objects.get(pk=first).status == TariffVersion.Status.PUBLISHED
    assert run.totals == {"GBP": {"old": "0.1800", "new": "0.1500", "difference": "-0.0300"}}


def test_lines_are_chosen_by_tariff_plan_or_numbers(line: Any, plan: Any) -> None:
    from billing.usage.rerating import rerate_lines_select
    from common.errors import ApplicationError

    # when
    by_tariff, said = rerate_lines_select(tariff_code="postpaid-standard")
    by_plan, _ = rerate_lines_select(plan_code="talk")
    by_number, _ = rerate_lines_select(msisdns="07400 123456\n")
    with pytest.raises(ApplicationError) as both:
        rerate_lines_select(msisdns="07400 123456", plan_code="talk")
    # then
    assert by_tariff == by_plan == by_number == [line]
    assert said == "lines on plans rated by tariff postpaid-standard"
    assert "msisdns" in both.value.fields
