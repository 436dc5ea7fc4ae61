"""Over its request rate a caller answers 429 with Retry-After, in the one error shape; each
caller has its own budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

LIST_URL = "/api/v1/customers/"


@pytest.fixture
def low_rates(settings: Any) -> None:
    settings.API_RATE_USER = "2/minute"
    settings.API_RATE_ANONYMOUS = "1/minute"


def test_a_key_over_its_rate_answers_429_with_retry_after(
    api_as: Callable[[str], APIClient], low_rates: None
):
    # given
    client = api_as("key_full")
    first, second = client.get(LIST_URL), client.get(LIST_URL)
    # when
    third = client.get(LIST_URL)
    # then
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert 1 <= int(third["Retry-After"]) <= 60
    body = third.json()
    assert (body["code"], body["extra"]) == ("throttled", {"fields": {}})
    assert body["message"].startswith("Request was throttled.")


def test_each_caller_has_its_own_budget(api_as: Callable[[str], APIClient], low_rates: None):
    # given: the integrator's key has used its budget
    integrator = api_as("key_full")
    for _ in range(3):
        integrator.get(LIST_URL)
    # when
    csr = api_as("csr").get(LIST_URL)
    # then
    assert csr.status_code == 200


def test_anonymous_callers_are_throttled_per_address(
    api_as: Callable[[str], APIClient], low_rates: None
):
    # given: the schema is open to anyone (every other operation answers 401 first)
    api_as("anonymous").get("/api/schema/", REMOTE_ADDR="203.0.113.1")
    # when
    again = api_as("anonymous").get("/api/schema/", REMOTE_ADDR="203.0.113.1")
    elsewhere = api_as("anonymous").get("/api/schema/", REMOTE_ADDR="203.0.113.2")
    # then
    assert again.status_code == 429
    assert again["Content-Type"] == "application/json"
    assert again.json()["code"] == "throttled"
    assert 1 <= int(again["Retry-After"]) <= 60
    assert elsewhere.status_code == 200


def test_a_throttled_write_writes_nothing(api_as: Callable[[str], APIClient], low_rates: None):
    from crm.models import Customer

    # given
    client = api_as("key_full")
    client.get(LIST_URL)
    client.get(LIST_URL)
    # when
    response = client.post(
        LIST_URL, {"kind": "business", "company_name": "Acme Ltd"}, format="json"
    )
    # then
    assert response.status_code == 429
    assert not Customer.objects.exists()
