"""Prepaid usage rated from files is debited from the line's money buckets in the chunk's
transaction; what they cannot cover is a debt, never dropped."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.balances.models import BalanceDebt, Bucket, LedgerEntry
from billing.balances.services import bucket_open, ledger_mismatches, ledger_post
from billing.tests.usage.conftest import asterisk_row, at, csv_text, write
from billing.usage.models import UsageRecord
from billing.usage.services import usage_batch_ingest_file
from crm.models import Account

pytestmark = pytest.mark.django_db

ME = "07400123456"


@pytest.fixture
def prepaid(line):
    Account.objects.filter(pk=line.account_id).update(payment_type="prepaid")
    line.account.refresh_from_db()
    return line


def money(line, amount, actor, *, key="main", priority=100):
    return bucket_open(
        account=line.account, subscriber=line, kind="main" if key == "main" else "bonus",
        unit="money", currency="GBP", amount=Decimal(amount), name=key, source_key=key,
        actor=actor, reason="Top-up", priority=priority,
    )  # fmt: skip


def calls(tmp_path, actor, *minutes):
    # 0.10 a minute (the tests' per-unit tariff): 6 minutes cost 0.60
    rows = [
        asterisk_row(ME, "07700900123", start=at(hour=9 + i), billsec=60 * m, uniqueid=f"p.{i}")
        for i, m in enumerate(minutes)
    ]
    path = write(tmp_path, "Master.csv", csv_text(rows))
    return usage_batch_ingest_file(path_or_file=path, format="asterisk", source="pbx", actor=actor)


def test_prepaid_usage_is_debited_and_what_is_not_covered_is_a_debt(prepaid, actor, tmp_path):
    # given: 1.00 on the main balance
    main = money(prepaid, "1.00", actor)
    # when: two calls of 0.60 each
    batch = calls(tmp_path, actor, 6, 6)
    # then: 1.00 debited in one entry, 0.20 owed
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("0")
    usage = LedgerEntry.objects.get(bucket=main, kind="usage")
    assert (usage.amount, usage.reference) == (
        Decimal("-1.0000"),
        f"usage batch {batch.pk} chunk 0",
    )
    debt = BalanceDebt.objects.get(subscriber=prepaid)
    assert (debt.amount, debt.currency, debt.status) == (Decimal("0.2000"), "GBP", "open")
    # the records are charged to the customer: billed, waiting for no bill
    assert sorted(UsageRecord.objects.values_list("status", "charge_amount")) == [
        ("billed", Decimal("0.6000")),
        ("billed", Decimal("0.6000")),
    ]
    assert (batch.rated_count, batch.rejected_count) == (2, 0)
    assert ledger_mismatches() == []


def test_a_bonus_of_lower_priority_number_is_spent_before_the_main_balance(
    prepaid, actor, tmp_path
):
    main = money(prepaid, "5.00", actor)
    bonus = money(prepaid, "0.50", actor, key="bonus", priority=10)
    calls(tmp_path, actor, 6)
    assert Bucket.objects.get(pk=bonus.pk).balance == Decimal("0")
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("4.9000")
    assert not BalanceDebt.objects.exists()


def test_a_prepaid_line_without_a_balance_owes_the_whole_charge(prepaid, actor, tmp_path):
    calls(tmp_path, actor, 3)
    assert BalanceDebt.objects.get(subscriber=prepaid).amount == Decimal("0.3000")
    assert not LedgerEntry.objects.exists()


def test_postpaid_usage_waits_for_the_bill_and_touches_no_balance(line, actor, tmp_path):
    calls(tmp_path, actor, 6)
    assert list(UsageRecord.objects.values_list("status", flat=True)) == ["rated"]
    assert not LedgerEntry.objects.exists()
    assert not BalanceDebt.objects.exists()


def test_a_re_sent_file_debits_nothing_twice(prepaid, actor, tmp_path):
    main = money(prepaid, "5.00", actor)
    calls(tmp_path, actor, 6)
    again = calls(tmp_path, actor, 6)
    assert again.duplicate_count == 1
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("4.4000")
    assert LedgerEntry.objects.filter(kind="usage").count() == 1


def test_a_later_top_up_first_pays_what_is_owed(prepaid, actor, tmp_path):
    # given: no balance, so 0.30 of usage is owed
    calls(tmp_path, actor, 3)
    # when: a 5.00 main balance is opened (a top-up)
    main = money(prepaid, "5.00", actor)
    # then: the debt is paid from it, as its own entry
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("4.7000")
    debt = BalanceDebt.objects.get()
    assert (debt.status, debt.settled_amount) == ("settled", Decimal("0.3000"))
    settlement = LedgerEntry.objects.get(kind="settlement")
    assert (settlement.amount, settlement.reference) == (
        Decimal("-0.3000"),
        f"debt {debt.public_id}",
    )
    assert ledger_mismatches() == []


def test_a_top_up_smaller_than_the_debt_pays_part_of_it(prepaid, actor, tmp_path):
    # given: 0.60 owed, and an empty main balance
    calls(tmp_path, actor, 6)
    main = money(prepaid, "0", actor)
    # when: 0.25 is added
    ledger_post(bucket=main, amount="0.25", kind="top_up", actor=actor, reason="Card")
    # then
    debt = BalanceDebt.objects.get()
    assert (debt.status, debt.outstanding) == ("open", Decimal("0.3500"))
    assert Bucket.objects.get(pk=main.pk).balance == Decimal("0")
    assert ledger_mismatches() == []
