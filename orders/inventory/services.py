"""Every write to the number pool and the SIM stock.

Each status change of one number or SIM goes through `_transition`: it reads the row, checks
the model's TRANSITIONS table (raising InvalidTransition), then writes with a conditional
`filter(pk=…, status=old).update(…)` and checks that exactly one row changed, so two sales
racing for the same number or SIM cannot both win: the loser's UPDATE matches nothing and it
gets a `conflict` error. "Next available" picks lock their row with
`select_for_update(skip_locked=True)`, so concurrent picks take different rows instead of
queueing for the same one. Every change writes an InventoryEvent (who, when, why).

Bulk work (allocation, the expiry sweeps, and the imports in orders/inventory/imports.py,
re-exported here) is set-based and chunked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from common.errors import ApplicationError, InvalidTransition
from crm.models import Interaction, Subscriber, User
from crm.services import FieldErrors
from crm.validators import iccid_clean, msisdn_clean, msisdn_display
from orders.inventory.imports import RangeImportResult as RangeImportResult
from orders.inventory.imports import msisdn_range_import as msisdn_range_import
from orders.inventory.imports import sim_batch_import as sim_batch_import
from orders.models import InventoryEvent, Msisdn, SimBatch, SimCard
from partners.models import Partner

Item = TypeVar("Item", Msisdn, SimCard)

REASON_MAX = 200
REF_MAX = 40
SWEEP_CHUNK = 1000
MAX_RESERVATION_MINUTES = 7 * 24 * 60
SIM_ALLOCATE_MAX = 10_000


# --- shared checks ------------------------------------------------------------------------------


def _reason_clean(reason: str, *, default: str = "") -> str:
    """A reason is required for changes a person decides (sensitive actions are audited)."""
    text = " ".join((reason or "").split()) or default
    if not text:
        raise ApplicationError(
            "Give a reason for the change.",
            code="reason_required",
            fields={"reason": ["A reason is required."]},
        )
    if len(text) > REASON_MAX:
        raise ApplicationError(
            "The reason is too long.", fields={"reason": [f"At most {REASON_MAX} characters."]}
        )
    return text


def _ref_clean(ref: str) -> str:
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


def _reservation_until(minutes: int | None) -> Any:
    minutes = settings.INVENTORY_RESERVATION_MINUTES if minutes is None else minutes
    if not 1 <= minutes <= MAX_RESERVATION_MINUTES:
        raise ApplicationError(
            "A reservation lasts between a minute and a week.",
            fields={"minutes": [f"Between 1 and {MAX_RESERVATION_MINUTES} minutes."]},
        )
    return timezone.now() + timedelta(minutes=minutes)


def _label(item: Msisdn | SimCard) -> str:
    if isinstance(item, Msisdn):
        return msisdn_display(item.number)
    return f"SIM {item.iccid}"


def _status_label(model: type[Msisdn] | type[SimCard], status: str) -> str:
    return str(dict(model.Status.choices).get(status, status)).lower()


def _event(item: Msisdn | SimCard, **fields: Any) -> InventoryEvent:
    if isinstance(item, Msisdn):
        return InventoryEvent(msisdn=item, **fields)
    return InventoryEvent(sim=item, **fields)


def _transition(
    item: Item,
    *,
    new_status: str,
    actor: User | None,
    reason: str,
    updates: dict[str, Any] | None = None,
    ref: str | None = None,
    sources: frozenset[str] | None = None,
) -> Item:
    """Move one number or SIM to `new_status`; call inside a transaction.

    `sources` narrows the statuses this particular change starts from (releasing a
    reservation and ending a quarantine both lead to available, from different places).
    `ref`, when given, must be the reference holding the reservation if the item is reserved:
    a reservation made for one sale cannot be used or released by another.
    """
    model = type(item)
    current = model.objects.get(pk=item.pk)
    old_status = current.status
    if sources is not None and old_status not in sources:
        expected = " or ".join(_status_label(model, status) for status in sorted(sources))
        raise InvalidTransition(
            f"{_label(current)} is {_status_label(model, old_status)}, not {expected}."
        )
    if new_status not in model.TRANSITIONS[old_status]:
        raise InvalidTransition(
            f"{_label(current)} is {_status_label(model, old_status)}; "
            f"it cannot become {_status_label(model, new_status)}."
        )
    conditions: dict[str, Any] = {"pk": current.pk, "status": old_status}
    if ref is not None and old_status == model.Status.RESERVED:
        if current.reservation_ref != ref:
            raise ApplicationError(
                f"{_label(current)} is reserved for another sale ({current.reservation_ref}).",
                code="reserved_elsewhere",
            )
        conditions["reservation_ref"] = ref
    now = timezone.now()
    values = {"status": new_status, "updated_at": now, **(updates or {})}
    if model.objects.filter(**conditions).update(**values) != 1:
        raise ApplicationError(
            f"{_label(current)} was taken or changed by someone else a moment ago.",
            code="conflict",
        )
    for name, value in values.items():
        setattr(current, name, value)
    _event(
        current,
        old_status=old_status,
        new_status=new_status,
        actor=actor,
        reason=reason[:REASON_MAX],
        created_at=now,
    ).save()
    return current


def _reservation_extend(item: Msisdn | SimCard, ref: str, until: Any) -> bool:
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


# --- numbers ------------------------------------------------------------------------------------


def _msisdn_resolve(msisdn: Msisdn | str, field: str = "number") -> Msisdn:
    if isinstance(msisdn, Msisdn):
        return msisdn
    try:
        number = msisdn_clean(msisdn)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], fields={field: exc.messages}) from exc
    found = Msisdn.objects.filter(number=number).first()
    if found is None:
        message = f"{msisdn_display(number)} is not in the number pool."
        raise ApplicationError(message, code="not_found", fields={field: [message]})
    return found


@transaction.atomic
def msisdn_reserve(
    *,
    ref: str,
    actor: User | None,
    msisdn: Msisdn | str | None = None,
    category: str | None = None,
    minutes: int | None = None,
) -> Msisdn:
    """Hold a number for a sale in progress, until it is assigned, released or expires.

    Either a named number (the customer chose it) or the next available one of a category.
    The hold expires by itself (`msisdn_reservations_expire`) so an abandoned sale cannot
    keep a number out of the pool. Reserving again with the same reference extends the hold,
    so a retried request is harmless.
    """
    ref = _ref_clean(ref)
    until = _reservation_until(minutes)
    updates = {"reserved_until": until, "reservation_ref": ref}
    if (msisdn is None) == (category is None):
        raise ApplicationError("Name a number or a category, not both.", code="invalid")
    if msisdn is not None:
        item = Msisdn.objects.get(pk=_msisdn_resolve(msisdn).pk)
        if _reservation_extend(item, ref, until):
            return item
        return _transition(
            item,
            new_status=Msisdn.Status.RESERVED,
            actor=actor,
            reason=f"Reserved for {ref}",
            updates=updates,
        )
    if category not in Msisdn.Category.values:
        raise ApplicationError(
            f"{category!r} is not a number category.", fields={"category": ["Unknown category."]}
        )
    picked = (
        Msisdn.objects.select_for_update(skip_locked=True)
        .filter(status=Msisdn.Status.AVAILABLE, category=category)
        .order_by("number")
        .first()
    )
    if picked is None:
        label = Msisdn.Category(category).label.lower()
        raise ApplicationError(
            f"No {label} number is available.",
            code="out_of_stock",
            fields={"category": [f"No {label} number is available."]},
        )
    return _transition(
        picked,
        new_status=Msisdn.Status.RESERVED,
        actor=actor,
        reason=f"Reserved for {ref}",
        updates=updates,
    )


@transaction.atomic
def msisdn_release(
    *, msisdn: Msisdn, actor: User | None, reason: str, ref: str | None = None
) -> Msisdn:
    """Give a reserved number back to the pool (a sale was abandoned or cancelled).

    A sale passes its `ref` and may release only its own reservation; the back office passes
    none and may release any, with a reason.
    """
    return _transition(
        msisdn,
        new_status=Msisdn.Status.AVAILABLE,
        actor=actor,
        reason=_reason_clean(reason),
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=None if ref is None else _ref_clean(ref),
        sources=frozenset({Msisdn.Status.RESERVED}),
    )


@transaction.atomic
def msisdn_assign(
    *, msisdn: Msisdn | str, ref: str, actor: User | None, reason: str = ""
) -> Msisdn:
    """Give a number to a line: from the sale's own reservation, or straight from the pool."""
    ref = _ref_clean(ref)
    return _transition(
        _msisdn_resolve(msisdn),
        new_status=Msisdn.Status.ASSIGNED,
        actor=actor,
        reason=_reason_clean(reason, default=f"Assigned by {ref}"),
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=ref,
    )


