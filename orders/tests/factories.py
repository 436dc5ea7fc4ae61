"""Catalog factories: price plans, allowances, charging tiers, add-ons, devices and units."""

from __future__ import annotations

from decimal import Decimal

import factory

from orders.catalog.models import AddOn, Allowance, ChargingTier, Device, PricePlan, Service
from orders.inventory.models import DeviceItem


class PricePlanFactory(factory.django.DjangoModelFactory):
    """A published postpaid plan in GBP at £18.0000 a month, on sale to everyone."""

    class Meta:
        model = PricePlan

    code = factory.Sequence(lambda n: f"plan-{n}")
    version = 1
    name = factory.Sequence(lambda n: f"Plan {n}")
    payment_type = PricePlan.PaymentType.POSTPAID
    currency = "GBP"
    recurring_fee_amount = Decimal("18.00")
    status = PricePlan.Status.PUBLISHED


class AllowanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Allowance

    plan = factory.SubFactory(PricePlanFactory)
    service = Service.DATA
    quantity = Decimal("30720.00")
    scope = Allowance.Scope.ALL


class ChargingTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChargingTier

    plan = factory.SubFactory(PricePlanFactory)
    service = Service.SMS
    from_quantity = Decimal("0")
    to_quantity = None
    unit_price_amount = Decimal("0.10")


class AddOnFactory(factory.django.DjangoModelFactory):
    """A data booster on sale in GBP for any plan."""

    class Meta:
        model = AddOn
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"addon-{n}")
    name = factory.Sequence(lambda n: f"Add-on {n}")
    kind = AddOn.Kind.DATA_BOOSTER
    price_amount = Decimal("5.00")
    currency = "GBP"
    validity_days = 30

    @factory.post_generation
    def conflicts(
        addon: AddOn, create: bool, extracted: list[AddOn] | None, **kwargs: object
    ) -> None:  # type: ignore[misc]
        if create and extracted:
            addon.conflicts_with.set(extracted)


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    sku = factory.Sequence(lambda n: f"DEV-{n:04d}")
    name = factory.Sequence(lambda n: f"Device {n}")
    kind = Device.Kind.ROUTER
    price_amount = Decimal("49.00")
    currency = "GBP"


class DeviceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceItem

    device = factory.SubFactory(DeviceFactory)
    serial = factory.Sequence(lambda n: f"SN{n:08d}")
