"""Device models (routers, modems, handsets); their serial-numbered units are stock
(orders.inventory). Every change is audited on the device model (common.audit), in the same
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.audit import audit_record, changes_between, changes_created, snapshot
from common.errors import ApplicationError, FieldErrors, InvalidTransition
from common.parsing import amount_parse, choice_parse, currency_parse, text_parse
from crm.models import User
from orders.catalog.models import Device
from orders.catalog.services._checks import SKU_PATTERN, plan_codes_check

# --- devices ------------------------------------------------------------------------------------

DEVICE_EDITABLE = ("name", "kind", "price_amount", "currency", "included_with_plan_codes")
DEVICE_AUDITED = ("sku", *DEVICE_EDITABLE, "status")


def _device_values(values: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    return {
        "name": text_parse(
            values.get("name"), "name", errors, limit=120, missing="Name the device."
        ),
        "kind": choice_parse(
            values.get("kind") or "", "kind", errors, Device.Kind, "kind of device"
        ),
        "price_amount": amount_parse(
            values.get("price_amount"),
            "price_amount",
            errors,
            what="The price",
            missing="A device needs a price (enter 0 if it is only given away with plans).",
        ),
        "currency": currency_parse(values.get("currency"), errors),
        "included_with_plan_codes": plan_codes_check(
            values.get("included_with_plan_codes"), "included_with_plan_codes", errors
        ),
    }


@transaction.atomic
def device_create(
    *,
    actor: User,
    sku: str,
    name: str,
    kind: str,
    price_amount: Decimal | str | None,
    currency: str | None = None,
    included_with_plan_codes: Sequence[str] = (),
) -> Device:
    """Add a device model to the catalog; its units arrive with device_items_add."""
    errors = FieldErrors()
    sku = (sku or "").strip().upper()
    if not sku:
        errors.add("sku", "Give the stock-keeping unit (SKU), e.g. RTR-5G-200.")
    elif len(sku) > 40 or not SKU_PATTERN.match(sku):
        errors.add("sku", "Use letters, digits, '-', '_' and '.', at most 40, e.g. RTR-5G-200.")
    elif Device.objects.filter(sku=sku).exists():
        errors.add("sku", f"A device with the SKU {sku} already exists.")
    values = _device_values(
        {
            "name": name,
            "kind": kind,
            "price_amount": price_amount,
            "currency": currency,
            "included_with_plan_codes": included_with_plan_codes,
        },
        errors,
    )
    errors.raise_if_any("The device was not created.")
    try:
        with transaction.atomic():
            device = Device.objects.create(sku=sku, **values)
    except IntegrityError:
        raise ApplicationError(
            "The device was not created.",
            fields={"sku": [f"A device with the SKU {sku} already exists."]},
        ) from None
    audit_record(
        actor=actor,
        instance=device,
        action="created",
        changes=changes_created(snapshot(device, DEVICE_AUDITED)),
    )
    return device


@transaction.atomic
def device_update(*, device: Device, actor: User, **changes: Any) -> Device:
    if unknown := set(changes) - set(DEVICE_EDITABLE):
        raise ApplicationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.status != Device.Status.ACTIVE:
        raise InvalidTransition(f"{device.name} is retired; it no longer changes.")
    errors = FieldErrors()
    current = {name: getattr(device, name) for name in DEVICE_EDITABLE}
    values = _device_values({**current, **changes}, errors)
    errors.raise_if_any("The device was not saved.")
    before = snapshot(device, DEVICE_EDITABLE)
    changed = [name for name, value in values.items() if getattr(device, name) != value]
    for name in changed:
        setattr(device, name, values[name])
    if changed:
        device.save(update_fields=[*changed, "updated_at"])
    if diff := changes_between(before, snapshot(device, DEVICE_EDITABLE)):
        audit_record(actor=actor, instance=device, action="updated", changes=diff)
    return device


@transaction.atomic
def device_retire(*, device: Device, actor: User) -> Device:
    """Stop selling a device model; units already sold or in stock keep their status."""
    updated = Device.objects.filter(pk=device.pk, status=Device.Status.ACTIVE).update(
        status=Device.Status.RETIRED, updated_at=timezone.now()
    )
    if updated != 1:
        raise InvalidTransition(f"{device.name} is already retired.")
    device.refresh_from_db()
    audit_record(
        actor=actor,
        instance=device,
        action="retired",
        changes={"status": [Device.Status.ACTIVE, device.status]},
    )
    return device
