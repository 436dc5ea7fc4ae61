"""Online charging API, mounted at /api/v1/charging/."""

from __future__ import annotations

from django.urls import path

from billing.charging import api

app_name = "charging-api"

urlpatterns = [
    path("events/", api.ChargingEventApi.as_view(), name="event"),
    path("balances/", api.ChargingBalanceApi.as_view(), name="balance"),
]
