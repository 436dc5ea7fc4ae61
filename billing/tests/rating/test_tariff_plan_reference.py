"""A price plan refers to its tariff: chosen in the back-office plan form by code, in the plan's
currency, shown by code in the catalog API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.rating.models import Tariff
from common.errors import ApplicationError
from orders.catalog.models import PricePlan
from orders.catalog.services import plan_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def gbp_tariff(admin):
    return Tariff.objects.create(code="postpaid-standard", name="Pay monthly", currency="GBP")


def _plan(admin, **changes):
    values = {
        "actor": admin,
        "code": "sim-only-30gb",
        "name": "SIM only 30GB",
        "payment_type": "postpaid",
        "currency": "GBP",
        "recurring_fee_amount": Decimal("18"),
        **changes,
    }
    return plan_create(**values)


def test_a_plan_refers_to_a_tariff_in_its_currency(admin, gbp_tariff):
    # when
    plan = _plan(admin, tariff=gbp_tariff)
    # then
    assert PricePlan.objects.get(pk=plan.pk).tariff == gbp_tariff


def test_a_tariff_in_another_currency_is_refused(admin):
    # given
    eur = Tariff.objects.create(code="eu-standard", name="EU", currency="EUR")
    # when
    with pytest.raises(ApplicationError) as refused:
        _plan(admin, tariff=eur)
    # then
    assert "prices in EUR" in refused.value.fields["tariff"][0]
    assert not PricePlan.objects.exists()


def test_the_plan_form_chooses_the_tariff_by_code(admin, client, gbp_tariff):
    # given
    client.force_login(admin)
    # when
    response = client.post(
        reverse("catalog:plan-create"),
        {
            "code": "sim-only-30gb",
            "name": "SIM only 30GB",
            "payment_type": "postpaid",
            "currency": "GBP",
            "recurring_fee_amount": "18.00",
            "recurring_period": "month",
            "proration": "daily",
            "tariff": "postpaid-standard",
        },
    )
    # then
    assert response.status_code == 302
    assert PricePlan.objects.get().tariff == gbp_tariff


def test_the_catalog_api_shows_the_tariff_by_code(admin, client, gbp_tariff):
    # given
    plan = _plan(admin, tariff=gbp_tariff)
    client.force_login(admin)
    # when
    body = client.get(f"/api/v1/catalog/plans/{plan.public_id}/").json()
    # then
    assert body["tariff_code"] == "postpaid-standard"


def test_a_plan_without_a_tariff_shows_none(admin, client):
    # given
    plan = _plan(admin)
    client.force_login(admin)
    # when
    body = client.get(f"/api/v1/catalog/plans/{plan.public_id}/").json()
    page = client.get(reverse("catalog:plan-detail", args=[plan.public_id])).content.decode()
    # then
    assert body["tariff_code"] is None
    assert "no tariff" in page
