"""Device units (routers, handsets) in stock: booked in by serial number, reserved for an order,
sold with it, returned; every change is an InventoryEvent like a number's or a SIM's."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import ApplicationError, InvalidTransition
from common.parsing import reason_parse
from crm.models import User
from orders.catalog.models import Device
from orders.inventory.models import DeviceItem, InventoryEvent
from orders.inventory.services._base import REASON_MAX, ref_clean, transition

SERIAL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9./_-]*$")
SERIALS_MAX = 10_000


@transaction.atomic
def device_items_add(*, device: Device, actor: User, serials: Iterable[str]) -> int:
    """Book serial-numbered units into stock, all or none; returns how many were added.

    Serials are stored upper-case and must be unique across every device, so a unit can be
    traced from the warehouse to the line it was sold with.
    """
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.status != Device.Status.ACTIVE:
        raise InvalidTransition(f"{device.name} is retired; no stock is added to it.")
    cleaned = [serial.strip().upper() for serial in serials if serial and serial.strip()]
    problems: list[str] = []
    if not cleaned:
        problems.append("Give at least one serial number, one per line.")
    elif len(cleaned) > SERIALS_MAX:
        problems.append(f"At most {SERIALS_MAX:,} serial numbers at once ({len(cleaned):,}).")
    else:
        malformed = [s for s in cleaned if len(s) > 60 or len(s) < 3 or not SERIAL_PATTERN.match(s)]
        if malformed:
            problems.append(
                f"Not serial numbers (3 to 60 letters, digits, '-', '/', '.', '_'): "
                f"{', '.join(malformed[:10])}{' …' if len(malformed) > 10 else ''}."
            )
        twice = sorted(serial for serial, count in Counter(cleaned).items() if count > 1)
        if twice:
            problems.append(f"Pasted more than once: {', '.join(twice[:10])}.")
        existing = sorted(
            DeviceItem.objects.filter(serial__in=set(cleaned)).values_list("serial", flat=True)
        )
        if existing:
            problems.append(
                f"Already in stock: {', '.join(existing[:10])}"
                f"{f' and {len(existing) - 10} more' if len(existing) > 10 else ''}."
            )
    if problems:
        raise ApplicationError("No stock was added.", fields={"serials": problems})
    now = timezone.now()
    try:
        with transaction.atomic():
            items = DeviceItem.objects.bulk_create(
                DeviceItem(device=device, serial=serial, created_at=now) for serial in cleaned
            )
    except IntegrityError:  # the same serials booked by someone else at the same moment
        raise ApplicationError(
            "No stock was added.",
            fields={"serials": ["Some of these serial numbers were just booked; check again."]},
        ) from None
    if any(item.pk is None for item in items):  # databases that return no keys from a bulk insert
        items = list(DeviceItem.objects.filter(serial__in=cleaned))
    InventoryEvent.objects.bulk_create(
        InventoryEvent(
            device_item=item,
            old_status="",
            new_status=DeviceItem.Status.IN_STOCK,
            actor=actor,
            reason=f"Booked into stock ({device.sku})",
            created_at=now,
        )
        for item in items
    )
    return len(cleaned)


@transaction.atomic
def device_item_reserve(*, device: Device, ref: str, actor: User) -> DeviceItem:
    """Hold the next unit of `device` in stock for a sale; SKIP LOCKED, so two sales at once take
    different units."""
    ref = ref_clean(ref)
    item = (
        DeviceItem.objects.select_for_update(skip_locked=True)
        .filter(device=device, status=DeviceItem.Status.IN_STOCK)
        .order_by("pk")
        .first()
    )
    if item is None or device.status != Device.Status.ACTIVE:
        message = f"{device.name} is out of stock."
        raise ApplicationError(message, code="out_of_stock", fields={"devices": [message]})
    return transition(
        item,
        new_status=DeviceItem.Status.RESERVED,
        actor=actor,
        reason=f"Reserved for {ref}",
        updates={"reservation_ref": ref, "reserved_until": None},
    )


def _held_by(ref: str) -> list[DeviceItem]:
    return list(
        DeviceItem.objects.select_for_update()
        .filter(reservation_ref=ref, status=DeviceItem.Status.RESERVED)
        .order_by("pk")
    )


@transaction.atomic
def device_items_release(*, ref: str, actor: User, reason: str) -> int:
    """Put back in stock every unit the sale `ref` holds (an order cancelled or failed)."""
    reason = reason_parse(reason)
    held = _held_by(ref_clean(ref))
    for item in held:
        transition(
            item,
            new_status=DeviceItem.Status.IN_STOCK,
            actor=actor,
            reason=reason,
            updates={"reservation_ref": ""},
            ref=ref,
        )
    return len(held)


@transaction.atomic
def device_items_sell(*, ref: str, actor: User) -> int:
    """Mark sold every unit the sale `ref` holds (its order completed)."""
    held = _held_by(ref_clean(ref))
    for item in held:
        transition(
            item,
            new_status=DeviceItem.Status.SOLD,
            actor=actor,
            reason=f"Sold by {ref}"[:REASON_MAX],
            ref=ref,
        )
    return len(held)


@transaction.atomic
def device_item_return(*, item: DeviceItem, actor: User, reason: str) -> DeviceItem:
    """A customer brought a sold unit back."""
    return transition(
        item, new_status=DeviceItem.Status.RETURNED, actor=actor, reason=reason_parse(reason)
    )


@transaction.atomic
def device_item_restock(*, item: DeviceItem, actor: User, reason: str) -> DeviceItem:
    """A returned unit was checked and goes back on sale."""
    return transition(
        item,
        new_status=DeviceItem.Status.IN_STOCK,
        actor=actor,
        reason=reason_parse(reason),
        updates={"reservation_ref": ""},
        sources=frozenset({DeviceItem.Status.RETURNED}),
    )


@transaction.atomic
def device_item_mark_damaged(*, item: DeviceItem, actor: User, reason: str) -> DeviceItem:
    """Write off a faulty or broken unit."""
    return transition(
        item, new_status=DeviceItem.Status.DAMAGED, actor=actor, reason=reason_parse(reason)
    )
