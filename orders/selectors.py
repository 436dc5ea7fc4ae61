"""Role-scoped reads of orders: visible exactly when their customer is."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from crm.selectors import customer_qs_for
from orders.models import Order, OrderEvent, OrderLine

if TYPE_CHECKING:
    from common.types import Actor


def order_qs_for(actor: Actor) -> QuerySet[Order]:
    return Order.objects.filter(customer__in=customer_qs_for(actor)).select_related(
        "customer", "account", "subscriber", "plan", "placed_by", "msisdn", "sim"
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
