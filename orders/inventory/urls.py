"""Back office pages for numbers and SIMs, mounted at /backoffice/inventory/."""

from __future__ import annotations

from django.urls import path

from orders.inventory import views

app_name = "inventory"

urlpatterns = [
    path("", views.inventory_home, name="home"),
    path("numbers/", views.msisdn_list, name="msisdn-list"),
    path("numbers/import/", views.msisdn_range_import, name="msisdn-range-import"),
    path("numbers/allocate/", views.msisdn_allocate, name="msisdn-allocate"),
    path("numbers/<str:number>/", views.msisdn_detail, name="msisdn-detail"),
    path(
        "numbers/<str:number>/release/",
        views.msisdn_change,
        {"action": "release"},
        name="msisdn-release",
    ),
    path(
        "numbers/<str:number>/return/",
        views.msisdn_change,
        {"action": "return"},
        name="msisdn-return",
    ),
    path(
        "numbers/<str:number>/end-quarantine/",
        views.msisdn_change,
        {"action": "quarantine-end"},
        name="msisdn-quarantine-end",
    ),
    path("sims/", views.sim_list, name="sim-list"),
    path("sims/allocate/", views.sim_allocate, name="sim-allocate"),
    path("sims/batches/", views.sim_batch_list, name="sim-batch-list"),
    path("sims/batches/import/", views.sim_batch_import, name="sim-batch-import"),
    path("sims/<str:iccid>/", views.sim_detail, name="sim-detail"),
    path("sims/<str:iccid>/release/", views.sim_change, {"action": "release"}, name="sim-release"),
    path("sims/<str:iccid>/return/", views.sim_change, {"action": "return"}, name="sim-return"),
    path("sims/<str:iccid>/block/", views.sim_change, {"action": "block"}, name="sim-block"),
    path("sims/<str:iccid>/damaged/", views.sim_change, {"action": "damaged"}, name="sim-damaged"),
]
