"""Helpers shared by the console view tests."""

from __future__ import annotations

from typing import Any

import pytest

HTMX = {"HX-Request": "true"}


@pytest.fixture
def csr_client(client: Any, csr: Any) -> Any:
    client.force_login(csr)
    return client


@pytest.fixture
def supervisor_client(client: Any, supervisor: Any) -> Any:
    client.force_login(supervisor)
    return client
