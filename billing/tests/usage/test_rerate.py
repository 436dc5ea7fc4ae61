"""Re-rating a period of chosen lines: the preview's figures, the commit's writes and
adjustments, and commit-once under concurrency."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from billing.balances.services import ledger_post
from billing.models import Charge
from billing.tests.usage.conftest import Call, PerUnitEngine, Priced, grant_allowance
from billing.tests.usage.records import record
from billing.usage.lines import Tariff
from billing.usage.models import UsageRecord
from billing.usage.rerating import rerate_commit, rerate_discard, rerate_preview
from billing.usage.rerating_models import RerateItem, RerateRun
from common.errors import ApplicationError, InvalidTransition

NOV_START, NOV_END = date(2026, 11, 1), date(2026, 11, 30)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


class CorrectedEngine(PerUnitEngine):
    """The corrected tariff: twice the old per-minute and per-message price."""

    def rate_many(self, calls: list[Call]) -> list[Any]:
        return [
            replace(result, cost=result.cost * 2) if isinstance(result, Priced) else result
            for result in super().rate_many(calls)
        ]


def corrected(*, plan_id: int | None) -> Tariff:
    return Tariff(version_id=8, engine=CorrectedEngine(), currency="GBP", describe=Call)


@pytest.fixture
def november(line: Any) -> dict[str, UsageRecord]:
    return {
        "minute": record(line, started_at=at(2), seconds=60, charge="0.1000"),
        "ninety": record(line, started_at=at(3), seconds=90, charge="0.1500"),
        "sms": record(line, started_at=at(4), service="sms", parts=1, charge="0.0500"),
        "allowance": record(line, started_at=at(5), seconds=120, charge="0.0000",
                            allowance_units="2.00", rated_units="0"),
        "refused": record(line, started_at=at(6), seconds=60, charge="0.1000",
                          called="+99123456"),
        "rejected": record(line, started_at=at(7), status="rejected", charge=None,
                           reject_reason="no_rate"),
        "december": record(line, started_at=datetime(2026, 12, 1, 1, tzinfo=UTC),
                           charge="0.1000"),
    }  # fmt: skip


def _preview(line: Any, actor: Any) -> RerateRun:
    return rerate_preview(
        lines=[line],
        period_start=NOV_START,
        period_end=NOV_END,
        actor=actor,
        reason="Off-net rate corrected",
        resolver=corrected,
    )


@pytest.mark.django_db
def test_preview_shows_old_and_new_per_record_and_in_total(
    line: Any, supervisor: Any, november: dict[str, UsageRecord]
) -> None:
    # when
    run = _preview(line, supervisor)
    # then
    items = {item.record_id: item for item in run.items.all()}
    assert run.status == RerateRun.Status.PREVIEWED
    assert run.record_count == 5  # rated records of November, the allowance-covered one too
    assert set(items) == {november[k].pk for k in ("minute", "ninety", "sms", "refused")}
    assert items[november["minute"].pk].new_amount == Decimal("0.2000")
    assert items[november["ninety"].pk].new_amount == Decimal("0.3000")
    assert items[november["sms"].pk].new_amount == Decimal("0.1000")
    refused = items[november["refused"].pk]
    assert refused.new_amount == refused.old_amount == Decimal("0.1000")
    assert refused.problem == "no_destination"
    assert run.changed_count == 3
    assert run.skipped_count == 1
    assert run.totals == {"GBP": {"old": "0.4000", "new": "0.7000", "difference": "0.3000"}}
    # and nothing changed yet
    assert UsageRecord.objects.get(pk=november["minute"].pk).charge_amount == Decimal("0.1000")
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_commit_reprices_unbilled_records_and_keeps_allowances(
    line: Any, supervisor: Any, november: dict[str, UsageRecord]
) -> None:
    # given
    run = _preview(line, supervisor)
    # when
    rerate_commit(run=run, actor=supervisor, reason="Checked the preview")
    # then
    minute = UsageRecord.objects.get(pk=november["minute"].pk)
    assert minute.status == UsageRecord.Status.RERATED
    assert minute.charge_amount == Decimal("0.2000")
    assert minute.tariff_version_id == 8
    [trace] = minute.rating_trace["reratings"]
    assert trace["old_charge"] == "0.1000"
    assert trace["new_charge"] == "0.2000"
    assert trace["old_tariff_version"] == 7
    assert minute.rating_trace["steps"] == []  # the first rating's trace is kept
    covered = UsageRecord.objects.get(pk=november["allowance"].pk)
    assert covered.status == UsageRecord.Status.RATED
    assert covered.allowance_units == Decimal("2.00")
    refused = UsageRecord.objects.get(pk=november["refused"].pk)
    assert refused.status == UsageRecord.Status.RATED
    assert refused.charge_amount == Decimal("0.1000")
    assert UsageRecord.objects.get(pk=november["december"].pk).status == "rated"
    # unbilled usage goes to the bill at its new price: no adjustment on top
    assert not Charge.objects.exists()
    run.refresh_from_db()
    assert run.status == RerateRun.Status.COMMITTED
    assert run.decided_by == supervisor


@pytest.mark.django_db
def test_billed_differences_are_posted_once_per_line(line: Any, supervisor: Any) -> None:
    # given: two billed calls re-priced from 0.1000 and 0.1500 to 0.2000 and 0.3000
    first = record(line, started_at=at(2), seconds=60, charge="0.1000", status="billed")
    record(line, started_at=at(3), seconds=90, charge="0.1500", status="billed")
    run = _preview(line, supervisor)
    # when
    rerate_commit(run=run, actor=supervisor, reason="Checked")
    with pytest.raises(InvalidTransition):
        rerate_commit(run=run, actor=supervisor, reason="Again")
    # then
    [charge] = Charge.objects.all()
    assert charge.kind == Charge.Kind.USAGE_ADJUSTMENT
    assert charge.amount == Decimal("0.2500")
    assert charge.currency == "GBP"
    assert charge.subscriber == line
    assert charge.source_key == f"rerate:{run.public_id}:{line.pk}"
    billed = UsageRecord.objects.get(pk=first.pk)
    assert billed.status == UsageRecord.Status.BILLED
    assert billed.charge_amount == Decimal("0.1000")  # as on the invoice
    assert billed.rating_trace["reratings"][0]["new_charge"] == "0.2000"


@pytest.mark.django_db
def test_prepaid_differences_are_recorded_on_the_run_not_posted(line: Any, supervisor: Any) -> None:
    # given
    line.account.payment_type = "prepaid"
    line.account.save()
    record(line, started_at=at(2), seconds=60, charge="0.1000")
    # when
    run = _preview(line, supervisor)
    rerate_commit(run=run, actor=supervisor, reason="Checked")
    # then
    run.refresh_from_db()
    assert run.prepaid_differences == {str(line.pk): {"GBP": "0.1000"}}
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_a_record_changed_since_the_preview_refuses_the_commit(
    line: Any, supervisor: Any, november: dict[str, UsageRecord]
) -> None:
    # given
    run = _preview(line, supervisor)
    UsageRecord.objects.filter(pk=november["ninety"].pk).update(charge_amount=Decimal("0.9"))
    # when
    with pytest.raises(ApplicationError) as caught:
        rerate_commit(run=run, actor=supervisor, reason="Checked")
    # then
    assert caught.value.code == "conflict"
    assert UsageRecord.objects.get(pk=november["minute"].pk).charge_amount == Decimal("0.1000")
    run.refresh_from_db()
    assert run.status == RerateRun.Status.PREVIEWED


@pytest.mark.django_db
def test_discard_changes_nothing(line: Any, supervisor: Any, november: Any) -> None:
    # given
    run = _preview(line, supervisor)
    # when
    rerate_discard(run=run, actor=supervisor, reason="Wrong period")
    # then
    run.refresh_from_db()
    assert run.status == RerateRun.Status.DISCARDED
    assert not UsageRecord.objects.filter(status="rerated").exists()
    with pytest.raises(InvalidTransition):
        rerate_commit(run=run, actor=supervisor, reason="Too late")


@pytest.mark.django_db
def test_bad_input_names_the_fields(line: Any, supervisor: Any) -> None:
    # when
    with pytest.raises(ApplicationError) as caught:
        rerate_preview(
            lines=[], period_start=NOV_END, period_end=NOV_START, actor=supervisor, reason=""
        )
    # then
    assert set(caught.value.fields) == {"lines", "period_end", "reason"}
    assert not RerateRun.objects.exists()


@pytest.mark.django_db
def test_allowance_grants_are_not_drawn_again(line: Any, supervisor: Any) -> None:
    # given: a grant with minutes left, and a call that was charged beyond it
    from billing.tests.usage.conftest import at as days_ago

    grant = grant_allowance(
        subscriber=line, service="voice", quantity=Decimal("10"), valid_from=days_ago(400),
        source_key="plan:test", source_description="Plan",
    )  # fmt: skip
    ledger_post(bucket=grant, amount=-300, kind="usage", actor=supervisor, reason="5 minutes")
    record(line, started_at=at(2), seconds=60, charge="0.1000")
    # when
    rerate_commit(run=_preview(line, supervisor), actor=supervisor, reason="Checked")
    # then
    grant.refresh_from_db()
    assert grant.used == Decimal("5")
    assert RerateItem.objects.get().new_amount == Decimal("0.2000")


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_committing_the_same_run_twice_at_once_posts_once(line: Any, supervisor: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks between threads need PostgreSQL (CI runs this)")
    # given
    record(line, started_at=at(2), seconds=60, charge="0.1000", status="billed")
    run = _preview(line, supervisor)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def commit() -> None:
        try:
            barrier.wait()
            rerate_commit(run=run, actor=supervisor, reason="Checked")
            outcomes.append("committed")
        except InvalidTransition:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=commit) for _ in range(2)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert sorted(outcomes) == ["committed", "refused"]
    [charge] = Charge.objects.all()
    assert charge.amount == Decimal("0.1000")


@pytest.mark.django_db
def test_tiers_count_the_bill_periods_earlier_usage(line: Any, plan: Any, supervisor: Any) -> None:
    # given: 0.05 a minute for the first 10 charged minutes of the bill period, 0.02 after;
    # 8 minutes charged on 5 Nov, before the re-rated range (15 to 30 Nov)
    from orders.catalog.models import ChargingTier

    ChargingTier.objects.create(
        plan=plan,
        service="voice",
        from_quantity=Decimal("0"),
        to_quantity=Decimal("10"),
        unit_price_amount=Decimal("0.05"),
    )
    ChargingTier.objects.create(plan=plan, service="voice", from_quantity=Decimal("10"),
                                to_quantity=None, unit_price_amount=Decimal("0.02"))  # fmt: skip
    record(line, started_at=at(5), seconds=480, charge="0.4000")
    first = record(line, started_at=at(16), seconds=240, charge="0.2000")
    second = record(line, started_at=at(17), seconds=180, charge="0.1500")
    # when
    run = rerate_preview(
        lines=[line], period_start=date(2026, 11, 15), period_end=NOV_END, actor=supervisor,
        reason="Tiers corrected",
    )  # fmt: skip
    # then: 2 min at 0.05 + 2 min at 0.02 = 0.1400; then 3 min at 0.02 = 0.0600
    items = {item.record_id: item for item in run.items.all()}
    assert items[first.pk].new_amount == Decimal("0.1400")
    assert items[first.pk].new_trace["period_used"] == "8.00"
    assert items[second.pk].new_amount == Decimal("0.0600")
    assert run.totals == {"GBP": {"old": "0.3500", "new": "0.2000", "difference": "-0.1500"}}
