"""Reads of the number pool, SIM stock and device units: scoped lists, searches, counts and
histories, and device models with how many units are ready to sell."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import phonenumbers
from django.conf import settings
from django.db.models import Count, Q, QuerySet, TextChoices
from django.shortcuts import get_object_or_404

from common.roles import BACKOFFICE
from crm.models import Subscriber
from crm.validators import msisdn_to_e164
from orders.catalog.models import Device
from orders.inventory.models import DeviceItem, InventoryEvent, Msisdn, SimBatch, SimCard
from orders.permissions import OrdersPerm
from partners.models import Partner
from partners.selectors import partner_of

if TYPE_CHECKING:
    from common.types import Actor

PATTERN_CHARACTERS = re.compile(r"[\s\-().]")
PATTERN_VALID = re.compile(r"\+?\d{1,15}")


def _sees_all(actor: Actor) -> bool:
    return actor.has_perm(OrdersPerm.MANAGE_INVENTORY) or actor.has_perm(BACKOFFICE.permission)


def _partner_scope(actor: Actor) -> Q | None:
    """None: everything; otherwise only what sits with the actor's partner subtree."""
    if _sees_all(actor):
        return None
    if actor.is_authenticated and (partner := partner_of(actor)) is not None:
        return Q(partner__path__startswith=partner.path)
    return Q(pk__in=[])


def msisdn_qs_for(actor: Actor) -> QuerySet[Msisdn]:
    scope = _partner_scope(actor)
    qs = Msisdn.objects.select_related("partner")
    return qs if scope is None else qs.filter(scope)


def msisdn_get_for(actor: Actor, number: str) -> Msisdn:
    """A number of the pool by its E.164 form (typed any way); 404 when not visible."""
    return get_object_or_404(msisdn_qs_for(actor), number=msisdn_to_e164(number) or number)


def sim_qs_for(actor: Actor) -> QuerySet[SimCard]:
    scope = _partner_scope(actor)
    qs = SimCard.objects.select_related("partner", "batch")
    return qs if scope is None else qs.filter(scope)


def sim_get_for(actor: Actor, iccid: str) -> SimCard:
    return get_object_or_404(sim_qs_for(actor), iccid=iccid)


def sim_batch_qs_for(actor: Actor) -> QuerySet[SimBatch]:
    if not _sees_all(actor):
        return SimBatch.objects.none()
    return SimBatch.objects.select_related("imported_by")


def sim_batch_get_for(actor: Actor, public_id: UUID | str) -> SimBatch:
    return get_object_or_404(sim_batch_qs_for(actor), public_id=public_id)


# --- searching numbers --------------------------------------------------------------------------


def msisdn_pattern_clean(raw: str) -> str:
    """The digits of a number pattern, keeping a leading + or 0; ValueError when not one.

    `777` finds numbers containing 777 anywhere; `+447500` or `07500` (the national form)
    finds numbers beginning so.
    """
    text = PATTERN_CHARACTERS.sub("", raw.strip())
    if text and not PATTERN_VALID.fullmatch(text):
        raise ValueError("Use digits only, e.g. 777, or a beginning such as 07500 or +447500.")
    return text


def msisdn_pattern_filter(pattern: str) -> Q:
    if not pattern:
        return Q()
    if pattern.startswith("+"):
        return Q(number__startswith=pattern)
    if pattern.startswith("0") and len(pattern) > 1:
        prefix = f"+{phonenumbers.country_code_for_region(settings.OPERATOR_COUNTRY)}"
        return Q(number__startswith=prefix + pattern[1:])
    return Q(number__contains=pattern)


def msisdn_list(
    actor: Actor,
    *,
    status: str = "",
    category: str = "",
    pattern: str = "",
    partner: Partner | None = None,
) -> QuerySet[Msisdn]:
    qs = msisdn_qs_for(actor).filter(msisdn_pattern_filter(pattern))
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if partner is not None:
        qs = qs.filter(partner=partner)
    return qs.order_by("number")


def msisdn_available(*, category: str = "", pattern: str = "", limit: int = 50) -> list[Msisdn]:
    """Numbers a sale may offer, e.g. golden numbers containing 777; in number order."""
    qs = Msisdn.objects.filter(status=Msisdn.Status.AVAILABLE).filter(
        msisdn_pattern_filter(pattern)
    )
    if category:
        qs = qs.filter(category=category)
    return list(qs.order_by("number")[:limit])


def sim_list(
    actor: Actor,
    *,
    status: str = "",
    partner: Partner | None = None,
    batch: SimBatch | None = None,
    text: str = "",
) -> QuerySet[SimCard]:
    """SIMs filtered by status, shelf and batch; `text` is a piece of an ICCID or IMSI."""
    qs = sim_qs_for(actor)
    if status:
        qs = qs.filter(status=status)
    if partner is not None:
        qs = qs.filter(partner=partner)
    if batch is not None:
        qs = qs.filter(batch=batch)
    if text:
        qs = qs.filter(Q(iccid__contains=text) | Q(imsi__contains=text))
    return qs.order_by("iccid")


