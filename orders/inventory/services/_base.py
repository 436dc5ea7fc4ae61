"""What every stock change shares: references, reservations, the partner rule, and the one
`transition` that checks a number's, SIM's or device unit's TRANSITIONS table, writes with a
conditional UPDATE and records the InventoryEvent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from common.actors import system_actor
from common.errors import ApplicationError, FieldErrors, InvalidTransition
from crm.models import User
from crm.validators import msisdn_display
from orders.inventory.models import DeviceItem, InventoryEvent, Msisdn, SimCard
from partners.models import Partner

Item = TypeVar("Item", Msisdn, SimCard, DeviceItem)

REASON_MAX = 200
REF_MAX = 40
SWEEP_CHUNK = 1000
MAX_RESERVATION_MINUTES = 31 * 24 * 60  # a port-in holds its SIM until the port date
SIM_ALLOCATE_MAX = 10_000


# --- shared checks ------------------------------------------------------------------------------


def ref_clean(ref: str) -> str:
    """The reference of the sale holding a reservation (an order number, a basket id)."""
    text = (ref or "").strip()
    if not text:
        raise ApplicationError(
            "A reservation needs the reference of the sale it is for.",
            code="ref_required",
            fields={"ref": ["A reference is required."]},
        )
    if len(text) > REF_MAX:
        raise ApplicationError(
            "The reference is too long.", fields={"ref": [f"At most {REF_MAX} characters."]}
        )
    return text


def reservation_until(minutes: int | None) -> Any:
    minutes = settings.INVENTORY_RESERVATION_MINUTES if minutes is None else minutes
    if not 1 <= minutes <= MAX_RESERVATION_MINUTES:
        raise ApplicationError(
            "A reservation lasts between a minute and 31 days.",
            fields={"minutes": [f"Between 1 and {MAX_RESERVATION_MINUTES} minutes."]},
        )
    return timezone.now() + timedelta(minutes=minutes)


def label(item: Msisdn | SimCard | DeviceItem) -> str:
    if isinstance(item, Msisdn):
        return msisdn_display(item.number)
    if isinstance(item, SimCard):
        return f"SIM {item.iccid}"
    return f"Unit {item.serial}"


def status_label(model: type[Msisdn] | type[SimCard] | type[DeviceItem], status: str) -> str:
    return str(dict(model.Status.choices).get(status, status)).lower()


def event(item: Msisdn | SimCard | DeviceItem, **fields: Any) -> InventoryEvent:
    if isinstance(item, Msisdn):
        return InventoryEvent(msisdn=item, **fields)
    if isinstance(item, SimCard):
        return InventoryEvent(sim=item, **fields)
    return InventoryEvent(device_item=item, **fields)


def shelf_check(item: Msisdn | SimCard, partner: Partner | None, field: str) -> None:
    """A number or SIM allocated to a partner is sold only through that partner; the
    operator's own channels (console, API, self-care) sell only what no partner holds."""
    if item.partner_id is None or (partner is not None and item.partner_id == partner.pk):
        return
    if partner is None:
        holder = Partner.objects.get(pk=item.partner_id).name
        message = f"{label(item)} is allocated to {holder}; only that partner sells it."
    else:
        message = f"{label(item)} is not on {partner.name}'s shelf."
    raise ApplicationError(message, code="allocated_elsewhere", fields={field: [message]})


def partner_check(partner: Partner) -> None:
    """Only an active partner gets stock or sells from its shelf. The status is read afresh:
    the partner in hand may have been loaded before a back-office admin suspended it."""
    status = Partner.objects.filter(pk=partner.pk).values_list("status", flat=True).first()
    if status != Partner.Status.ACTIVE:
        label = Partner.Status(status).label.lower() if status else "gone"
        message = f"{partner.name} is {label}."
        raise ApplicationError(message, code="partner_inactive", fields={"partner": [message]})


def transition(
    item: Item,
    *,
    new_status: str,
    actor: User | None,
    reason: str,
    updates: dict[str, Any] | None = None,
    ref: str | None = None,
    sources: frozenset[str] | None = None,
) -> Item:
    """Move one number, SIM or device unit to `new_status`; call inside a transaction.

    `sources` narrows the statuses this particular change starts from (releasing a
    reservation and ending a quarantine both lead to available, from different places).
    `ref`, when given, must be the reference holding the reservation if the item is reserved:
    a reservation made for one sale cannot be used or released by another.
    """
    model = type(item)
    current = model.objects.get(pk=item.pk)
    old_status = current.status
    if sources is not None and old_status not in sources:
        expected = " or ".join(status_label(model, status) for status in sorted(sources))
        raise InvalidTransition(
            f"{label(current)} is {status_label(model, old_status)}, not {expected}."
        )
    if new_status not in model.TRANSITIONS[old_status]:
        raise InvalidTransition(
            f"{label(current)} is {status_label(model, old_status)}; "
            f"it cannot become {status_label(model, new_status)}."
        )
    conditions: dict[str, Any] = {"pk": current.pk, "status": old_status}
    if ref is not None and old_status == model.Status.RESERVED:
        if current.reservation_ref != ref:
            raise ApplicationError(
                f"{label(current)} is reserved for another sale ({current.reservation_ref}).",
                code="reserved_elsewhere",
            )
        conditions["reservation_ref"] = ref
    now = timezone.now()
    values = {"status": new_status, "updated_at": now, **(updates or {})}
    if model.objects.filter(**conditions).update(**values) != 1:
        raise ApplicationError(
            f"{label(current)} was taken or changed by someone else a moment ago.",
            code="conflict",
        )
    for name, value in values.items():
        setattr(current, name, value)
    event(
        current,
        old_status=old_status,
        new_status=new_status,
        actor=actor,
        reason=reason[:REASON_MAX],
        created_at=now,
    ).save()
    return current


