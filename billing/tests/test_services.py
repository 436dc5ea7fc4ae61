"""Charges are posted in their account's currency, rounded once by the named rule, and never
twice; allowances are granted once and ended together."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.balances.models import Bucket
from billing.models import Charge
from billing.selectors import allowances_live_for
from billing.services import allowance_grant, allowances_end, charge_post
from common.errors import CurrencyMismatch
from common.money import Money
from crm.tests.factories import AccountFactory, SubscriberFactory


@pytest.fixture
def account(db):
    return AccountFactory(currency="GBP")


def test_a_charge_is_rounded_once_when_posted_by_the_named_rule(csr, account, settings):
    # given
    settings.MONEY_ROUNDING = "ROUND_HALF_UP"
    # when
    charge = charge_post(
        account=account,
        amount=Money(Decimal("2.345"), "GBP"),
        kind="one_time",
        description="Exact amount",
        source_key="test:1",
        actor=csr,
    )
    # then
    assert (charge.amount, charge.currency, charge.posted_by) == (Decimal("2.35"), "GBP", csr)


def test_the_same_source_is_never_charged_twice(csr, account):
    # given
    first = charge_post(
        account=account,
        amount=Money(Decimal("10"), "GBP"),
        kind="one_time",
        description="Router",
        source_key="order-line:42",
        actor=csr,
    )
    # when the same origin posts again (a retried completion)
    again = charge_post(
        account=account,
        amount=Money(Decimal("10"), "GBP"),
        kind="one_time",
        description="Router",
        source_key="order-line:42",
        actor=csr,
    )
    # then
    assert again.pk == first.pk
    assert Charge.objects.count() == 1


def test_a_charge_in_another_currency_is_refused_not_relabelled(csr, account):
    with pytest.raises(CurrencyMismatch) as refused:
        charge_post(
            account=account,
            amount=Money(Decimal("100"), "EUR"),
            kind="one_time",
            description="Router",
            source_key="order-line:43",
            actor=csr,
        )
    assert refused.value.message == (
        f"Router is priced in EUR; account {account.number} is billed in GBP."
    )
    assert not Charge.objects.exists()


def test_allowances_are_granted_once_and_ended_together(csr):
    # given a line with a plan allowance and an add-on allowance
    line = SubscriberFactory()
    later = timezone.now() + dt.timedelta(days=10)
    for key in ("plan:ORD-1:1", "plan:ORD-1:1", "addon:7:1"):
        allowance_grant(
            subscriber=line,
            service="data",
            quantity=Decimal("1024"),
            source_key=key,
            description="Granted",
            actor=csr,
            valid_until=later,
        )
    assert Bucket.objects.count() == 2
    assert sorted(b.balance for b in Bucket.objects.all()) == [Decimal("1024000000")] * 2
    # when the plan's allowances end (a plan change), then all of them (a termination)
    assert allowances_end(subscriber=line, actor=csr, source_prefix="plan:") == 1
    assert [grant.source_key for grant in allowances_live_for(line)] == ["addon:7:1"]
    assert allowances_end(subscriber=line, actor=csr) == 1
    assert not allowances_live_for(line).exists()
