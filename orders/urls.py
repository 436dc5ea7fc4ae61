"""The CSR console's order pages, mounted under /console/orders/."""

from __future__ import annotations

from django.urls import path

from orders import views
from orders.models import Order

app_name = "orders"

urlpatterns = [
    path(
        "accounts/<uuid:public_id>/new-line/",
        views.order_new_connection,
        name="order-new-connection",
    ),
    path("<uuid:public_id>/", views.order_detail, name="order-detail"),
    path("<uuid:public_id>/submit/", views.order_place, name="order-place"),
    path("<uuid:public_id>/cancel/", views.order_cancel, name="order-cancel"),
    path("lines/<uuid:public_id>/plan/", views.order_plan_change, name="order-plan-change"),
    path("lines/<uuid:public_id>/add-on/", views.order_addon, name="order-addon"),
    path("lines/<uuid:public_id>/sim-swap/", views.order_sim_swap, name="order-sim-swap"),
    path(
        "lines/<uuid:public_id>/activate/",
        views.order_service_change,
        {"type": Order.Type.ACTIVATE},
        name="order-activate",
    ),
    path(
        "lines/<uuid:public_id>/suspend/",
        views.order_service_change,
        {"type": Order.Type.SUSPEND},
        name="order-suspend",
    ),
    path(
        "lines/<uuid:public_id>/resume/",
        views.order_service_change,
        {"type": Order.Type.RESUME},
        name="order-resume",
    ),
    path(
        "lines/<uuid:public_id>/terminate/",
        views.order_service_change,
        {"type": Order.Type.TERMINATE},
        name="order-terminate",
    ),
]