@transaction.atomic
def msisdn_quarantine(
    *, msisdn: Msisdn | str, actor: User | None, reason: str, days: int | None = None
) -> Msisdn:
    """Rest a terminated line's number before it is sold again.

    Callers of the old owner keep dialling a number for a while; re-selling it at once would
    send their calls to a stranger. It returns to the pool after settings.MSISDN_QUARANTINE_DAYS
    (`msisdn_quarantines_end`).
    """
    days = settings.MSISDN_QUARANTINE_DAYS if days is None else days
    if days < 0:
        raise ApplicationError("A quarantine cannot be negative.", fields={"days": ["At least 0."]})
    return _transition(
        _msisdn_resolve(msisdn),
        new_status=Msisdn.Status.QUARANTINED,
        actor=actor,
        reason=_reason_clean(reason),
        updates={"quarantined_until": timezone.now() + timedelta(days=days)},
    )


@transaction.atomic
def msisdn_quarantine_end(*, msisdn: Msisdn, actor: User | None, reason: str) -> Msisdn:
    """End a quarantine early (the number is wanted back); the reason is audited."""
    return _transition(
        msisdn,
        new_status=Msisdn.Status.AVAILABLE,
        actor=actor,
        reason=_reason_clean(reason),
        updates={"quarantined_until": None},
        sources=frozenset({Msisdn.Status.QUARANTINED}),
    )