def reservation_extend(item: Msisdn | SimCard | DeviceItem, ref: str, until: Any) -> bool:
    """Extend a hold the same sale already has (a retried request); False when it has none."""
    if item.status != item.Status.RESERVED or item.reservation_ref != ref:
        return False
    extended = (
        type(item)
        .objects.filter(pk=item.pk, status=item.Status.RESERVED, reservation_ref=ref)
        .update(reserved_until=until, updated_at=timezone.now())
    )
    if extended == 1:
        item.reserved_until = until
    return extended == 1


# --- allocation to a partner's shelf (numbers and SIMs alike) -----------------------------------


@dataclass(frozen=True, slots=True)
class Stock:
    """How one kind of stock item is named and counted when it is allocated."""

    model: type[Msisdn] | type[SimCard]
    key: str  # the identifying column: number, iccid
    clean: Callable[[str], str]  # typed input to that column's form, or ValidationError
    show: Callable[[str], str]  # that column as a person reads it
    field: str  # the input field a list of them came in
    free: str  # the status an item is allocated from
    free_words: str  # "available", "in stock"
    unknown_words: str  # "is not in the number pool", "is not in stock"
    plural: str  # "numbers", "SIMs"


def named_items_locked(stock: Stock, named: Sequence[Any], errors: FieldErrors) -> list[int]:
    """The pks of the named items (rows or typed identifiers), locked in pk order; every one
    that is malformed, unknown or not free is reported on the stock's field."""
    wanted: list[str] = []
    for item in named:
        if isinstance(item, stock.model):
            wanted.append(getattr(item, stock.key))
            continue
        try:
            wanted.append(stock.clean(item))
        except ValidationError as exc:
            errors.add(stock.field, exc.messages[0])
    found = {
        key: (pk, status)
        for key, pk, status in stock.model.objects.select_for_update()
        .filter(**{f"{stock.key}__in": wanted})
        .order_by("pk")
        .values_list(stock.key, "pk", "status")
    }
    for key in dict.fromkeys(wanted):
        if key not in found:
            errors.add(stock.field, f"{stock.show(key)} {stock.unknown_words}.")
        elif found[key][1] != stock.free:
            label = status_label(stock.model, found[key][1])
            errors.add(stock.field, f"{stock.show(key)} is {label}, not {stock.free_words}.")
    return [pk for pk, _ in found.values()]


def shelve(stock: Stock, pks: list[int], *, partner: Partner, actor: User, reason: str) -> int:
    """Put the free items `pks` on `partner`'s shelf with an event each, all or nothing: one
    taken by someone else a moment ago refuses the lot."""
    now = timezone.now()
    changed = stock.model.objects.filter(pk__in=pks, status=stock.free).update(
        status=stock.model.Status.ALLOCATED, partner=partner, updated_at=now
    )
    if changed != len(pks):
        raise ApplicationError(
            f"Some of these {stock.plural} were taken by someone else a moment ago; nothing "
            "was allocated.",
            code="conflict",
        )
    item_field = "msisdn_id" if stock.model is Msisdn else "sim_id"
    InventoryEvent.objects.bulk_create(
        InventoryEvent(
            **{item_field: pk},
            old_status=stock.free,
            new_status=stock.model.Status.ALLOCATED,
            actor=actor,
            reason=reason,
            created_at=now,
        )
        for pk in pks
    )
    return len(pks)


def reservations_expire(stock: Stock, *, chunk_size: int = SWEEP_CHUNK) -> int:
    """Return items whose reservation has run out to their shelf (their partner's, or the
    free stock); returns how many.

    Chunks commit one by one and skip rows another transaction holds (a sale assigning its
    item right now), so several workers may run it at once and a re-run only finds what is
    left. Acts as the system actor.
    """
    actor = system_actor()
    model = stock.model
    item_field = "msisdn_id" if model is Msisdn else "sim_id"
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                model.objects.select_for_update(skip_locked=True)
                .filter(status=model.Status.RESERVED, reserved_until__lte=timezone.now())
                .order_by("reserved_until", "pk")
                .values_list("pk", "partner_id", "reservation_ref")[:chunk_size]
            )
            if not due:
                return total
            now = timezone.now()
            model.objects.filter(pk__in=[pk for pk, _, _ in due]).update(
                status=Case(
                    When(partner__isnull=False, then=Value(model.Status.ALLOCATED)),
                    default=Value(stock.free),
                ),
                reserved_until=None,
                reservation_ref="",
                updated_at=now,
            )
            InventoryEvent.objects.bulk_create(
                InventoryEvent(
                    **{item_field: pk},
                    old_status=model.Status.RESERVED,
                    new_status=model.Status.ALLOCATED if partner_id is not None else stock.free,
                    actor=actor,
                    reason=f"Reservation for {ref} expired"[:REASON_MAX],
                    created_at=now,
                )
                for pk, partner_id, ref in due
            )
        total += len(due)
