"""Role-scoped reads of orders: visible exactly when their customer is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from billing.balances.models import Bucket
from billing.selectors import allowances_live_by_line
from crm.models import Subscriber
from crm.selectors import customer_qs_for
from orders.catalog.models import AddOn
from orders.models import Order, OrderEvent, OrderLine, SubscriberAddOn

if TYPE_CHECKING:
    from common.types import Actor


def order_qs_for(actor: Actor) -> QuerySet[Order]:
    return Order.objects.filter(customer__in=customer_qs_for(actor)).select_related(
        "customer", "account", "subscriber", "plan", "placed_by", "msisdn", "sim", "partner"
    )


def order_get_for(actor: Actor, public_id: UUID | str) -> Order:
    """The order with its lines and events; someone else's order raises Http404."""
    qs = order_qs_for(actor).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("plan", "addon", "device")),
        Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
    )
    return get_object_or_404(qs, public_id=public_id)


def orders_of_customer(actor: Actor, customer_id: int, *, limit: int = 20) -> list[Order]:
    return list(order_qs_for(actor).filter(customer_id=customer_id).order_by("-created_at")[:limit])


def addons_held_by(subscriber: Subscriber) -> list[AddOn]:
    """The add-ons the line holds now (bought through orders, not yet expired), once per
    holding: a stackable add-on bought twice appears twice."""
    holdings = SubscriberAddOn.objects.filter(
        subscriber=subscriber, expires_at__gt=timezone.now()
    ).select_related("addon")
    return [holding.addon for holding in holdings]


def addon_codes_held_by(subscriber: Subscriber) -> list[str]:
    return [addon.code for addon in addons_held_by(subscriber)]


@dataclass(frozen=True, slots=True)
class LineHoldings:
    """What a line holds now: its add-ons (with expiry) and its allowances (with what is left)."""

    addons: list[SubscriberAddOn] = field(default_factory=list)
    allowances: list[Bucket] = field(default_factory=list)


def line_holdings(lines: list[Subscriber]) -> dict[int, LineHoldings]:
    """The holdings of many lines in two queries, by line pk."""
    pks = [line.pk for line in lines]
    addons: dict[int, list[SubscriberAddOn]] = {pk: [] for pk in pks}
    held = (
        SubscriberAddOn.objects.filter(subscriber_id__in=pks, expires_at__gt=timezone.now())
        .select_related("addon")
        .order_by("expires_at", "pk")
    )
    for holding in held:
        addons[holding.subscriber_id].append(holding)
    allowances = allowances_live_by_line(pks)
    return {pk: LineHoldings(addons[pk], allowances[pk]) for pk in pks}