def msisdn_reservations_expire(*, chunk_size: int = SWEEP_CHUNK) -> int:
    """Return numbers whose reservation has run out to the pool; returns how many.

    Chunks commit one by one and skip rows another transaction holds (a sale assigning its
    number right now), so several workers may run it at once and a re-run only finds what is
    left.
    """
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                Msisdn.objects.select_for_update(skip_locked=True)
                .filter(status=Msisdn.Status.RESERVED, reserved_until__lte=timezone.now())
                .order_by("reserved_until", "pk")
                .values_list("pk", "reservation_ref")[:chunk_size]
            )
            if not due:
                return total
            now = timezone.now()
            Msisdn.objects.filter(pk__in=[pk for pk, _ in due]).update(
                status=Msisdn.Status.AVAILABLE,
                reserved_until=None,
                reservation_ref="",
                updated_at=now,
            )
            InventoryEvent.objects.bulk_create(
                InventoryEvent(
                    msisdn_id=pk,
                    old_status=Msisdn.Status.RESERVED,
                    new_status=Msisdn.Status.AVAILABLE,
                    reason=f"Reservation for {ref} expired"[:REASON_MAX],
                    created_at=now,
                )
                for pk, ref in due
            )
        total += len(due)


def msisdn_quarantines_end(*, chunk_size: int = SWEEP_CHUNK) -> int:
    """Return numbers whose quarantine is over to the pool; chunked and re-runnable."""
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                Msisdn.objects.select_for_update(skip_locked=True)
                .filter(status=Msisdn.Status.QUARANTINED, quarantined_until__lte=timezone.now())
                .order_by("quarantined_until", "pk")
                .values_list("pk", flat=True)[:chunk_size]
            )
            if not due:
                return total
            now = timezone.now()
            Msisdn.objects.filter(pk__in=due).update(
                status=Msisdn.Status.AVAILABLE, quarantined_until=None, updated_at=now
            )
            InventoryEvent.objects.bulk_create(
                InventoryEvent(
                    msisdn_id=pk,
                    old_status=Msisdn.Status.QUARANTINED,
                    new_status=Msisdn.Status.AVAILABLE,
                    reason="Quarantine over",
                    created_at=now,
                )
                for pk in due
            )
        total += len(due)


