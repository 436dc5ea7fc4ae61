"""Many debits of one balance at the same instant never overspend it (PostgreSQL, threads)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from billing.balances.models import Bucket, LedgerEntry
from billing.balances.services import (
    BalanceRefused,
    balance_transfer,
    ledger_mismatches,
    ledger_post,
)
from billing.tests.balances.conftest import money_bucket
from crm.tests.factories import SubscriberFactory


def _run(count: int, work) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def one(index: int) -> None:
        try:
            barrier.wait()
            work(index)
            outcomes.append("done")
        except BalanceRefused as refused:
            outcomes.append(refused.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_debits_never_take_more_than_the_balance(prepaid_line, actor):
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    # given: 1.00 and sixteen debits of 0.15 at once (six fit)
    bucket = money_bucket(prepaid_line, "1.00", actor)
    # when
    outcomes = _run(
        16,
        lambda i: ledger_post(
            bucket=bucket, amount="-0.15", kind="usage", actor=actor, reason=f"SMS {i}"
        ),
    )
    # then
    assert outcomes.count("done") == 6
    assert outcomes.count("insufficient_balance") == 10
    assert Bucket.objects.get(pk=bucket.pk).balance == Decimal("0.1000")
    assert ledger_mismatches() == []


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_one_idempotency_key_sent_by_many_at_once_debits_once(prepaid_line, actor):
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    bucket = money_bucket(prepaid_line, "5", actor)
    outcomes = _run(
        8,
        lambda i: ledger_post(
            bucket=bucket, amount="-1", kind="usage", actor=actor, reason="SMS",
            idempotency_key="same-request",
        ),
    )  # fmt: skip
    assert outcomes == ["done"] * 8
    assert Bucket.objects.get(pk=bucket.pk).balance == Decimal("4")
    assert LedgerEntry.objects.filter(idempotency_key="same-request").count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_opposite_transfers_at_once_neither_deadlock_nor_lose_value(prepaid_line, actor):
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    sibling = SubscriberFactory(account=prepaid_line.account)
    mine, theirs = money_bucket(prepaid_line, "10", actor), money_bucket(sibling, "10", actor)
    pairs = [(mine, theirs), (theirs, mine)]
    outcomes = _run(
        10,
        lambda i: balance_transfer(
            source=pairs[i % 2][0], target=pairs[i % 2][1], amount="1", actor=actor, reason="x"
        ),
    )
    assert outcomes == ["done"] * 10
    balances = Bucket.objects.filter(pk__in=[mine.pk, theirs.pk]).values_list("balance", flat=True)
    assert sorted(balances) == [Decimal("10"), Decimal("10")]
    assert ledger_mismatches() == []
