"""REST API v1 (mounted at /api/v1/): one APIView per operation, routed by HTTP method."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from crm import api

app_name = "api"

urlpatterns: list[URLPattern] = [
    path(
        "customers/",
        api.MethodRouter.serving(get=api.CustomerListApi, post=api.CustomerCreateApi),
        name="customer-list",
    ),
    path(
        "customers/<uuid:public_id>/",
        api.MethodRouter.serving(get=api.CustomerDetailApi, patch=api.CustomerUpdateApi),
        name="customer-detail",
    ),
    path(
        "accounts/",
        api.MethodRouter.serving(get=api.AccountListApi, post=api.AccountCreateApi),
        name="account-list",
    ),
    path(
        "accounts/<uuid:public_id>/",
        api.MethodRouter.serving(get=api.AccountDetailApi, patch=api.AccountUpdateApi),
        name="account-detail",
    ),
    path(
        "subscribers/",
        api.MethodRouter.serving(get=api.SubscriberListApi, post=api.SubscriberCreateApi),
        name="subscriber-list",
    ),
    path(
        "subscribers/<uuid:public_id>/",
        api.SubscriberDetailApi.as_view(),
        name="subscriber-detail",
    ),
    path(
        "subscribers/<uuid:public_id>/activate/",
        api.SubscriberActivateApi.as_view(),
        name="subscriber-activate",
    ),
    path(
        "subscribers/<uuid:public_id>/suspend/",
        api.SubscriberSuspendApi.as_view(),
        name="subscriber-suspend",
    ),
    path(
        "subscribers/<uuid:public_id>/resume/",
        api.SubscriberResumeApi.as_view(),
        name="subscriber-resume",
    ),
    path(
        "subscribers/<uuid:public_id>/terminate/",
        api.SubscriberTerminateApi.as_view(),
        name="subscriber-terminate",
    ),
    # Anything else under /api/v1/ ending in a slash, a malformed public_id included.
    re_path(r"^(?:.*/)?$", api.not_found, name="not-found"),
]