# --- SIMs ---------------------------------------------------------------------------------------


def _sim_resolve(sim: SimCard | str, field: str = "iccid") -> SimCard:
    if isinstance(sim, SimCard):
        return sim
    try:
        iccid = iccid_clean(sim)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], fields={field: exc.messages}) from exc
    found = SimCard.objects.filter(iccid=iccid).first()
    if found is None:
        message = f"SIM {iccid} is not in stock."
        raise ApplicationError(message, code="not_found", fields={field: [message]})
    return found


def _stock_status(partner_id: int | None) -> str:
    """Where a SIM goes when it stops being reserved: its partner's shelf, or central stock."""
    return SimCard.Status.ALLOCATED if partner_id is not None else SimCard.Status.IN_STOCK


def _partner_check(partner: Partner) -> None:
    if partner.status != Partner.Status.ACTIVE:
        message = f"{partner.name} is {partner.get_status_display().lower()}."
        raise ApplicationError(message, code="partner_inactive", fields={"partner": [message]})


@transaction.atomic
def sim_allocate(
    *,
    partner: Partner,
    actor: User,
    sims: Sequence[SimCard | str] | None = None,
    count: int | None = None,
    batch: SimBatch | None = None,
    reason: str = "",
) -> int:
    """Put SIMs on a partner's shelf: named ones (SimCards or ICCIDs), or `count` from stock.

    All or nothing: one named SIM that is not in stock refuses the lot. Picks by count lock
    their rows with SKIP LOCKED, so two allocations at once take different SIMs.
    """
    _partner_check(partner)
    reason = _reason_clean(reason, default=f"Allocated to {partner.name}")
    if (sims is None) == (count is None):
        raise ApplicationError("Name the SIMs or give a count, not both.", code="invalid")
    in_stock = SimCard.objects.filter(status=SimCard.Status.IN_STOCK)
    if count is not None:
        if not 1 <= count <= SIM_ALLOCATE_MAX:
            raise ApplicationError(
                "Allocate between 1 and 10,000 SIMs at a time.",
                fields={"count": [f"Between 1 and {SIM_ALLOCATE_MAX:,}."]},
            )
        if batch is not None:
            in_stock = in_stock.filter(batch=batch)
        pks = list(
            in_stock.select_for_update(skip_locked=True)
            .order_by("iccid")
            .values_list("pk", flat=True)[:count]
        )
        if len(pks) < count:
            where = f" in batch “{batch.name}”" if batch is not None else ""
            message = f"Only {len(pks):,} SIMs are in stock{where}; {count:,} were asked for."
            raise ApplicationError(message, code="out_of_stock", fields={"count": [message]})
    else:
        assert sims is not None
        errors = FieldErrors()
        if not sims:
            errors.add("sims", "Name at least one SIM.")
        if len(sims) > SIM_ALLOCATE_MAX:
            errors.add("sims", f"At most {SIM_ALLOCATE_MAX:,} SIMs at a time.")
        errors.raise_if_any("Nothing was allocated.")
        iccids: list[str] = []
        for sim in sims:
            if isinstance(sim, SimCard):
                iccids.append(sim.iccid)
                continue
            try:
                iccids.append(iccid_clean(sim))
            except ValidationError as exc:
                errors.add("sims", exc.messages[0])
        found = {
            iccid: (pk, status)
            for iccid, pk, status in SimCard.objects.select_for_update()
            .filter(iccid__in=iccids)
            .order_by("pk")
            .values_list("iccid", "pk", "status")
        }
        for iccid in dict.fromkeys(iccids):
            if iccid not in found:
                errors.add("sims", f"SIM {iccid} is not in stock.")
            elif found[iccid][1] != SimCard.Status.IN_STOCK:
                label = _status_label(SimCard, found[iccid][1])
                errors.add("sims", f"SIM {iccid} is {label}, not in stock.")
        errors.raise_if_any("Nothing was allocated.")
        pks = [pk for pk, _ in found.values()]
    now = timezone.now()
    changed = SimCard.objects.filter(pk__in=pks, status=SimCard.Status.IN_STOCK).update(
        status=SimCard.Status.ALLOCATED, partner=partner, updated_at=now
    )
    if changed != len(pks):
        raise ApplicationError(
            "Some of these SIMs were taken by someone else a moment ago; nothing was allocated.",
            code="conflict",
        )
    InventoryEvent.objects.bulk_create(
        InventoryEvent(
            sim_id=pk,
            old_status=SimCard.Status.IN_STOCK,
            new_status=SimCard.Status.ALLOCATED,
            actor=actor,
            reason=reason,
            created_at=now,
        )
        for pk in pks
    )
    return len(pks)


