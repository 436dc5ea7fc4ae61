"""Every capability of the orders app, named once."""

from __future__ import annotations

from enum import StrEnum


class OrdersPerm(StrEnum):
    MANAGE_CATALOG = "orders.manage_catalog"
    MANAGE_INVENTORY = "orders.manage_inventory"
    PLACE_ORDER = "orders.place_order"
