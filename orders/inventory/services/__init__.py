"""Every write to the number pool, the SIM stock and device units.

Each status change of one item goes through `_base.transition`: it reads the row, checks the
model's TRANSITIONS table (raising InvalidTransition), then writes with a conditional
`filter(pk=…, status=old).update(…)` and checks that exactly one row changed, so two sales
racing for the same number or SIM cannot both win: the loser's UPDATE matches nothing and it
gets a `conflict` error. "Next available" picks lock their row with
`select_for_update(skip_locked=True)`, so concurrent picks take different rows instead of
queueing for the same one. Every change writes an InventoryEvent (who, when, why).

A number or SIM allocated to a partner is sold only through that partner (`shelf_check`).
Bulk work (allocation, the expiry sweeps, and the imports in orders/inventory/imports.py) is
set-based and chunked.
"""

from __future__ import annotations

from orders.inventory.imports import RangeImportResult, msisdn_range_import, sim_batch_import
from orders.inventory.services.devices import (
    device_item_mark_damaged,
    device_item_reserve,
    device_item_restock,
    device_item_return,
    device_items_add,
    device_items_release,
    device_items_sell,
)
from orders.inventory.services.numbers import (
    msisdn_allocate,
    msisdn_assign,
    msisdn_quarantine,
    msisdn_quarantine_end,
    msisdn_quarantines_end,
    msisdn_release,
    msisdn_reservations_expire,
    msisdn_reserve,
    msisdn_return_to_pool,
)
from orders.inventory.services.sims import (
    sim_allocate,
    sim_assign,
    sim_block,
    sim_mark_damaged,
    sim_release,
    sim_reservations_expire,
    sim_reserve,
    sim_retire_with_line,
    sim_return_to_stock,
    sim_swap_inventory,
)

__all__ = [
    "RangeImportResult",
    "device_item_mark_damaged",
    "device_item_reserve",
    "device_item_restock",
    "device_item_return",
    "device_items_add",
    "device_items_release",
    "device_items_sell",
    "msisdn_allocate",
    "msisdn_assign",
    "msisdn_quarantine",
    "msisdn_quarantine_end",
    "msisdn_quarantines_end",
    "msisdn_range_import",
    "msisdn_release",
    "msisdn_reservations_expire",
    "msisdn_reserve",
    "msisdn_return_to_pool",
    "sim_allocate",
    "sim_assign",
    "sim_batch_import",
    "sim_block",
    "sim_mark_damaged",
    "sim_release",
    "sim_reservations_expire",
    "sim_reserve",
    "sim_retire_with_line",
    "sim_return_to_stock",
    "sim_swap_inventory",
]
