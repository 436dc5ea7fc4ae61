"""Every capability of the billing app, named once, with the roles that hold it (gathered by
common.roles)."""

from __future__ import annotations

from enum import StrEnum

from common.roles import Role


class BillingPerm(StrEnum):
    VIEW_TARIFFS = "billing.view_tariffs"
    MANAGE_TARIFFS = "billing.manage_tariffs"


ROLE_GRANTS: dict[Role, list[BillingPerm]] = {
    Role.ADMIN: [BillingPerm.VIEW_TARIFFS, BillingPerm.MANAGE_TARIFFS],
}

# A machine client may read tariffs and ask what a call would cost; tariffs change by people.
API_KEY_GRANTABLE: tuple[BillingPerm, ...] = (BillingPerm.VIEW_TARIFFS,)
