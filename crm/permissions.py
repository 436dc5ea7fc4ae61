"""Every capability of the crm app, named once, with the roles that hold it (gathered by
common.roles)."""

from __future__ import annotations

from enum import StrEnum

from common.roles import Role


class CrmPerm(StrEnum):
    ACCESS_CONSOLE = "crm.access_console"
    ACCESS_BACKOFFICE = "crm.access_backoffice"
    ACCESS_PARTNER_PORTAL = "crm.access_partner_portal"
    ACCESS_SELFCARE = "crm.access_selfcare"
    VIEW_ANY_CUSTOMER = "crm.view_any_customer"
    MANAGE_CUSTOMER = "crm.manage_customer"
    ADD_INTERACTION = "crm.add_interaction"
    REVIEW_KYC = "crm.review_kyc"
    CHANGE_SUBSCRIBER_STATUS = "crm.change_subscriber_status"
    TERMINATE_SUBSCRIBER = "crm.terminate_subscriber"


_CSR = [
    CrmPerm.ACCESS_CONSOLE,
    CrmPerm.VIEW_ANY_CUSTOMER,
    CrmPerm.MANAGE_CUSTOMER,
    CrmPerm.ADD_INTERACTION,
    CrmPerm.CHANGE_SUBSCRIBER_STATUS,
]

ROLE_GRANTS: dict[Role, list[CrmPerm]] = {
    Role.CSR: _CSR,
    Role.SUPERVISOR: [*_CSR, CrmPerm.TERMINATE_SUBSCRIBER, CrmPerm.REVIEW_KYC],
    Role.ADMIN: [
        CrmPerm.ACCESS_BACKOFFICE,
        CrmPerm.VIEW_ANY_CUSTOMER,
        CrmPerm.MANAGE_CUSTOMER,
        CrmPerm.ADD_INTERACTION,
        CrmPerm.CHANGE_SUBSCRIBER_STATUS,
        CrmPerm.TERMINATE_SUBSCRIBER,
        CrmPerm.REVIEW_KYC,
    ],
    Role.RESELLER: [CrmPerm.ACCESS_PARTNER_PORTAL],
    Role.SUBSCRIBER: [CrmPerm.ACCESS_SELFCARE],
}

# What an admin may grant to an API key (machine clients never open a front end).
API_KEY_GRANTABLE: tuple[CrmPerm, ...] = (
    CrmPerm.VIEW_ANY_CUSTOMER,
    CrmPerm.MANAGE_CUSTOMER,
    CrmPerm.ADD_INTERACTION,
    CrmPerm.CHANGE_SUBSCRIBER_STATUS,
    CrmPerm.TERMINATE_SUBSCRIBER,
)
