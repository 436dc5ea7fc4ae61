"""Balance fixtures: a prepaid line with a main money balance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billing.balances.models import Bucket
from billing.balances.services import bucket_open
from crm.models import Account
from crm.tests.factories import AccountFactory, SubscriberFactory, UserFactory


@pytest.fixture
def actor(db: None) -> Any:
    return UserFactory()


@pytest.fixture
def prepaid_line(db: None) -> Any:
    account = AccountFactory(payment_type=Account.PaymentType.PREPAID, credit_limit_amount=0)
    return SubscriberFactory(account=account)


def money_bucket(line: Any, amount: str, actor: Any, *, key: str = "main", **extra: Any) -> Bucket:
    return bucket_open(
        account=line.account,
        subscriber=line,
        kind=Bucket.Kind.MAIN,
        unit=Bucket.Unit.MONEY,
        currency=line.account.currency,
        amount=Decimal(amount),
        name="Main balance",
        source_key=f"{key}:{line.pk}",
        actor=actor,
        reason="Opening balance",
        **extra,
    )


@pytest.fixture
def main_bucket(prepaid_line: Any, actor: Any) -> Bucket:
    return money_bucket(prepaid_line, "10.0000", actor)
