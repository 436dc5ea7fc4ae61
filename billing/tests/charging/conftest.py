"""Charging tests price with the usage tests' per-unit tariff (0.05 a message) and share a
prepaid line, its main balance and a network element's API key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from billing.balances.models import Bucket
from billing.tests.balances.conftest import money_bucket
from common.api_keys import api_key_issue
from crm.models import Account


@pytest.fixture(autouse=True)
def _per_unit_tariff(settings: Any) -> None:
    from billing.charging.services import tariffs_forget

    settings.USAGE_TARIFF_RESOLVER = "billing.tests.usage.conftest.fake_resolver"
    tariffs_forget()


def key_client(admin: Any, *permissions: str, name: str = "SMSC") -> APIClient:
    """An API client holding a new key with these permissions (a network element)."""
    _, secret = api_key_issue(actor=admin, name=name, permissions=list(permissions))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


@pytest.fixture
def prepaid(line: Any) -> Any:
    Account.objects.filter(pk=line.account_id).update(payment_type="prepaid")
    line.refresh_from_db()
    return line


def money(line: Any, amount: str, actor: Any) -> Bucket:
    """The line's main balance, opened with `amount` GBP."""
    return money_bucket(line, amount, actor)


def balance_of(bucket: Bucket) -> Decimal:
    return Bucket.objects.get(pk=bucket.pk).balance
