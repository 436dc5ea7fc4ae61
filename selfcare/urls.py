from __future__ import annotations

from django.urls import path

from selfcare import views

app_name = "selfcare"

urlpatterns = [
    path("", views.account_overview, name="home"),
    path("lines/<uuid:public_id>/", views.line_detail, name="line-detail"),
]
