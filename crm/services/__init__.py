"""Every write to customers, accounts, subscribers, interactions and KYC documents.

One module per entity; this package re-exports their services so callers write
`from crm.services import customer_create`.
"""

from __future__ import annotations

from crm.services._shared import readable_number, sequence_take
from crm.services.accounts import account_create, account_update
from crm.services.customers import (
    CUSTOMER_EDITABLE,
    AddressData,
    customer_create,
    customer_update,
)
from crm.services.interactions import interaction_add
from crm.services.kyc import (
    customer_kyc_status,
    kyc_document_add,
    kyc_document_review,
    kyc_expiries_apply,
)
from crm.services.subscribers import (
    subscriber_create,
    subscriber_get_locked,
    subscriber_plan_set,
    subscriber_sim_change,
    subscriber_status_change,
)

__all__ = [
    "CUSTOMER_EDITABLE",
    "AddressData",
    "account_create",
    "account_update",
    "customer_create",
    "customer_kyc_status",
    "customer_update",
    "interaction_add",
    "kyc_document_add",
    "kyc_document_review",
    "kyc_expiries_apply",
    "readable_number",
    "sequence_take",
    "subscriber_create",
    "subscriber_get_locked",
    "subscriber_plan_set",
    "subscriber_sim_change",
    "subscriber_status_change",
]
