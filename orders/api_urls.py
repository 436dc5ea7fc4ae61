"""Orders API (mounted at /api/v1/orders/): a plain APIView per URL.

Any other URL below it (a malformed public_id included) falls through to the catch-all of
crm.api_urls and answers 404 in the error shape.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from orders.api import orders

app_name = "orders-api"

urlpatterns: list[URLPattern] = [
    path("", orders.OrderListCreateApi.as_view(), name="order-list"),
    path("<uuid:public_id>/", orders.OrderDetailApi.as_view(), name="order-detail"),
    path("<uuid:public_id>/submit/", orders.OrderSubmitApi.as_view(), name="order-submit"),
    path("<uuid:public_id>/cancel/", orders.OrderCancelApi.as_view(), name="order-cancel"),
]
