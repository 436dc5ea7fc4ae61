"""Placing orders: each kind of order is checked, priced and quoted as a draft here; the number,
SIM and devices it sells are reserved for it at once so two sales can never take the same ones.
Submitting and completing are in orders.services.

Every amount on an order line is in the account's currency: a plan, add-on, device or number
priced in another currency is refused (CurrencyMismatch), never relabelled. Amounts are kept
exact; they are rounded once, when completion posts them as charges (billing.services).

A quote form sends a `quote_token`: asking for the same quote twice (a double click, a retried
request) gives back the draft it made the first time instead of a second one.
"""

from __future__ import annotations

from orders.placing._shared import (
    LIVE_LINE,
    addons_check,
    new_plan_period,
    plan_period_of,
)
from orders.placing.changes import (
    SERVICE_CHANGE_VERBS,
    SERVICE_CHANGES,
    order_addon_create,
    order_plan_change_create,
    order_service_change_create,
    order_sim_swap_create,
    service_change_allowed,
)
from orders.placing.connections import (
    PORT_IN_MAX_DAYS_AHEAD,
    PortIn,
    order_new_connection_create,
    order_new_customer_create,
)

__all__ = [
    "LIVE_LINE",
    "PORT_IN_MAX_DAYS_AHEAD",
    "SERVICE_CHANGES",
    "SERVICE_CHANGE_VERBS",
    "PortIn",
    "addons_check",
    "new_plan_period",
    "order_addon_create",
    "order_new_connection_create",
    "order_new_customer_create",
    "order_plan_change_create",
    "order_service_change_create",
    "order_sim_swap_create",
    "plan_period_of",
    "service_change_allowed",
]
