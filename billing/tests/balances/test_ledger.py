"""The ledger: every balance change is one entry, the balance is their sum, debits stop at the
floor, repeated keys change nothing, entries are never changed."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from billing.balances.models import Bucket, LedgerEntry
from billing.balances.services import (
    BalanceRefused,
    IdempotencyConflict,
    balance_transfer,
    bucket_open,
    buckets_expire,
    ledger_mismatches,
    ledger_post,
)
from billing.tests.balances.conftest import money_bucket
from common.errors import ApplicationError
from crm.tests.factories import AccountFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def _balance(bucket: Bucket) -> Decimal:
    return Bucket.objects.get(pk=bucket.pk).balance


def test_a_bucket_opens_with_one_entry_and_its_balance(main_bucket):
    # then
    entry = main_bucket.entries.get()
    assert (entry.kind, entry.amount, entry.balance_after) == (
        "opening",
        Decimal("10.0000"),
        Decimal("10.0000"),
    )
    assert (entry.unit, entry.currency) == ("money", "GBP")
    assert main_bucket.balance == Decimal("10.0000")


def test_opening_the_same_source_twice_opens_one_bucket(prepaid_line, actor):
    # when
    first = money_bucket(prepaid_line, "5", actor, key="bonus")
    again = money_bucket(prepaid_line, "5", actor, key="bonus")
    # then
    assert first.pk == again.pk
    assert LedgerEntry.objects.filter(bucket=first).count() == 1
    assert _balance(first) == Decimal("5")


def test_debits_and_credits_move_the_balance_and_each_is_an_entry(main_bucket, actor):
    # when
    ledger_post(bucket=main_bucket, amount="-2.5", kind="usage", actor=actor, reason="Call")
    ledger_post(bucket=main_bucket, amount="1.25", kind="top_up", actor=actor, reason="Card")
    # then
    assert _balance(main_bucket) == Decimal("8.7500")
    assert [e.balance_after for e in main_bucket.entries.order_by("pk")] == [
        Decimal("10"),
        Decimal("7.5"),
        Decimal("8.75"),
    ]
    assert ledger_mismatches() == []


def test_a_debit_beyond_the_balance_is_refused_and_writes_nothing(main_bucket, actor):
    # when
    with pytest.raises(BalanceRefused) as refused:
        ledger_post(bucket=main_bucket, amount="-10.0001", kind="usage", actor=actor, reason="x")
    # then
    assert refused.value.code == "insufficient_balance"
    assert _balance(main_bucket) == Decimal("10")
    assert main_bucket.entries.count() == 1


def test_a_main_balance_may_go_down_to_the_credit_limit(prepaid_line, actor):
    # given: a floor of -5 (the account's credit limit)
    bucket = money_bucket(prepaid_line, "1", actor, lowest_balance=Decimal("-5"))
    # when
    ledger_post(bucket=bucket, amount="-6", kind="usage", actor=actor, reason="Call")
    with pytest.raises(BalanceRefused):
        ledger_post(bucket=bucket, amount="-0.0001", kind="usage", actor=actor, reason="Call")
    # then
    assert _balance(bucket) == Decimal("-5")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": Bucket.Status.SUSPENDED}, "bucket_suspended"),
        ({"status": Bucket.Status.EXPIRED}, "bucket_expired"),
        ({"valid_until": "past"}, "bucket_expired"),
        ({"valid_from": "future"}, "bucket_not_yet_valid"),
    ],
)
def test_a_debit_from_a_bucket_that_cannot_be_spent_says_why(main_bucket, actor, change, code):
    # given
    now = timezone.now()
    values = {
        k: {"past": now - timedelta(seconds=1), "future": now + timedelta(days=1)}.get(v, v)
        for k, v in change.items()
    }
    if "valid_from" in values:
        values["valid_until"] = now + timedelta(days=2)
    if "valid_until" in values and "valid_from" not in values:
        values["valid_from"] = now - timedelta(days=1)
    Bucket.objects.filter(pk=main_bucket.pk).update(**values)
    # when
    with pytest.raises(BalanceRefused) as refused:
        ledger_post(bucket=main_bucket, amount="-1", kind="usage", actor=actor, reason="Call")
    # then
    assert refused.value.code == code
    assert _balance(main_bucket) == Decimal("10")


def test_a_repeated_idempotency_key_returns_the_first_entry_and_changes_nothing(main_bucket, actor):
    # when
    first = ledger_post(
        bucket=main_bucket,
        amount="-1",
        kind="usage",
        actor=actor,
        reason="SMS",
        idempotency_key="k1",
    )
    again = ledger_post(
        bucket=main_bucket,
        amount="-1",
        kind="usage",
        actor=actor,
        reason="SMS",
        idempotency_key="k1",
    )
    # then
    assert again.pk == first.pk
    assert _balance(main_bucket) == Decimal("9")


def test_an_idempotency_key_reused_for_another_change_is_refused(main_bucket, actor):
    # given
    ledger_post(
        bucket=main_bucket,
        amount="-1",
        kind="usage",
        actor=actor,
        reason="SMS",
        idempotency_key="k2",
    )
    # when
    with pytest.raises(IdempotencyConflict):
        ledger_post(
            bucket=main_bucket,
            amount="-2",
            kind="usage",
            actor=actor,
            reason="x",
            idempotency_key="k2",
        )
    # then
    assert _balance(main_bucket) == Decimal("9")


@pytest.mark.parametrize(
    ("amount", "reason", "field"),
    [("abc", "Call", "amount"), ("0", "Call", "amount"), ("-1.00001", "Call", "amount"),
     ("NaN", "Call", "amount"), ("-1", "  ", "reason")],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field(main_bucket, actor, amount, reason, field):
    # when
    with pytest.raises(ApplicationError) as refused:
        ledger_post(bucket=main_bucket, amount=amount, kind="usage", actor=actor, reason=reason)
    # then
    assert field in refused.value.fields
    assert main_bucket.entries.count() == 1


def test_a_money_bucket_is_in_the_account_currency(prepaid_line, actor):
    with pytest.raises(ApplicationError) as refused:
        bucket_open(
            account=prepaid_line.account, subscriber=prepaid_line, kind="main", unit="money",
            currency="EUR", amount="5", name="Main", source_key="eur", actor=actor, reason="x",
        )  # fmt: skip
    assert refused.value.code == "currency_mismatch"
    assert not Bucket.objects.filter(source_key="eur").exists()


def test_ledger_entries_cannot_be_changed_or_deleted(main_bucket):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    entry = main_bucket.entries.get()
    for attempt in (
        lambda: LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("99")),
        lambda: LedgerEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("10")


def test_a_transfer_between_a_customers_lines_is_a_debit_and_a_credit(prepaid_line, actor):
    # given
    sibling = SubscriberFactory(account=prepaid_line.account)
    source = money_bucket(prepaid_line, "10", actor)
    target = money_bucket(sibling, "1", actor)
    # when
    moved = balance_transfer(
        source=source, target=target, amount="3.5", actor=actor, reason="Top up my son"
    )
    # then
    assert (_balance(source), _balance(target)) == (Decimal("6.5"), Decimal("4.5"))
    assert (moved.debit.amount, moved.credit.amount) == (Decimal("-3.5"), Decimal("3.5"))
    assert ledger_mismatches() == []


def test_a_transfer_to_another_customer_or_beyond_the_balance_moves_nothing(prepaid_line, actor):
    # given
    stranger = SubscriberFactory(account=AccountFactory(payment_type="prepaid"))
    source = money_bucket(prepaid_line, "10", actor)
    theirs = money_bucket(stranger, "0", actor)
    sibling = money_bucket(SubscriberFactory(account=prepaid_line.account), "0", actor)
    # when
    with pytest.raises(ApplicationError) as other_customer:
        balance_transfer(source=source, target=theirs, amount="1", actor=actor, reason="x")
    with pytest.raises(BalanceRefused):
        balance_transfer(source=source, target=sibling, amount="11", actor=actor, reason="x")
    # then
    assert other_customer.value.code == "not_found"
    assert (_balance(source), _balance(theirs), _balance(sibling)) == (10, 0, 0)
    assert LedgerEntry.objects.filter(kind="transfer").count() == 0


def test_expiry_writes_off_what_is_left_as_the_system_actor(prepaid_line, actor):
    # given: a bonus ending a minute ago, and one still valid
    now = timezone.now()
    ended = money_bucket(
        prepaid_line, "3", actor, key="bonus-old", valid_from=now - timedelta(days=30),
        valid_until=now - timedelta(minutes=1),
    )  # fmt: skip
    live = money_bucket(
        prepaid_line, "3", actor, key="bonus-new", valid_until=now + timedelta(days=1)
    )
    # when
    count = buckets_expire(now=now)
    again = buckets_expire(now=now)
    # then
    assert (count, again) == (1, 0)
    ended.refresh_from_db()
    assert (ended.status, ended.balance) == ("expired", Decimal("0"))
    expiry = ended.entries.get(kind="expiry")
    assert expiry.amount == Decimal("-3")
    assert expiry.actor.email == "system@telecrm.invalid"
    assert Bucket.objects.get(pk=live.pk).status == "active"
    assert ledger_mismatches() == []


def test_balances_check_command_finds_a_balance_that_disagrees_with_its_ledger(main_bucket):
    # given: all is well
    out = io.StringIO()
    call_command("balances_check", stdout=out)
    assert "1 buckets checked: every balance equals its ledger." in out.getvalue()
    # when: someone changes a balance behind the ledger's back
    Bucket.objects.filter(pk=main_bucket.pk).update(balance=Decimal("11"))
    # then
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 1 buckets disagree"):
        call_command("balances_check", stdout=out)
    assert f"bucket {main_bucket.public_id}: balance 11" in out.getvalue()
    assert [m.bucket_pk for m in ledger_mismatches()] == [main_bucket.pk]
