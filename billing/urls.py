from __future__ import annotations

from django.urls import URLPattern

app_name = "billing"

# Pages and API endpoints arrive with the issues that build this app (see DESIGN.md).
urlpatterns: list[URLPattern] = []
