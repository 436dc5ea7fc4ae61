"""Every write to the product catalog: price plans and their versions, allowances, charging
tiers, add-ons and device models (their serial-numbered stock is orders.inventory's).

Each service checks all of its input at once and raises one ApplicationError whose `fields`
name every field at fault, so a form shows every problem in one round trip. Field names are the
keyword arguments; rows of a list are named `<list>.<index>.<field>` (e.g. `tiers.2.to_quantity`).
"""

from __future__ import annotations

from orders.catalog.services._checks import AllowanceData
from orders.catalog.services.addons import (
    addon_allowances_set,
    addon_create,
    addon_retire,
    addon_update,
)
from orders.catalog.services.devices import device_create, device_retire, device_update
from orders.catalog.services.plans import (
    TierData,
    plan_allowances_set,
    plan_create,
    plan_new_version,
    plan_publish,
    plan_retire,
    plan_tiers_set,
    plan_update,
)

__all__ = [
    "AllowanceData",
    "TierData",
    "addon_allowances_set",
    "addon_create",
    "addon_retire",
    "addon_update",
    "device_create",
    "device_retire",
    "device_update",
    "plan_allowances_set",
    "plan_create",
    "plan_new_version",
    "plan_publish",
    "plan_retire",
    "plan_tiers_set",
    "plan_update",
]
