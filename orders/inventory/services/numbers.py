"""The number pool: reserve, assign, release, allocate to partners, quarantine, and the sweeps
that end lapsed reservations and quarantines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.actors import system_actor
from common.errors import ApplicationError, FieldErrors
from common.parsing import reason_parse
from crm.models import User
from crm.validators import msisdn_clean, msisdn_display
from orders.inventory.models import InventoryEvent, Msisdn
from orders.inventory.services._base import (
    SWEEP_CHUNK,
    Stock,
    named_items_locked,
    partner_check,
    ref_clean,
    reservation_extend,
    reservation_until,
    reservations_expire,
    shelf_check,
    shelve,
    transition,
)
from partners.models import Partner

NUMBER_ALLOCATE_MAX = 10_000
NUMBERS = Stock(
    model=Msisdn,
    key="number",
    clean=msisdn_clean,
    show=msisdn_display,
    field="numbers",
    free=Msisdn.Status.AVAILABLE,
    free_words="available",
    unknown_words="is not in the number pool",
    plural="numbers",
)


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


def _shelf_status(partner_id: int | None) -> str:
    """Where a number goes when it stops being reserved: its partner's shelf, or the pool."""
    return Msisdn.Status.ALLOCATED if partner_id is not None else Msisdn.Status.AVAILABLE