@transaction.atomic
def sim_return_to_stock(*, sim: SimCard, actor: User | None, reason: str) -> SimCard:
    """Take an allocated SIM back from its partner into central stock."""
    return _transition(
        sim,
        new_status=SimCard.Status.IN_STOCK,
        actor=actor,
        reason=_reason_clean(reason),
        updates={"partner": None},
        sources=frozenset({SimCard.Status.ALLOCATED}),
    )


@transaction.atomic
def sim_reserve(
    *,
    ref: str,
    actor: User | None,
    sim: SimCard | str | None = None,
    partner: Partner | None = None,
    minutes: int | None = None,
) -> SimCard:
    """Hold a SIM for a sale in progress: a named one (the card in the shop assistant's hand)
    or the next one on `partner`'s shelf (central stock without a partner). Expires by itself.
    """
    ref = _ref_clean(ref)
    updates = {"reserved_until": _reservation_until(minutes), "reservation_ref": ref}
    reason = f"Reserved for {ref}"
    if sim is not None:
        item = SimCard.objects.get(pk=_sim_resolve(sim).pk)
        if partner is not None and item.partner_id != partner.pk:
            message = f"SIM {item.iccid} is not on {partner.name}'s shelf."
            raise ApplicationError(message, code="not_found", fields={"iccid": [message]})
        if _reservation_extend(item, ref, updates["reserved_until"]):
            return item
        return _transition(
            item, new_status=SimCard.Status.RESERVED, actor=actor, reason=reason, updates=updates
        )
    shelf = (
        SimCard.objects.filter(status=SimCard.Status.ALLOCATED, partner=partner)
        if partner is not None
        else SimCard.objects.filter(status=SimCard.Status.IN_STOCK)
    )
    picked = shelf.select_for_update(skip_locked=True).order_by("iccid").first()
    if picked is None:
        where = f"on {partner.name}'s shelf" if partner is not None else "in stock"
        raise ApplicationError(f"No SIM is {where}.", code="out_of_stock")
    return _transition(
        picked, new_status=SimCard.Status.RESERVED, actor=actor, reason=reason, updates=updates
    )


