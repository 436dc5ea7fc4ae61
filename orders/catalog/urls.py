"""Back-office catalog pages, mounted at /backoffice/catalog/."""

from __future__ import annotations

from django.urls import path

from orders.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_home, name="home"),
    path("plans/new/", views.plan_create, name="plan-create"),
    path("plans/<uuid:public_id>/", views.plan_detail, name="plan-detail"),
    path("plans/<uuid:public_id>/edit/", views.plan_edit, name="plan-edit"),
    path("plans/<uuid:public_id>/allowances/", views.plan_allowances, name="plan-allowances"),
    path("plans/<uuid:public_id>/tiers/", views.plan_tiers, name="plan-tiers"),
    path("plans/<uuid:public_id>/new-version/", views.plan_new_version, name="plan-new-version"),
    path("plans/<uuid:public_id>/publish/", views.plan_publish, name="plan-publish"),
    path("plans/<uuid:public_id>/retire/", views.plan_retire, name="plan-retire"),
    path("addons/new/", views.addon_create, name="addon-create"),
    path("addons/<uuid:public_id>/", views.addon_detail, name="addon-detail"),
    path("addons/<uuid:public_id>/edit/", views.addon_edit, name="addon-edit"),
    path("addons/<uuid:public_id>/allowances/", views.addon_allowances, name="addon-allowances"),
    path("addons/<uuid:public_id>/retire/", views.addon_retire, name="addon-retire"),
    path("devices/new/", views.device_create, name="device-create"),
    path("devices/<uuid:public_id>/", views.device_detail, name="device-detail"),
    path("devices/<uuid:public_id>/edit/", views.device_edit, name="device-edit"),
    path("devices/<uuid:public_id>/stock/", views.device_stock_add, name="device-stock"),
    path("devices/<uuid:public_id>/retire/", views.device_retire, name="device-retire"),
]
