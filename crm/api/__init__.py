"""REST API v1 for customers, billing accounts and subscribers (mounted at /api/v1/).

One APIView per operation (STYLE 18). Each one parses input with its nested InputSerializer,
fetches through a scoped selector (someone else's object answers 404), checks the write
permission only then (so a stranger cannot learn that an object exists), calls one service and
renders its nested OutputSerializer. Errors have the one shape of common.api.exception_handler.
"""

from __future__ import annotations

from crm.api.accounts import AccountCreateApi, AccountDetailApi, AccountListApi, AccountUpdateApi
from crm.api.base import MethodRouter, not_found
from crm.api.customers import (
    CustomerCreateApi,
    CustomerDetailApi,
    CustomerListApi,
    CustomerUpdateApi,
)
from crm.api.subscribers import (
    SubscriberActivateApi,
    SubscriberCreateApi,
    SubscriberDetailApi,
    SubscriberListApi,
    SubscriberResumeApi,
    SubscriberSuspendApi,
    SubscriberTerminateApi,
)

__all__ = [
    "AccountCreateApi",
    "AccountDetailApi",
    "AccountListApi",
    "AccountUpdateApi",
    "CustomerCreateApi",
    "CustomerDetailApi",
    "CustomerListApi",
    "CustomerUpdateApi",
    "MethodRouter",
    "SubscriberActivateApi",
    "SubscriberCreateApi",
    "SubscriberDetailApi",
    "SubscriberListApi",
    "SubscriberResumeApi",
    "SubscriberSuspendApi",
    "SubscriberTerminateApi",
    "not_found",
]
