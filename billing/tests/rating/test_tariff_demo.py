"""The demo tariffs: each published once, complete, and referred to by the demo plans."""

from __future__ import annotations

import pytest

from billing.rating.demo import tariffs_demo_ensure
from billing.rating.models import TariffVersion
from billing.rating.plan import TariffPlan
from orders.catalog.demo import catalog_demo_ensure
from orders.catalog.models import PricePlan

pytestmark = pytest.mark.django_db


def test_the_demo_tariffs_are_published_once_however_often_they_are_loaded(admin):
    # when
    tariffs_demo_ensure(admin)
    tariffs = tariffs_demo_ensure(admin)
    # then
    assert sorted(tariffs) == ["payg-standard", "postpaid-business", "postpaid-standard"]
    versions = TariffVersion.objects.filter(tariff__in=tariffs.values())
    assert versions.count() == 3
    for version in versions:
        assert version.status == "published"
        plan = TariffPlan.from_dict(version.content)
        assert {p.category for p in plan.rating_profiles} == {"call", "sms", "mms", "data"}


def test_the_demo_plans_refer_to_the_demo_tariffs(admin):
    # when
    tariffs = tariffs_demo_ensure(admin)
    catalog_demo_ensure(admin, tariffs=tariffs)
    # then
    codes = set(PricePlan.objects.values_list("tariff__code", flat=True))
    assert codes == {"payg-standard", "postpaid-standard", "postpaid-business"}
