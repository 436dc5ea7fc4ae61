"""REST API v1 (mounted at /api/v1/): a plain APIView per URL, one method per operation."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from common.api import not_found
from crm.api import accounts, customers, subscribers, usage

app_name = "api"

urlpatterns: list[URLPattern] = [
    path("customers/", customers.CustomerListCreateApi.as_view(), name="customer-list"),
    path(
        "customers/<uuid:public_id>/",
        customers.CustomerDetailUpdateApi.as_view(),
        name="customer-detail",
    ),
    path("accounts/", accounts.AccountListCreateApi.as_view(), name="account-list"),
    path(
        "accounts/<uuid:public_id>/",
        accounts.AccountDetailUpdateApi.as_view(),
        name="account-detail",
    ),
    path("subscribers/", subscribers.SubscriberListApi.as_view(), name="subscriber-list"),
    path(
        "subscribers/<uuid:public_id>/",
        subscribers.SubscriberDetailApi.as_view(),
        name="subscriber-detail",
    ),
    path(
        "subscribers/<uuid:public_id>/activate/",
        subscribers.SubscriberActivateApi.as_view(),
        name="subscriber-activate",
    ),
    path(
        "subscribers/<uuid:public_id>/suspend/",
        subscribers.SubscriberSuspendApi.as_view(),
        name="subscriber-suspend",
    ),
    path(
        "subscribers/<uuid:public_id>/resume/",
        subscribers.SubscriberResumeApi.as_view(),
        name="subscriber-resume",
    ),
    path(
        "subscribers/<uuid:public_id>/terminate/",
        subscribers.SubscriberTerminateApi.as_view(),
        name="subscriber-terminate",
    ),
    path(
        "subscribers/<uuid:public_id>/usage/",
        usage.SubscriberUsageListApi.as_view(),
        name="subscriber-usage",
    ),
    path(
        "subscribers/<uuid:public_id>/usage/totals/",
        usage.SubscriberUsageTotalsApi.as_view(),
        name="subscriber-usage-totals",
    ),
    path(
        "subscribers/<uuid:public_id>/usage.csv",
        usage.SubscriberUsageCsvApi.as_view(),
        name="subscriber-usage-csv",
    ),
    # Anything else under /api/v1/, a malformed public_id included, with or without a slash.
    re_path(r"^", not_found, name="not-found"),
]
