from __future__ import annotations

from django.urls import include, path

from crm.views import backoffice, balances, console, usage

app_name = "crm"

urlpatterns = [
    path("console/", include(console.urlpatterns)),
    path("console/", include(usage.urlpatterns)),
    path("console/", include(balances.urlpatterns)),
    path("backoffice/", include(backoffice.urlpatterns)),
]
