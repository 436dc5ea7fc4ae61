"""Tariff API, mounted at /api/v1/ (before crm's catch-all)."""

from __future__ import annotations

from django.urls import path

from billing.rating import api

app_name = "tariffs-api"

urlpatterns = [
    path("tariffs/", api.TariffListApi.as_view(), name="tariff-list"),
    path("tariffs/<slug:code>/", api.TariffDetailApi.as_view(), name="tariff-detail"),
    path("rating/quote/", api.RatingQuoteApi.as_view(), name="rating-quote"),
]