@transaction.atomic
def sim_release(
    *, sim: SimCard, actor: User | None, reason: str, ref: str | None = None
) -> SimCard:
    """Put a reserved SIM back where it came from (its partner's shelf or central stock)."""
    return _transition(
        sim,
        new_status=_stock_status(SimCard.objects.get(pk=sim.pk).partner_id),
        actor=actor,
        reason=_reason_clean(reason),
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=None if ref is None else _ref_clean(ref),
        sources=frozenset({SimCard.Status.RESERVED}),
    )


@transaction.atomic
def sim_assign(*, sim: SimCard | str, ref: str, actor: User | None, reason: str = "") -> SimCard:
    """Give a SIM to a line: from the sale's own reservation, or straight from stock."""
    ref = _ref_clean(ref)
    return _transition(
        _sim_resolve(sim),
        new_status=SimCard.Status.ASSIGNED,
        actor=actor,
        reason=_reason_clean(reason, default=f"Assigned by {ref}"),
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=ref,
    )


@transaction.atomic
def sim_block(*, sim: SimCard, actor: User | None, reason: str) -> SimCard:
    """Bar a line's SIM for good (lost or stolen); it can never be used again."""
    return _transition(
        sim, new_status=SimCard.Status.BLOCKED, actor=actor, reason=_reason_clean(reason)
    )


@transaction.atomic
def sim_mark_damaged(*, sim: SimCard, actor: User | None, reason: str) -> SimCard:
    """Write off a faulty or broken SIM."""
    return _transition(
        sim, new_status=SimCard.Status.DAMAGED, actor=actor, reason=_reason_clean(reason)
    )


def sim_reservations_expire(*, chunk_size: int = SWEEP_CHUNK) -> int:
    """Return SIMs whose reservation ran out to their shelf; chunked and re-runnable."""
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                SimCard.objects.select_for_update(skip_locked=True)
                .filter(status=SimCard.Status.RESERVED, reserved_until__lte=timezone.now())
                .order_by("reserved_until", "pk")
                .values_list("pk", "partner_id", "reservation_ref")[:chunk_size]
            )
            if not due:
                return total
            now = timezone.now()
            SimCard.objects.filter(pk__in=[pk for pk, _, _ in due]).update(
                status=Case(
                    When(partner__isnull=False, then=Value(SimCard.Status.ALLOCATED)),
                    default=Value(SimCard.Status.IN_STOCK),
                ),
                reserved_until=None,
                reservation_ref="",
                updated_at=now,
            )
            InventoryEvent.objects.bulk_create(
                InventoryEvent(
                    sim_id=pk,
                    old_status=SimCard.Status.RESERVED,
                    new_status=_stock_status(partner_id),
                    reason=f"Reservation for {ref} expired"[:REASON_MAX],
                    created_at=now,
                )
                for pk, partner_id, ref in due
            )
        total += len(due)


