"""Every capability of the billing app, named once, with the roles that hold it (gathered by
common.roles)."""

from __future__ import annotations

from enum import StrEnum

from common.roles import Role


class BillingPerm(StrEnum):
    PUSH_USAGE = "billing.push_usage"
    VIEW_USAGE = "billing.view_usage"
    MANAGE_USAGE = "billing.manage_usage"


ROLE_GRANTS: dict[Role, list[BillingPerm]] = {
    Role.CSR: [BillingPerm.VIEW_USAGE],
    Role.SUPERVISOR: [BillingPerm.VIEW_USAGE, BillingPerm.MANAGE_USAGE],
    Role.ADMIN: [BillingPerm.PUSH_USAGE, BillingPerm.VIEW_USAGE, BillingPerm.MANAGE_USAGE],
}

# Mediation and network systems push usage and read back what became of it.
API_KEY_GRANTABLE: tuple[BillingPerm, ...] = (BillingPerm.PUSH_USAGE, BillingPerm.VIEW_USAGE)
