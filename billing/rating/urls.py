"""Back-office pages of tariffs, mounted at /backoffice/tariffs/."""

from __future__ import annotations

from django.urls import path

from billing.rating import views

app_name = "tariffs"

urlpatterns = [
    path("", views.tariff_list, name="tariff-list"),
    path("new/", views.tariff_create, name="tariff-create"),
    path("quote/", views.tariff_quote, name="quote"),
    path("versions/<uuid:public_id>/", views.version_detail, name="version-detail"),
    path("versions/<uuid:public_id>/publish/", views.version_publish, name="version-publish"),
    path("versions/<uuid:public_id>/retire/", views.version_retire, name="version-retire"),
    path("versions/<uuid:public_id>/export/", views.version_export, name="version-export"),
    path(
        "versions/<uuid:public_id>/<slug:section>/add/",
        views.version_row_add,
        name="version-row-add",
    ),
    path(
        "versions/<uuid:public_id>/<slug:section>/change/",
        views.version_row_change,
        name="version-row-change",
    ),
    path(
        "versions/<uuid:public_id>/<slug:section>/remove/",
        views.version_row_remove,
        name="version-row-remove",
    ),
    path("<slug:code>/", views.tariff_detail, name="tariff-detail"),
    path("<slug:code>/edit/", views.tariff_edit, name="tariff-edit"),
    path("<slug:code>/draft/", views.tariff_draft, name="tariff-draft"),
    path("<slug:code>/import/", views.tariff_import, name="tariff-import"),
]
