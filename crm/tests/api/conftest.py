"""API personas: people sign in with a session, machine clients send `Api-Key <key>`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from common.api_keys import api_key_issue
from common.roles import api_key_grantable
from crm.permissions import CrmPerm
from crm.tests.factories import CustomerFactory, PartnerFactory

# Every persona of the role matrices. `key_full` holds every permission a key can be given;
# `key_without` only one that has nothing to do with customers, accounts or lines.
PERSONAS = (
    "csr",
    "supervisor",
    "admin",
    "reseller_a",
    "reseller_b",
    "subscriber",
    "other_subscriber",
    "anonymous",
    "key_full",
    "key_without",
)


def error(message: str, code: str = "invalid", **fields: list[str]) -> dict[str, Any]:
    """The one error body of the API."""
    return {"message": message, "code": code, "extra": {"fields": fields}}


def invalid(**fields: list[str]) -> dict[str, Any]:
    return {"message": "Some fields are not valid.", "code": "invalid", "extra": {"fields": fields}}


def matrix(**statuses: int) -> list[Any]:
    """Parametrize over every persona; a persona left out is a test that was forgotten."""
    assert set(statuses) == set(PERSONAS), set(PERSONAS) ^ set(statuses)
    return [pytest.param(persona, statuses[persona], id=persona) for persona in PERSONAS]


@pytest.fixture
def issue_key(admin: Any) -> Callable[..., str]:
    def issue(*permissions: str, name: str = "Mediation") -> str:
        _, secret = api_key_issue(actor=admin, name=name, permissions=list(permissions))
        return secret

    return issue


@pytest.fixture
def key_full(issue_key: Callable[..., str]) -> str:
    return issue_key(*api_key_grantable(), name="Integrator")


@pytest.fixture
def key_without(issue_key: Callable[..., str]) -> str:
    return issue_key(CrmPerm.ADD_INTERACTION, name="Notes robot")


@pytest.fixture
def api_as(request: pytest.FixtureRequest, db: None) -> Callable[[str], APIClient]:
    """An APIClient acting as a persona."""

    def make(persona: str) -> APIClient:
        client = APIClient()
        if persona.startswith("key_"):
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {request.getfixturevalue(persona)}")
        elif persona != "anonymous":
            client.force_login(request.getfixturevalue(persona))
        return client

    return make


@pytest.fixture
def bravo_customer(partner_b: Any) -> Any:
    """A customer sold by partner B."""
    return CustomerFactory(partner=partner_b, first_name="Bob", last_name="Bravo")


@pytest.fixture
def alpha_dealer_customer(partner_a: Any) -> Any:
    """A customer sold by a dealer under partner A: in reseller A's subtree."""
    dealer = PartnerFactory(code="alpha-north", name="Alpha North", parent=partner_a)
    return CustomerFactory(partner=dealer, first_name="Dora", last_name="Dealer")
