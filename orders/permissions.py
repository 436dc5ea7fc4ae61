"""Every capability of the orders app, named once, with the roles that hold it (gathered by
common.roles)."""

from __future__ import annotations

from enum import StrEnum

from common.roles import Role


class OrdersPerm(StrEnum):
    MANAGE_CATALOG = "orders.manage_catalog"
    MANAGE_INVENTORY = "orders.manage_inventory"
    PLACE_ORDER = "orders.place_order"


ROLE_GRANTS: dict[Role, list[OrdersPerm]] = {
    Role.CSR: [OrdersPerm.PLACE_ORDER],
    Role.SUPERVISOR: [OrdersPerm.PLACE_ORDER],
    Role.ADMIN: [OrdersPerm.MANAGE_CATALOG, OrdersPerm.MANAGE_INVENTORY, OrdersPerm.PLACE_ORDER],
}

API_KEY_GRANTABLE: tuple[OrdersPerm, ...] = (OrdersPerm.PLACE_ORDER,)
