"""Every capability of the billing app, named once, with the roles that hold it (gathered by
common.roles)."""

from __future__ import annotations

from enum import StrEnum

from common.roles import Role


class BillingPerm(StrEnum):
    PUSH_USAGE = "billing.push_usage"
    VIEW_USAGE = "billing.view_usage"
    MANAGE_USAGE = "billing.manage_usage"
    VIEW_TARIFFS = "billing.view_tariffs"
    MANAGE_TARIFFS = "billing.manage_tariffs"
    RERATE_USAGE = "billing.rerate_usage"
    VIEW_RECONCILIATION = "billing.view_reconciliation"
    VIEW_BALANCES = "billing.view_balances"
    ADJUST_BALANCES = "billing.adjust_balances"
    APPROVE_ADJUSTMENTS = "billing.approve_adjustments"
    CHARGE_ONLINE = "billing.charge_online"


ROLE_GRANTS: dict[Role, list[BillingPerm]] = {
    Role.CSR: [BillingPerm.VIEW_USAGE, BillingPerm.VIEW_BALANCES, BillingPerm.ADJUST_BALANCES],
    Role.SUPERVISOR: [
        BillingPerm.VIEW_USAGE,
        BillingPerm.MANAGE_USAGE,
        BillingPerm.RERATE_USAGE,
        BillingPerm.VIEW_BALANCES,
        BillingPerm.ADJUST_BALANCES,
        BillingPerm.APPROVE_ADJUSTMENTS,
    ],
    Role.ADMIN: [
        BillingPerm.PUSH_USAGE,
        BillingPerm.VIEW_USAGE,
        BillingPerm.MANAGE_USAGE,
        BillingPerm.VIEW_TARIFFS,
        BillingPerm.MANAGE_TARIFFS,
        BillingPerm.RERATE_USAGE,
        BillingPerm.VIEW_RECONCILIATION,
        BillingPerm.VIEW_BALANCES,
        BillingPerm.ADJUST_BALANCES,
        BillingPerm.APPROVE_ADJUSTMENTS,
        BillingPerm.CHARGE_ONLINE,
    ],
}

# Mediation and network systems push usage and read back what became of it (recycling rejects
# is for people: billing.manage_usage); a machine client may read tariffs and ask what a call
# would cost, while tariffs change by people.
API_KEY_GRANTABLE: tuple[BillingPerm, ...] = (
    BillingPerm.CHARGE_ONLINE,
    BillingPerm.VIEW_BALANCES,
    BillingPerm.PUSH_USAGE,
    BillingPerm.VIEW_USAGE,
    BillingPerm.VIEW_TARIFFS,
)
