"""Online charging API, mounted at /api/v1/charging/."""

from __future__ import annotations

from django.urls import path

from billing.charging import api

app_name = "charging-api"

urlpatterns = [
    path("events/", api.ChargingEventApi.as_view(), name="event"),
    path("balances/", api.ChargingBalanceApi.as_view(), name="balance"),
    path("sessions/", api.ChargingSessionInitiateApi.as_view(), name="session-initiate"),
    path(
        "sessions/<str:session_id>/update/",
        api.ChargingSessionUpdateApi.as_view(),
        name="session-update",
    ),
    path(
        "sessions/<str:session_id>/terminate/",
        api.ChargingSessionTerminateApi.as_view(),
        name="session-terminate",
    ),
]
