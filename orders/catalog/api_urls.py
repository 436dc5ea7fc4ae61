"""Catalog API, mounted at /api/v1/catalog/: read-only and open to every signed-in caller."""

from __future__ import annotations

from django.urls import path

from orders.catalog import api

app_name = "catalog-api"

urlpatterns = [
    path("plans/", api.PlanListApi.as_view(), name="plan-list"),
    path("plans/<uuid:public_id>/", api.PlanDetailApi.as_view(), name="plan-detail"),
    path("addons/", api.AddOnListApi.as_view(), name="addon-list"),
    path("devices/", api.DeviceListApi.as_view(), name="device-list"),
    path(
        "subscribers/<uuid:public_id>/eligible-addons/",
        api.SubscriberEligibleAddOnListApi.as_view(),
        name="subscriber-eligible-addons",
    ),
]