@transaction.atomic
def msisdn_reserve(
    *,
    ref: str,
    actor: User | None,
    msisdn: Msisdn | str | None = None,
    category: str | None = None,
    partner: Partner | None = None,
    minutes: int | None = None,
) -> Msisdn:
    """Hold a number for a sale in progress, until it is assigned, released or expires.

    Either a named number (the customer chose it) or the next free one of a category: from
    `partner`'s shelf when a partner sells, else from the operator's pool. A number allocated
    to a partner is sold only by that partner. The hold expires by itself
    (`msisdn_reservations_expire`) so an abandoned sale cannot keep a number out of the pool.
    Reserving again with the same reference extends the hold, so a retried request is harmless.
    """
    ref = ref_clean(ref)
    if partner is not None:
        partner_check(partner)
    until = reservation_until(minutes)
    updates = {"reserved_until": until, "reservation_ref": ref}
    if (msisdn is None) == (category is None):
        raise ApplicationError("Name a number or a category, not both.", code="invalid")
    if msisdn is not None:
        item = Msisdn.objects.get(pk=_msisdn_resolve(msisdn).pk)
        if reservation_extend(item, ref, until):
            return item
        if item.status in (Msisdn.Status.AVAILABLE, Msisdn.Status.ALLOCATED):
            shelf_check(item, partner, "number")
        return transition(
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
    shelf = (
        Msisdn.objects.filter(status=Msisdn.Status.ALLOCATED, partner=partner)
        if partner is not None
        else Msisdn.objects.filter(status=Msisdn.Status.AVAILABLE)
    )
    picked = (
        shelf.select_for_update(skip_locked=True)
        .filter(category=category)
        .order_by("number")
        .first()
    )
    if picked is None:
        label = Msisdn.Category(category).label.lower()
        where = f" on {partner.name}'s shelf" if partner is not None else ""
        message = f"No {label} number is available{where}."
        raise ApplicationError(message, code="out_of_stock", fields={"category": [message]})
    return transition(
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
    """Give a reserved number back (a sale was abandoned or cancelled): to its partner's shelf
    when it is allocated to one, else to the pool.

    A sale passes its `ref` and may release only its own reservation; the back office passes
    none and may release any, with a reason.
    """
    current = Msisdn.objects.get(pk=msisdn.pk)
    return transition(
        current,
        new_status=_shelf_status(current.partner_id),
        actor=actor,
        reason=reason_parse(reason),
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=None if ref is None else ref_clean(ref),
        sources=frozenset({Msisdn.Status.RESERVED}),
    )


@transaction.atomic
def msisdn_assign(
    *,
    msisdn: Msisdn | str,
    ref: str,
    actor: User | None,
    reason: str = "",
    partner: Partner | None = None,
) -> Msisdn:
    """Give a number to a line: from the sale's own reservation, or straight from the pool
    (or `partner`'s shelf)."""
    ref = ref_clean(ref)
    item = Msisdn.objects.get(pk=_msisdn_resolve(msisdn).pk)
    if item.status in (Msisdn.Status.AVAILABLE, Msisdn.Status.ALLOCATED):
        if partner is not None:  # a sale straight from the shelf, with no reservation first
            partner_check(partner)
        shelf_check(item, partner, "number")
    return transition(
        item,
        new_status=Msisdn.Status.ASSIGNED,
        actor=actor,
        reason=reason_parse(reason, default=f"Assigned by {ref}"),
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=ref,
    )


@transaction.atomic
def msisdn_allocate(
    *,
    partner: Partner,
    actor: User,
    numbers: Sequence[Msisdn | str] | None = None,
    count: int | None = None,
    category: str = Msisdn.Category.STANDARD,
    reason: str = "",
) -> int:
    """Put numbers on a partner's shelf: named ones, or `count` free ones of a category.

    All or nothing: one named number that is not free in the pool refuses the lot. Picks by
    count lock their rows with SKIP LOCKED, so two allocations at once take different numbers.
    """
    partner_check(partner)
    reason = reason_parse(reason, default=f"Allocated to {partner.name}")
    if (numbers is None) == (count is None):
        raise ApplicationError("Name the numbers or give a count, not both.", code="invalid")
    free = Msisdn.objects.filter(status=Msisdn.Status.AVAILABLE)
    errors = FieldErrors()
    if count is not None:
        if not 1 <= count <= NUMBER_ALLOCATE_MAX:
            raise ApplicationError(
                f"Allocate between 1 and {NUMBER_ALLOCATE_MAX:,} numbers at a time.",
                fields={"count": [f"Between 1 and {NUMBER_ALLOCATE_MAX:,}."]},
            )
        if category not in Msisdn.Category.values:
            raise ApplicationError(
                f"{category!r} is not a number category.", fields={"category": ["Unknown."]}
            )
        pks = list(
            free.filter(category=category)
            .select_for_update(skip_locked=True)
            .order_by("number")
            .values_list("pk", flat=True)[:count]
        )
        if len(pks) < count:
            label = Msisdn.Category(category).label.lower()
            message = f"Only {len(pks):,} {label} numbers are free; {count:,} were asked for."
            raise ApplicationError(message, code="out_of_stock", fields={"count": [message]})
    else:
        assert numbers is not None
        if not numbers:
            errors.add("numbers", "Name at least one number.")
        if len(numbers) > NUMBER_ALLOCATE_MAX:
            errors.add("numbers", f"At most {NUMBER_ALLOCATE_MAX:,} numbers at a time.")
        errors.raise_if_any("Nothing was allocated.")
        pks = named_items_locked(NUMBERS, numbers, errors)
        errors.raise_if_any("Nothing was allocated.")
    return shelve(NUMBERS, pks, partner=partner, actor=actor, reason=reason)


@transaction.atomic
def msisdn_return_to_pool(*, msisdn: Msisdn, actor: User | None, reason: str) -> Msisdn:
    """Take an allocated number back from its partner into the operator's pool."""
    return transition(
        msisdn,
        new_status=Msisdn.Status.AVAILABLE,
        actor=actor,
        reason=reason_parse(reason),
        updates={"partner": None},
        sources=frozenset({Msisdn.Status.ALLOCATED}),
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
    return transition(
        _msisdn_resolve(msisdn),
        new_status=Msisdn.Status.QUARANTINED,
        actor=actor,
        reason=reason_parse(reason),
        updates={"quarantined_until": timezone.now() + timedelta(days=days)},
    )


@transaction.atomic
def msisdn_quarantine_end(*, msisdn: Msisdn, actor: User | None, reason: str) -> Msisdn:
    """End a quarantine early (the number is wanted back); the reason is audited. The number
    returns to the operator's pool, whoever sold it before."""
    return transition(
        msisdn,
        new_status=Msisdn.Status.AVAILABLE,
        actor=actor,
        reason=reason_parse(reason),
        updates={"quarantined_until": None, "partner": None},
        sources=frozenset({Msisdn.Status.QUARANTINED}),
    )


def msisdn_reservations_expire(*, chunk_size: int = SWEEP_CHUNK) -> int:
    """Return numbers whose reservation has run out to their shelf (see _base); how many."""
    return reservations_expire(NUMBERS, chunk_size=chunk_size)


def msisdn_quarantines_end(*, chunk_size: int = SWEEP_CHUNK) -> int:
    """Return numbers whose quarantine is over to the pool; chunked and re-runnable. Acts as
    the system actor."""
    actor = system_actor()
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
                status=Msisdn.Status.AVAILABLE,
                quarantined_until=None,
                partner=None,
                updated_at=now,
            )
            InventoryEvent.objects.bulk_create(
                InventoryEvent(
                    msisdn_id=pk,
                    old_status=Msisdn.Status.QUARANTINED,
                    new_status=Msisdn.Status.AVAILABLE,
                    actor=actor,
                    reason="Quarantine over",
                    created_at=now,
                )
                for pk in due
            )
        total += len(due)
