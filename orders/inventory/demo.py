"""Demo stock: a pool of numbers (a few golden and silver ones), a batch of SIMs and units of
the demo devices.

Kept apart from the demo lines (crm/demo.py: +4474…, ICCID issuer 20, IMSI 23415…), so the
pool never offers a number or SIM a demo line already has. Idempotent: run it any number of
times; it only adds what is missing.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from common.money import Money
from crm.models import User
from crm.validators import iccid_build
from orders.catalog.demo import DEVICES as DEMO_DEVICES
from orders.catalog.demo import UNITS_PER_DEVICE
from orders.catalog.models import Device
from orders.inventory.models import DeviceItem, Msisdn, SimBatch, SimCard
from orders.inventory.services import (
    device_items_add,
    msisdn_range_import,
    sim_allocate,
    sim_batch_import,
)
from partners.models import Partner

STANDARD_FIRST = "+447500000000"
STANDARD_LAST = "+447500001999"
GOLDEN = ("+447777000000", "+447777777777", "+447500777777")
SILVER = ("+447500100100", "+447500200200", "+447500300300", "+447500123123")
GOLDEN_PRICE = Decimal("50.00")
SILVER_PRICE = Decimal("10.00")
SIM_BATCH_NAME = "Demo delivery 1"
SIM_COUNT = 500
SIM_ISSUER = "30"
PARTNER_CODE = "alpha"
PARTNER_SIMS = 100


def _demo_sim_csv() -> bytes:
    lines = ["iccid,imsi,puk"]
    for serial in range(1, SIM_COUNT + 1):
        puk = (serial * 7919 + 12_345_678) % 10**8
        lines.append(f"{iccid_build(serial, issuer=SIM_ISSUER)},23430{serial:010d},{puk:08d}")
    return ("\n".join(lines) + "\n").encode()


@transaction.atomic
def inventory_demo_ensure(actor: User) -> None:
    """Bring the demo pool and SIM stock up to their demo size (idempotent)."""
    currency = settings.DEFAULT_CURRENCY
    in_range = Msisdn.objects.filter(number__gte=STANDARD_FIRST, number__lte=STANDARD_LAST)
    if in_range.count() < 2000:
        msisdn_range_import(
            first=STANDARD_FIRST,
            last=STANDARD_LAST,
            category=Msisdn.Category.STANDARD,
            actor=actor,
            price=Money(Decimal("0"), currency),
        )
    for numbers, category, price in (
        (GOLDEN, Msisdn.Category.GOLDEN, GOLDEN_PRICE),
        (SILVER, Msisdn.Category.SILVER, SILVER_PRICE),
    ):
        for number in numbers:
            if not Msisdn.objects.filter(number=number).exists():
                msisdn_range_import(
                    first=number,
                    last=number,
                    category=category,
                    actor=actor,
                    price=Money(price, currency),
                )
    batch = SimBatch.objects.filter(name=SIM_BATCH_NAME).first()
    if batch is None:
        file = io.BytesIO(_demo_sim_csv())
        file.name = "demo-delivery-1.csv"
        batch = sim_batch_import(file=file, name=SIM_BATCH_NAME, actor=actor)
    partner = Partner.objects.filter(code=PARTNER_CODE, status=Partner.Status.ACTIVE).first()
    if partner is not None and not batch.cards.filter(partner=partner).exists():
        on_shelf = batch.cards.filter(status=SimCard.Status.IN_STOCK).count()
        if on_shelf:
            sim_allocate(
                partner=partner,
                actor=actor,
                count=min(PARTNER_SIMS, on_shelf),
                batch=batch,
                reason="Demo stock for the partner's shop",
            )
    _device_units_ensure(actor)


def _device_units_ensure(actor: User) -> None:
    """Serial-numbered units of each demo device model on sale."""
    for demo in DEMO_DEVICES:
        device = Device.objects.filter(sku=demo.sku, status=Device.Status.ACTIVE).first()
        if device is None:
            continue
        serials = [f"{demo.serial_prefix}-DEMO-{n:05d}" for n in range(1, UNITS_PER_DEVICE + 1)]
        existing = set(
            DeviceItem.objects.filter(serial__in=serials).values_list("serial", flat=True)
        )
        if missing := [serial for serial in serials if serial not in existing]:
            device_items_add(device=device, actor=actor, serials=missing)
