"""Usage API, mounted at /api/v1/usage/."""

from __future__ import annotations

from django.urls import path

from billing.usage import api

app_name = "usage-api"

urlpatterns = [
    path("batches/", api.UsageBatchListCreateApi.as_view(), name="batch-list"),
    path("batches/<uuid:public_id>/", api.UsageBatchDetailApi.as_view(), name="batch-detail"),
    path("rejects/", api.UsageRejectListApi.as_view(), name="reject-list"),
    path("rejects/recycle/", api.UsageRejectRecycleApi.as_view(), name="reject-recycle"),
]
