"""Shared fixtures of the inventory tests."""

from __future__ import annotations

from typing import Any

import pytest

from crm.tests.factories import UserFactory


@pytest.fixture
def actor(db: None) -> Any:
    return UserFactory(email="stock-keeper@example.com")


@pytest.fixture
def manager_client(client: Any, admin: Any) -> Any:
    """Signed in as the back-office admin persona (who manages inventory)."""
    client.force_login(admin)
    return client
