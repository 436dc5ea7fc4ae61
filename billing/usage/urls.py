"""Back-office usage pages, mounted at /backoffice/usage/."""

from __future__ import annotations

from django.urls import path

from billing.usage import views

app_name = "usage"

urlpatterns = [
    path("", views.usage_batch_list, name="batch-list"),
    path("upload/", views.usage_upload, name="upload"),
    path("batches/<uuid:public_id>/", views.usage_batch_detail, name="batch-detail"),
    path("rejects/", views.usage_reject_queue, name="reject-queue"),
    path("rejects/recycle/", views.usage_reject_recycle, name="reject-recycle"),
    path("mappings/", views.usage_mapping_list, name="mapping-list"),
    path("mappings/new/", views.usage_mapping_create, name="mapping-create"),
    path("mappings/<uuid:public_id>/", views.usage_mapping_edit, name="mapping-edit"),
]
