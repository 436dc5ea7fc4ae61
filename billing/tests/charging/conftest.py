"""Charging tests price with the usage tests' per-unit tariff (0.05 a message)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _per_unit_tariff(settings: Any) -> None:
    from billing.charging.services import tariffs_forget

    settings.USAGE_TARIFF_RESOLVER = "billing.tests.usage.conftest.fake_resolver"
    tariffs_forget()
