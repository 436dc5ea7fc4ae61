"""The SIM stock: allocate to partners, reserve, assign, block, swap, and the sweep that ends
lapsed reservations."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from common.errors import ApplicationError, FieldErrors, InvalidTransition
from common.parsing import reason_parse
from crm.models import Subscriber, User
from crm.services import subscriber_get_locked, subscriber_sim_change
from crm.validators import iccid_clean
from orders.inventory.models import SimBatch, SimCard
from orders.inventory.services._base import (
    REASON_MAX,
    SIM_ALLOCATE_MAX,
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

SIMS = Stock(
    model=SimCard,
    key="iccid",
    clean=iccid_clean,
    show=lambda iccid: f"SIM {iccid}",
    field="sims",
    free=SimCard.Status.IN_STOCK,
    free_words="in stock",
    unknown_words="is not in stock",
    plural="SIMs",
)


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
    partner_check(partner)
    reason = reason_parse(reason, default=f"Allocated to {partner.name}")
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
        pks = named_items_locked(SIMS, sims, errors)
        errors.raise_if_any("Nothing was allocated.")
    return shelve(SIMS, pks, partner=partner, actor=actor, reason=reason)


@transaction.atomic
def sim_return_to_stock(*, sim: SimCard, actor: User | None, reason: str) -> SimCard:
    """Take an allocated SIM back from its partner into central stock."""
    return transition(
        sim,
        new_status=SimCard.Status.IN_STOCK,
        actor=actor,
        reason=reason_parse(reason),
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
    or the next one on `partner`'s shelf (central stock without a partner). A SIM allocated to a
    partner is sold only by that partner. Expires by itself.
    """
    ref = ref_clean(ref)
    if partner is not None:
        partner_check(partner)
    updates = {"reserved_until": reservation_until(minutes), "reservation_ref": ref}
    reason = f"Reserved for {ref}"
    if sim is not None:
        item = SimCard.objects.get(pk=_sim_resolve(sim).pk)
        if reservation_extend(item, ref, updates["reserved_until"]):
            return item
        if item.status in (SimCard.Status.IN_STOCK, SimCard.Status.ALLOCATED):
            shelf_check(item, partner, "iccid")
        return transition(
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
    return transition(
        picked, new_status=SimCard.Status.RESERVED, actor=actor, reason=reason, updates=updates
    )


@transaction.atomic
def sim_release(
    *, sim: SimCard, actor: User | None, reason: str, ref: str | None = None
) -> SimCard:
    """Put a reserved SIM back where it came from (its partner's shelf or central stock)."""
    return transition(
        sim,
        new_status=_stock_status(SimCard.objects.get(pk=sim.pk).partner_id),
        actor=actor,
        reason=reason_parse(reason),
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=None if ref is None else ref_clean(ref),
        sources=frozenset({SimCard.Status.RESERVED}),
    )


@transaction.atomic
def sim_assign(
    *,
    sim: SimCard | str,
    ref: str,
    actor: User | None,
    reason: str = "",
    partner: Partner | None = None,
) -> SimCard:
    """Give a SIM to a line: from the sale's own reservation, or straight from stock (or
    `partner`'s shelf)."""
    ref = ref_clean(ref)
    item = SimCard.objects.get(pk=_sim_resolve(sim).pk)
    if item.status in (SimCard.Status.IN_STOCK, SimCard.Status.ALLOCATED):
        if partner is not None:  # a sale straight from the shelf, with no reservation first
            partner_check(partner)
        shelf_check(item, partner, "iccid")
    return transition(
        item,
        new_status=SimCard.Status.ASSIGNED,
        actor=actor,
        reason=reason_parse(reason, default=f"Assigned by {ref}"),
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=ref,
    )


@transaction.atomic
def sim_block(*, sim: SimCard, actor: User | None, reason: str) -> SimCard:
    """Bar a line's SIM for good (lost or stolen); it can never be used again."""
    return transition(
        sim, new_status=SimCard.Status.BLOCKED, actor=actor, reason=reason_parse(reason)
    )


@transaction.atomic
def sim_mark_damaged(*, sim: SimCard, actor: User | None, reason: str) -> SimCard:
    """Write off a faulty or broken SIM."""
    return transition(
        sim, new_status=SimCard.Status.DAMAGED, actor=actor, reason=reason_parse(reason)
    )


def sim_reservations_expire(*, chunk_size: int = SWEEP_CHUNK) -> int:
    """Return SIMs whose reservation has run out to their shelf (see _base); how many."""
    return reservations_expire(SIMS, chunk_size=chunk_size)


@transaction.atomic
def sim_swap_inventory(
    *,
    subscriber: Subscriber,
    new_sim: SimCard | str,
    actor: User,
    reason: str,
    ref: str = "",
    old_sim_status: str = SimCard.Status.BLOCKED,
    partner: Partner | None = None,
) -> Subscriber:
    """Move a line to a new SIM; the line keeps its number (MSISDN) and its status.

    The new SIM becomes assigned (from stock, `partner`'s shelf, or the sale's reservation
    `ref`); the old one, when it is in stock records, is blocked (lost, stolen) or marked damaged
    so it can never reach the network again. The line's ICCID and IMSI change in the same
    transaction (crm.services.subscriber_sim_change), which also writes the customer's timeline.
    """
    reason = reason_parse(reason)
    if old_sim_status not in (SimCard.Status.BLOCKED, SimCard.Status.DAMAGED):
        raise ApplicationError(
            "The old SIM is either blocked or marked damaged.",
            fields={"old_sim_status": ["Choose blocked or damaged."]},
        )
    line = subscriber_get_locked(subscriber)
    if line.status == Subscriber.Status.TERMINATED:
        raise InvalidTransition(f"{line.msisdn_display} is terminated; its SIM cannot change.")
    sim = _sim_resolve(new_sim, field="new_sim")
    if sim.iccid == line.iccid:
        message = "This is already the line's SIM."
        raise ApplicationError(message, fields={"new_sim": [message]})
    if sim.status in (SimCard.Status.IN_STOCK, SimCard.Status.ALLOCATED):
        shelf_check(sim, partner, "new_sim")
    sim = transition(
        sim,
        new_status=SimCard.Status.ASSIGNED,
        actor=actor,
        reason=f"SIM swap for {line.msisdn_display}: {reason}"[:REASON_MAX],
        updates={"reserved_until": None, "reservation_ref": ""},
        ref=ref.strip() or None,
    )
    old_sim = SimCard.objects.filter(iccid=line.iccid).first()
    if old_sim is not None and old_sim.status not in (
        SimCard.Status.BLOCKED,
        SimCard.Status.DAMAGED,
    ):
        transition(
            old_sim,
            new_status=old_sim_status,
            actor=actor,
            reason=f"Replaced on {line.msisdn_display}: {reason}"[:REASON_MAX],
        )
    try:
        return subscriber_sim_change(
            subscriber=line, iccid=sim.iccid, imsi=sim.imsi, actor=actor, reason=reason
        )
    except ApplicationError as exc:
        raise ApplicationError(
            exc.message, code=exc.code, fields={"new_sim": [exc.message]}
        ) from exc


@transaction.atomic
def sim_retire_with_line(*, iccid: str, actor: User, reason: str) -> SimCard | None:
    """Block a terminated line's SIM so it never reaches the network again; a SIM the stock
    never knew (from before the stock records) is left alone."""
    sim = SimCard.objects.filter(iccid=iccid, status=SimCard.Status.ASSIGNED).first()
    if sim is None:
        return None
    return transition(sim, new_status=SimCard.Status.BLOCKED, actor=actor, reason=reason)