@transaction.atomic
def sim_swap_inventory(
    *,
    subscriber: Subscriber,
    new_sim: SimCard | str,
    actor: User,
    reason: str,
    ref: str = "",
    old_sim_status: str = SimCard.Status.BLOCKED,
) -> Subscriber:
    """Move a line to a new SIM; the line keeps its number (MSISDN) and its status.

    The new SIM becomes assigned (from stock, a shelf, or the sale's reservation `ref`); the
    old one, when it is in stock records, is blocked (lost, stolen) or marked damaged so it
    can never reach the network again. The line's ICCID and IMSI change in the same
    transaction, and the customer's timeline records the swap.
    """
    reason = _reason_clean(reason)
    if old_sim_status not in (SimCard.Status.BLOCKED, SimCard.Status.DAMAGED):
        raise ApplicationError(
            "The old SIM is either blocked or marked damaged.",
            fields={"old_sim_status": ["Choose blocked or damaged."]},
        )
    line = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if line.status == Subscriber.Status.TERMINATED:
        raise InvalidTransition(f"{line.msisdn_display} is terminated; its SIM cannot change.")
    sim = _sim_resolve(new_sim, field="new_sim")
    if sim.iccid == line.iccid:
        message = "This is already the line's SIM."
        raise ApplicationError(message, fields={"new_sim": [message]})
    holder = (
        Subscriber.objects.exclude(status=Subscriber.Status.TERMINATED)
        .exclude(pk=line.pk)
        .filter(iccid=sim.iccid)
        .first()
    )
    if holder is not None:
        message = f"SIM {sim.iccid} is the SIM of line {holder.msisdn_display}."
        raise ApplicationError(message, code="conflict", fields={"new_sim": [message]})
    sim = _transition(
        sim,
        new_status=SimCard.Status.ASSIGNED,
        actor=actor,
        reason=f"SIM swap for {line.msisdn_display}: {reason}"[:REASON_MAX],
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=ref.strip() or None,
    )
    old_iccid = line.iccid
    old_sim = SimCard.objects.filter(iccid=old_iccid).first()
    if old_sim is not None and old_sim.status not in (
        SimCard.Status.BLOCKED,
        SimCard.Status.DAMAGED,
    ):
        _transition(
            old_sim,
            new_status=old_sim_status,
            actor=actor,
            reason=f"Replaced on {line.msisdn_display}: {reason}"[:REASON_MAX],
        )
    try:
        with transaction.atomic():
            Subscriber.objects.filter(pk=line.pk).update(
                iccid=sim.iccid, imsi=sim.imsi, updated_at=timezone.now()
            )
    except IntegrityError as exc:
        message = f"SIM {sim.iccid} or its IMSI belongs to another live line."
        raise ApplicationError(message, code="conflict", fields={"new_sim": [message]}) from exc
    Interaction.objects.create(
        customer=line.account.customer,
        kind=Interaction.Kind.NOTE,
        direction=Interaction.Direction.INTERNAL,
        subject="SIM swapped",
        body=f"SIM of {line.msisdn_display} swapped from {old_iccid} to {sim.iccid}: {reason}",
        author=actor,
    )
    line.iccid, line.imsi = sim.iccid, sim.imsi
    return line


@transaction.atomic
def line_identifiers_claim(*, msisdn: str, iccid: str, actor: User, reason: str) -> None:
    """Take a line's number and SIM out of stock when the line is connected outside an order
    (the console's one-form onboarding), so the pool can never sell them again.

    Items the pool does not know (numbers ported in, SIMs from before the stock records) are
    left alone; items it knows must be free: not held for another sale, not resting in
    quarantine, not blocked. An item already assigned is left to the line's own uniqueness
    check (an order assigns its number and SIM just before it connects the line).
    """
    errors = FieldErrors()
    number = Msisdn.objects.filter(number=msisdn).first()
    if number is not None:
        if number.status == Msisdn.Status.AVAILABLE:
            _transition(number, new_status=Msisdn.Status.ASSIGNED, actor=actor, reason=reason)
        elif number.status == Msisdn.Status.RESERVED:
            errors.add("msisdn", f"This number is reserved for {number.reservation_ref}.")
        elif number.status == Msisdn.Status.QUARANTINED:
            until = number.quarantined_until
            errors.add(
                "msisdn",
                "This number is resting in quarantine"
                + (f" until {until:%d %b %Y}." if until else "."),
            )
    sim = SimCard.objects.filter(iccid=iccid).first()
    if sim is not None:
        if sim.status in (SimCard.Status.IN_STOCK, SimCard.Status.ALLOCATED):
            _transition(sim, new_status=SimCard.Status.ASSIGNED, actor=actor, reason=reason)
        elif sim.status == SimCard.Status.RESERVED:
            errors.add("iccid", f"This SIM is reserved for {sim.reservation_ref}.")
        elif sim.status in (SimCard.Status.BLOCKED, SimCard.Status.DAMAGED):
            errors.add("iccid", f"This SIM is {sim.get_status_display().lower()}.")
    errors.raise_if_any("The number or SIM is not free.")