# --- counts and histories -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tally:
    value: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Breakdown:
    title: str
    rows: list[Tally]

    @property
    def total(self) -> int:
        return sum(row.count for row in self.rows)


def _breakdown(title: str, qs: QuerySet[Any], field: str, choices: type[TextChoices]) -> Breakdown:
    """One GROUP BY; every choice is listed, with 0 where none has it."""
    counts = {row[field]: row["n"] for row in qs.order_by().values(field).annotate(n=Count("pk"))}
    return Breakdown(
        title, [Tally(value, str(label), counts.get(value, 0)) for value, label in choices.choices]
    )


@dataclass(frozen=True, slots=True)
class StockCounts:
    numbers_by_status: Breakdown
    available_numbers_by_category: Breakdown
    sims_by_status: Breakdown


def inventory_counts() -> StockCounts:
    return StockCounts(
        numbers_by_status=_breakdown(
            "Numbers by status", Msisdn.objects.all(), "status", Msisdn.Status
        ),
        available_numbers_by_category=_breakdown(
            "Available numbers by category",
            Msisdn.objects.filter(status=Msisdn.Status.AVAILABLE),
            "category",
            Msisdn.Category,
        ),
        sims_by_status=_breakdown(
            "SIMs by status", SimCard.objects.all(), "status", SimCard.Status
        ),
    )


def sim_batch_list(actor: Actor) -> QuerySet[SimBatch]:
    """Batches, newest first, with how many of their SIMs are still unsold."""
    return (
        sim_batch_qs_for(actor)
        .annotate(
            in_stock=Count("cards", filter=Q(cards__status=SimCard.Status.IN_STOCK)),
            allocated=Count("cards", filter=Q(cards__status=SimCard.Status.ALLOCATED)),
        )
        .order_by("-created_at", "-pk")
    )


def msisdn_line(msisdn: Msisdn) -> Subscriber | None:
    """The live line that has this number, if any."""
    return (
        Subscriber.objects.exclude(status=Subscriber.Status.TERMINATED)
        .filter(msisdn=msisdn.number)
        .select_related("account__customer")
        .first()
    )


def sim_line(sim: SimCard) -> Subscriber | None:
    """The live line that has this SIM, if any."""
    return (
        Subscriber.objects.exclude(status=Subscriber.Status.TERMINATED)
        .filter(iccid=sim.iccid)
        .select_related("account__customer")
        .first()
    )


def msisdn_history(msisdn: Msisdn) -> QuerySet[InventoryEvent]:
    return InventoryEvent.objects.filter(msisdn=msisdn).select_related("actor")


def sim_history(sim: SimCard) -> QuerySet[InventoryEvent]:
    return InventoryEvent.objects.filter(sim=sim).select_related("actor")


def partners_for_allocation() -> QuerySet[Partner]:
    return Partner.objects.filter(status=Partner.Status.ACTIVE).order_by("path")


def sims_on_shelf_by_partner() -> dict[int, int]:
    """{partner pk: SIMs it holds unsold}: on its shelf, or reserved for one of its sales.
    One GROUP BY, for the back office's partner tree."""
    rows = (
        SimCard.objects.filter(
            partner__isnull=False,
            status__in=[SimCard.Status.ALLOCATED, SimCard.Status.RESERVED],
        )
        .order_by()
        .values_list("partner_id")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


# --- device models with their stock --------------------------------------------------------


def _with_stock(devices: QuerySet[Device]) -> QuerySet[Device]:
    return devices.annotate(
        in_stock=Count("items", filter=Q(items__status=DeviceItem.Status.IN_STOCK))
    )


def device_get(public_id: UUID | str) -> Device:
    return get_object_or_404(_with_stock(Device.objects.all()), public_id=public_id)


def devices_all() -> QuerySet[Device]:
    return _with_stock(Device.objects.all()).order_by("status", "kind", "name")


def devices_on_sale(*, kind: str | None = None) -> QuerySet[Device]:
    """Device models on sale, each with `in_stock`: its units ready to be sold."""
    devices = Device.objects.filter(status=Device.Status.ACTIVE)
    if kind:
        devices = devices.filter(kind=kind)
    return _with_stock(devices).order_by("kind", "price_amount", "name")


def device_stock(device: Device) -> list[dict[str, Any]]:
    """How many units of the device are in each status, every status listed."""
    counts = dict(
        DeviceItem.objects.filter(device=device)
        .values("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return [
        {"status": status, "label": label, "count": counts.get(status, 0)}
        for status, label in DeviceItem.Status.choices
    ]


def device_items_recent(device: Device, *, limit: int = 50) -> QuerySet[DeviceItem]:
    return DeviceItem.objects.filter(device=device).order_by("-created_at", "-pk")[:limit]
