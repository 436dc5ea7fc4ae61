"""Factories for the number pool and SIM stock (kept apart from the catalog's factories)."""

from __future__ import annotations

from decimal import Decimal

import factory

from crm.tests.factories import UserFactory
from crm.validators import iccid_build
from orders.inventory.models import Msisdn, SimBatch, SimCard


class MsisdnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Msisdn

    number = factory.Sequence(lambda n: f"+4475009{n:05d}")
    category = Msisdn.Category.STANDARD
    price_amount = Decimal("0")
    currency = "GBP"
    status = Msisdn.Status.AVAILABLE


class SimBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SimBatch

    name = factory.Sequence(lambda n: f"Delivery {n}")
    imported_by = factory.SubFactory(UserFactory)


class SimCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SimCard

    iccid = factory.Sequence(lambda n: iccid_build(n, issuer="40"))
    imsi = factory.Sequence(lambda n: f"23440{n:010d}")
    puk = "12345678"
    batch = factory.SubFactory(SimBatchFactory)
    status = SimCard.Status.IN_STOCK
