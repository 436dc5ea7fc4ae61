"""Demo stock: a pool of numbers (a few golden and silver ones), a batch of SIMs and units of
the demo devices.

Kept apart from the demo lines (crm/demo.py: +4474…, ICCID issuer 20, IMSI 23415…), so the
pool never offers a number or SIM a demo line already has. Idempotent: run it any number of
times; it only adds what is missing.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from common.bulk import ids_reserve, rows_write
from common.money import Money
from crm.models import Subscriber, User
from crm.validators import iccid_build
from orders.catalog.demo import DEVICES as DEMO_DEVICES
from orders.catalog.demo import UNITS_PER_DEVICE
from orders.catalog.models import Device
from orders.inventory.models import DeviceItem, InventoryEvent, Msisdn, SimBatch, SimCard
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


DEMO_LINES_BATCH = "Demo lines' SIMs"
LINES_CHUNK = 20_000


def demo_lines_stock_ensure(actor: User, *, msisdn_prefix: str) -> int:
    """Put the demo lines' numbers and SIMs in the stock records as what they are: a live
    line's number and SIM assigned; a terminated line's SIM blocked and its number quarantined
    until MSISDN_QUARANTINE_DAYS after the termination (then available). Idempotent and
    set-based (COPY on PostgreSQL); returns how many lines were added to the records."""
    lines = (
        Subscriber.objects.filter(msisdn__startswith=msisdn_prefix)
        .filter(~Exists(Msisdn.objects.filter(number=OuterRef("msisdn"))))
        .order_by("pk")
        .values_list("msisdn", "iccid", "imsi", "status", "status_changed_at", "created_at")
    )
    batch, _ = SimBatch.objects.get_or_create(
        name=DEMO_LINES_BATCH, defaults={"imported_by": actor, "file_name": ""}
    )
    currency = settings.DEFAULT_CURRENCY
    rest = timedelta(days=settings.MSISDN_QUARANTINE_DAYS)
    now = timezone.now()
    done = 0
    chunk: list[tuple[Any, ...]] = []

    def flush() -> None:
        first_number = ids_reserve(Msisdn, len(chunk))
        first_sim = ids_reserve(SimCard, len(chunk))
        numbers: list[tuple[Any, ...]] = []
        sims: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for index, (msisdn, iccid, imsi, status, changed, created) in enumerate(chunk):
            live = status != "terminated"
            resting_until = (changed or created) + rest
            if live:
                number_status, until = Msisdn.Status.ASSIGNED, None
            elif resting_until > now:
                number_status, until = Msisdn.Status.QUARANTINED, resting_until
            else:
                number_status, until = Msisdn.Status.AVAILABLE, None
            sim_status = SimCard.Status.ASSIGNED if live else SimCard.Status.BLOCKED
            number_id, sim_id = first_number + index, first_sim + index
            numbers.append(
                (
                    number_id,
                    created,
                    created,
                    msisdn,
                    "standard",
                    Decimal("0"),
                    currency,
                    number_status,
                    None,
                    "",
                    until,
                    None,
                )
            )
            sims.append(
                (
                    sim_id,
                    created,
                    created,
                    iccid,
                    imsi,
                    f"{(index * 7919) % 10**8:08d}",
                    batch.pk,
                    sim_status,
                    None,
                    None,
                    "",
                )
            )
            events.append(
                (number_id, None, "", number_status, actor.pk, "Demo line's number", created)
            )
            events.append((None, sim_id, "", sim_status, actor.pk, "Demo line's SIM", created))
        rows_write(
            Msisdn,
            [
                "id",
                "created_at",
                "updated_at",
                "number",
                "category",
                "price_amount",
                "currency",
                "status",
                "reserved_until",
                "reservation_ref",
                "quarantined_until",
                "partner_id",
            ],
            numbers,
        )
        rows_write(
            SimCard,
            [
                "id",
                "created_at",
                "updated_at",
                "iccid",
                "imsi",
                "puk",
                "batch_id",
                "status",
                "partner_id",
                "reserved_until",
                "reservation_ref",
            ],
            sims,
        )
        rows_write(
            InventoryEvent,
            ["msisdn_id", "sim_id", "old_status", "new_status", "actor_id", "reason", "created_at"],
            events,
        )

    with transaction.atomic():
        for row in lines.iterator(chunk_size=LINES_CHUNK):
            chunk.append(row)
            if len(chunk) == LINES_CHUNK:
                flush()
                done += len(chunk)
                chunk = []
        if chunk:
            flush()
            done += len(chunk)
        SimBatch.objects.filter(pk=batch.pk).update(card_count=batch.cards.count())
    return done
