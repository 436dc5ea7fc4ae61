"""A small partner tree shared by the partner tests:

north (distributor)
  north-shop (dealer)
    north-kiosk (reseller)
east (reseller)
"""

from __future__ import annotations

from typing import Any

import pytest

from common.models import AuditEvent
from crm.models import User
from crm.tests.factories import PartnerFactory
from partners.models import Partner, PartnerUser


@pytest.fixture
def north(db: None) -> Any:
    return PartnerFactory(code="north", name="North Distribution", kind="distributor")


@pytest.fixture
def north_shop(north: Any) -> Any:
    return PartnerFactory(code="north-shop", name="North Shop", kind="dealer", parent=north)


@pytest.fixture
def north_kiosk(north_shop: Any) -> Any:
    return PartnerFactory(code="north-kiosk", name="North Kiosk", parent=north_shop)


@pytest.fixture
def east(db: None) -> Any:
    return PartnerFactory(code="east", name="East Phones")


def world() -> dict[str, Any]:
    """Everything a partner change could touch, to show that a refusal wrote nothing."""
    return {
        "partners": sorted(
            Partner.objects.values_list("code", "name", "kind", "parent__code", "path", "status"),
            key=repr,
        ),
        "memberships": sorted(
            PartnerUser.objects.values_list("user__email", "partner__code", "is_active"), key=repr
        ),
        "users": sorted(User.objects.values_list("email", "is_staff", "is_active"), key=repr),
        "groups": sorted(User.objects.values_list("email", "groups__name"), key=repr),
        "audit": AuditEvent.objects.count(),
    }
