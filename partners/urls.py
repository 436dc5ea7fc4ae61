from __future__ import annotations

from django.urls import path

from partners import views

app_name = "partners"

urlpatterns = [
    path("", views.customer_list, name="home"),
    path("customers/<uuid:public_id>/", views.customer_detail, name="customer-detail"),
]
