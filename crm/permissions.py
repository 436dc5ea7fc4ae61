"""Every capability of the crm app, named once."""

from __future__ import annotations

from enum import StrEnum

from orders.permissions import OrdersPerm


class CrmPerm(StrEnum):
    ACCESS_CONSOLE = "crm.access_console"
    ACCESS_BACKOFFICE = "crm.access_backoffice"
    ACCESS_PARTNER_PORTAL = "crm.access_partner_portal"
    ACCESS_SELFCARE = "crm.access_selfcare"
    MANAGE_API_KEYS = "crm.manage_api_keys"
    VIEW_ANY_CUSTOMER = "crm.view_any_customer"
    MANAGE_CUSTOMER = "crm.manage_customer"
    ADD_INTERACTION = "crm.add_interaction"
    REVIEW_KYC = "crm.review_kyc"
    CHANGE_SUBSCRIBER_STATUS = "crm.change_subscriber_status"
    TERMINATE_SUBSCRIBER = "crm.terminate_subscriber"


# What an admin may grant to an API key (machine clients never open a front end).
API_KEY_GRANTABLE: tuple[CrmPerm | OrdersPerm, ...] = (
    CrmPerm.VIEW_ANY_CUSTOMER,
    CrmPerm.MANAGE_CUSTOMER,
    CrmPerm.ADD_INTERACTION,
    CrmPerm.CHANGE_SUBSCRIBER_STATUS,
    CrmPerm.TERMINATE_SUBSCRIBER,
    OrdersPerm.PLACE_ORDER,
)
